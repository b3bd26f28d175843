import { execFileSync } from 'node:child_process';

import { type DynamicModule, Module } from '@nestjs/common';
import { CLOCK, ID_GENERATOR, ManualClock, RandomIdGenerator, SystemClock } from '@stratavore/core';
import { createMessagingDataSource, MESSAGE_BUS, type MessageBus } from '@stratavore/messaging';
import { runMigrations } from '@stratavore/persistence';
import { type Runner } from '@stratavore/runner-manager-domain';

import {
  type LaunchedAgent,
  type LaunchSpec,
  type RunnerLauncher,
  type RunnerSignal,
} from './runner-launcher.port';
import {
  bufferLogBytes,
  EMPTY_LOG_WINDOW,
  type LogWindow,
  type LogWindowRequest,
  readLogWindow,
} from './runner-log-window';

export const TEST_SIGNING_KEY = 'runner-manager-test-signing-key';

/** Runs git in `cwd` as a test identity (no signing), with C-locale output; its stdout, trimmed. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    [
      '-c',
      'user.name=Stratavore Test',
      '-c',
      'user.email=test@stratavore.invalid',
      '-c',
      'commit.gpgsign=false',
      '-C',
      cwd,
      ...args,
    ],
    { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  ).trim();
}

@Module({})
class RuntimeStandIn {}

/**
 * What the service runtime provides globally to RunnerManagerModule, for a test that composes
 * the module alone: the given bus, the system clock and random ids.
 */
export function runtimeStandIn(bus: MessageBus): DynamicModule {
  return {
    module: RuntimeStandIn,
    global: true,
    providers: [
      { provide: MESSAGE_BUS, useValue: bus },
      { provide: CLOCK, useValue: new SystemClock() },
      { provide: ID_GENERATOR, useValue: new RandomIdGenerator() },
    ],
    exports: [MESSAGE_BUS, CLOCK, ID_GENERATOR],
  };
}

/** Migrates the `messaging` schema (the outbox) of a test database. */
export async function migrateMessaging(url: string): Promise<void> {
  const dataSource = createMessagingDataSource({ url, poolSize: 1 });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/**
 * A launcher that starts nothing: records launches, signals and reaps; can be told to fail.
 * Logs are whatever a test puts in `logs`; runners of another host than `test-host` without one
 * are out of reach.
 */
export class FakeLauncher implements RunnerLauncher {
  readonly kind = 'local' as const;
  readonly launches: LaunchSpec[] = [];
  readonly signals: Array<{ runnerId: string; signal: RunnerSignal }> = [];
  readonly reaped: Runner[] = [];
  readonly logs = new Map<string, Buffer>();
  failWith: Error | null = null;
  /** What {@link agentHeartbeatUrl} answers (attached runners' agents report there). */
  heartbeatUrl = 'http://127.0.0.1:7414';
  private nextPid = 40_000;

  agentHeartbeatUrl(): string {
    return this.heartbeatUrl;
  }

  launch(spec: LaunchSpec): Promise<LaunchedAgent> {
    this.launches.push(spec);
    if (this.failWith) return Promise.reject(this.failWith);
    return Promise.resolve({ pid: this.nextPid++, host: 'test-host' });
  }

  signal(runner: Runner, signal: RunnerSignal): Promise<void> {
    this.signals.push({ runnerId: runner.id, signal });
    return Promise.resolve();
  }

  reap(runner: Runner): Promise<void> {
    this.reaped.push(runner);
    return Promise.resolve();
  }

  readLog(runner: Runner, request: LogWindowRequest): Promise<LogWindow | null> {
    const log = this.logs.get(runner.id);
    if (log) return readLogWindow(bufferLogBytes(log), request);
    return Promise.resolve(
      runner.host === null || runner.host === 'test-host' ? EMPTY_LOG_WINDOW : null,
    );
  }
}

export function testDeps() {
  return { clock: new ManualClock('2026-11-24T10:00:00Z'), ids: new RandomIdGenerator() };
}
