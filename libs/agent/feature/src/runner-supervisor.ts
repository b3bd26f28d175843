import { constants } from 'node:os';

import { ApiError, type HeartbeatClient, NetworkError } from '@stratavore/api-client/heartbeat';
import {
  type HeartbeatAnswer,
  type HeartbeatExit,
  type HeartbeatRequest,
  type HeartbeatStatus,
} from '@stratavore/contracts/heartbeat';
import { type Clock } from '@stratavore/core';

import { AgentException } from './agent.exception';
import { type AgentLogger } from './agent-logger';
import { fullJitterDelay } from './backoff';
import { type ChildExit, type ChildLauncher, type RunningChild } from './child-process';
import { type ResourceSample, type ResourceSampler } from './process-tree-sampler';
import { type Scheduler } from './scheduler';
import { type UsageSource } from './usage-source';

/** Why the agent stopped its child. */
export type StopReason = 'desired-state' | 'runner-ended' | 'agent-signal';

/** How a run ended. */
export interface AgentOutcome {
  /** The agent's exit code: the child's, or 128 + signal number, or 127 when it never started. */
  readonly exitCode: number;
  readonly exit: HeartbeatExit;
  /** `delivered`, `runner-ended` (409: ingest already closed the runner) or `undelivered`. */
  readonly finalReport: 'delivered' | 'runner-ended' | 'undelivered';
  readonly stopReason: StopReason | null;
}

export interface RunnerSupervisorOptions {
  readonly runnerId: string;
  readonly command: readonly string[];
  readonly agentVersion: string;
  /** Until heartbeat-ingest answers another `intervalMs`. */
  readonly intervalMs: number;
  readonly stopTimeoutMs: number;
  readonly finalReportTimeoutMs: number;
  /** Upper bound of one backoff delay. Default 30 s. */
  readonly backoffCapMs?: number;
  /** Aborting it asks the agent to stop (SIGTERM or SIGINT to the agent). */
  readonly stopSignal?: AbortSignal;
  /**
   * Called once, when the first heartbeat (or the final report of a command that never started)
   * got its answer or failed: the agent loads then what it left out of its start-up.
   */
  readonly onFirstHeartbeat?: () => void;
}

export interface RunnerSupervisorDeps {
  readonly client: HeartbeatClient;
  readonly launcher: ChildLauncher;
  readonly sampler: ResourceSampler;
  readonly usage: UsageSource;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  /** Uniform in [0, 1): the jitter. */
  readonly random: () => number;
  readonly logger: AgentLogger;
}

type Delivery =
  | { readonly kind: 'delivered'; readonly answer: HeartbeatAnswer | null }
  | { readonly kind: 'retry' }
  | { readonly kind: 'runner-ended' }
  | { readonly kind: 'refused'; readonly status: number };

const DEFAULT_BACKOFF_CAP_MS = 30_000;
/**
 * First delay of the quick retries of a runner not registered yet: before heartbeat-ingest has
 * accepted any heartbeat of this runner, a 401 usually means it has not consumed
 * `runner.launched` yet (milliseconds behind the launch), so waiting a whole interval would
 * make the first heartbeat, and the runner's `running` state, an interval late.
 */
const REGISTRATION_RETRY_BASE_MS = 100;
const EXIT_CODE_NOT_STARTED = 127;
const NO_USAGE: ResourceSample = { cpuPercent: 0, memoryBytes: 0 };

/**
 * Runs the child and reports on it: a heartbeat as soon as it started, then one per interval,
 * one at a time (the next is sent only after the previous one got its answer or failed); with
 * full-jitter backoff while heartbeat-ingest is unreachable or failing; and a final report with
 * the exit, retried until delivered or the final-report timeout passes.
 */
export class RunnerSupervisor {
  private seq = 0;
  private intervalMs: number;
  private stopReason: StopReason | null = null;
  private child: RunningChild | undefined;
  private childExit: ChildExit | undefined;
  private cancelKill: (() => void) | undefined;
  /** Ends the current pause between heartbeats (the usage source reported a change). */
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** heartbeat-ingest has accepted a heartbeat of this runner (it knows the runner). */
  private accepted = false;
  private firstHeartbeatDone = false;

  constructor(
    private readonly options: RunnerSupervisorOptions,
    private readonly deps: RunnerSupervisorDeps,
  ) {
    this.intervalMs = options.intervalMs;
  }

  async run(): Promise<AgentOutcome> {
    const { logger } = this.deps;
    try {
      this.child = await this.deps.launcher.launch(this.options.command);
    } catch (error) {
      logger.error(
        { err: error instanceof AgentException ? error.message : String(error) },
        'could not start the command',
      );
      const exit: HeartbeatExit = { code: EXIT_CODE_NOT_STARTED, signal: null };
      const finalReport = await this.sendFinalReport(null, exit);
      return { exitCode: EXIT_CODE_NOT_STARTED, exit, finalReport, stopReason: null };
    }
    const child = this.child;
    logger.info({ pid: child.pid, command: this.options.command[0] }, 'child started');
    const exitedNow = child.exited.then((exit) => {
      this.childExit = exit;
      this.cancelKill?.();
    });

    this.deps.usage.onChange?.(() => {
      this.woken = true;
      this.wakeUp?.();
    });
    const onStopSignal = () => this.requestStop('agent-signal');
    this.options.stopSignal?.addEventListener('abort', onStopSignal, { once: true });
    if (this.options.stopSignal?.aborted) onStopSignal();
    try {
      await this.heartbeatWhileRunning(child, exitedNow);
    } finally {
      this.options.stopSignal?.removeEventListener('abort', onStopSignal);
    }

    const childExit = await child.exited;
    const exit: HeartbeatExit = { code: childExit.code, signal: childExit.signal };
    logger.info({ pid: child.pid, ...exit }, 'child exited');
    const finalReport = await this.sendFinalReport(child.pid, exit);
    return { exitCode: exitCodeOf(childExit), exit, finalReport, stopReason: this.stopReason };
  }

  /** SIGTERM to the child's process group now, SIGKILL after the stop timeout. Idempotent. */
  requestStop(reason: StopReason): void {
    const child = this.child;
    if (this.stopReason !== null || child === undefined || this.childExit !== undefined) return;
    this.stopReason = reason;
    this.deps.logger.info(
      { reason, pid: child.pid, stopTimeoutMs: this.options.stopTimeoutMs },
      'stopping the child (SIGTERM to its process group)',
    );
    child.signalGroup('SIGTERM');
    this.cancelKill = this.deps.scheduler.setTimer(this.options.stopTimeoutMs, () => {
      if (this.childExit !== undefined) return;
      this.deps.logger.warn(
        { pid: child.pid, stopTimeoutMs: this.options.stopTimeoutMs },
        'child still running after the stop timeout; SIGKILL to its process group',
      );
      child.signalGroup('SIGKILL');
    });
  }

  private async heartbeatWhileRunning(child: RunningChild, exited: Promise<void>): Promise<void> {
    let failures = 0;
    let unregistered = 0;
    while (this.childExit === undefined) {
      const startedAt = this.nowMs();
      // Whatever changed so far goes out with this heartbeat.
      this.woken = false;
      const delivery = await this.beat('running', child.pid);
      if (this.childExit !== undefined) return;

      let delayMs = this.intervalMs;
      switch (delivery.kind) {
        case 'delivered':
          if (failures > 0) {
            this.deps.logger.info({ failures }, 'heartbeats delivered again');
          }
          failures = 0;
          if (delivery.answer !== null) {
            this.intervalMs = delivery.answer.intervalMs;
            if (delivery.answer.desiredState === 'stop') this.requestStop('desired-state');
          }
          delayMs = Math.max(0, this.intervalMs - (this.nowMs() - startedAt));
          break;
        case 'retry':
          failures++;
          delayMs = this.backoff(failures);
          this.deps.logger.warn(
            { failures, retryInMs: delayMs },
            'heartbeat not delivered; the child keeps running',
          );
          break;
        case 'runner-ended':
          this.requestStop('runner-ended');
          break;
        case 'refused':
          // Not known yet: quick full-jitter retries (100 ms, 200 ms, ...) up to the interval.
          if (delivery.status === 401 && !this.accepted) {
            unregistered++;
            delayMs = fullJitterDelay(
              unregistered,
              {
                baseMs: Math.min(REGISTRATION_RETRY_BASE_MS, this.intervalMs),
                capMs: this.intervalMs,
              },
              this.deps.random,
            );
          }
          break;
      }
      const wake = new AbortController();
      // A change reported since the heartbeat was built goes out at once, unless backing off.
      if (delivery.kind === 'delivered') {
        if (this.woken) delayMs = 0;
        this.wakeUp = () => wake.abort();
      }
      await Promise.race([this.deps.scheduler.sleep(delayMs, wake.signal), exited]);
      this.wakeUp = undefined;
      wake.abort();
    }
  }

  private async sendFinalReport(
    pid: number | null,
    exit: HeartbeatExit,
  ): Promise<AgentOutcome['finalReport']> {
    const deadline = this.nowMs() + this.options.finalReportTimeoutMs;
    let failures = 0;
    for (;;) {
      const delivery = await this.beat('exited', pid, exit);
      switch (delivery.kind) {
        case 'delivered':
          return 'delivered';
        case 'runner-ended':
          return 'runner-ended';
        case 'refused':
          return 'undelivered';
        case 'retry': {
          failures++;
          const remaining = deadline - this.nowMs();
          if (remaining <= 0) {
            this.deps.logger.error(
              { failures, finalReportTimeoutMs: this.options.finalReportTimeoutMs },
              'giving up on the final report',
            );
            return 'undelivered';
          }
          await this.deps.scheduler.sleep(Math.min(this.backoff(failures), remaining));
        }
      }
    }
  }

  /** Sends one heartbeat. Counters are read fresh each time: they are cumulative. */
  private async beat(
    status: HeartbeatStatus,
    pid: number | null,
    exit?: HeartbeatExit,
  ): Promise<Delivery> {
    const usage = status === 'exited' || pid === null ? NO_USAGE : await this.sample(pid);
    const session = this.deps.usage.session?.();
    const body: HeartbeatRequest = {
      runnerId: this.options.runnerId,
      seq: ++this.seq,
      sentAt: this.deps.clock.now().toISOString(),
      status,
      pid,
      cpuPercent: usage.cpuPercent,
      memoryBytes: usage.memoryBytes,
      agentVersion: this.options.agentVersion,
      sessionId: this.deps.usage.sessionId(),
      counters: this.deps.usage.counters(),
      ...(session === undefined ? {} : { session }),
      ...(exit === undefined ? {} : { exit }),
    };
    try {
      const answer = await this.deps.client.sendHeartbeat(body);
      this.accepted = true;
      return { kind: 'delivered', answer };
    } catch (error) {
      return this.classify(error, body.seq, status);
    } finally {
      if (!this.firstHeartbeatDone) {
        this.firstHeartbeatDone = true;
        this.options.onFirstHeartbeat?.();
      }
    }
  }

  private classify(error: unknown, seq: number, status: HeartbeatStatus): Delivery {
    const { logger } = this.deps;
    if (error instanceof NetworkError) {
      logger.warn(
        { seq, failure: error.failure, err: error.message },
        'heartbeat-ingest unreachable',
      );
      return { kind: 'retry' };
    }
    if (!(error instanceof ApiError)) {
      logger.error({ seq, err: String(error) }, 'heartbeat failed unexpectedly');
      return { kind: 'retry' };
    }
    const fields = { seq, status: error.status, code: error.code, err: error.message };
    if (error.status >= 200 && error.status < 300) {
      // Received (the answer just did not parse): nothing to resend.
      logger.error({ ...fields, fieldErrors: error.fieldErrors }, 'unexpected heartbeat answer');
      this.accepted = true;
      return { kind: 'delivered', answer: null };
    }
    if (error.retryable) {
      logger.warn(fields, 'heartbeat-ingest failed');
      return { kind: 'retry' };
    }
    switch (error.status) {
      case 401:
        if (!this.accepted && status !== 'exited') {
          logger.warn(
            fields,
            'heartbeat refused (401) before any was accepted: heartbeat-ingest may not know this runner yet; retrying shortly',
          );
        } else {
          logger.error(fields, 'heartbeat refused: the runner token is not valid (401)');
        }
        return { kind: 'refused', status: 401 };
      case 403:
        logger.error(fields, 'heartbeat refused: the token belongs to another runner (403)');
        return { kind: 'refused', status: 403 };
      case 409:
        logger.warn(
          fields,
          status === 'exited'
            ? 'the runner had already ended (409)'
            : 'the runner has ended (409); stopping the child',
        );
        return { kind: 'runner-ended' };
      default:
        logger.error(
          { ...fields, fieldErrors: error.fieldErrors },
          'heartbeat rejected; this agent sends a body ingest does not accept',
        );
        return { kind: 'refused', status: error.status };
    }
  }

  private async sample(pid: number): Promise<ResourceSample> {
    try {
      return await this.deps.sampler.sample(pid);
    } catch (error) {
      this.deps.logger.warn({ pid, err: String(error) }, 'could not measure the child');
      return NO_USAGE;
    }
  }

  private backoff(failures: number): number {
    return fullJitterDelay(
      failures,
      { baseMs: this.intervalMs, capMs: this.options.backoffCapMs ?? DEFAULT_BACKOFF_CAP_MS },
      this.deps.random,
    );
  }

  private nowMs(): number {
    return this.deps.clock.now().getTime();
  }
}

function exitCodeOf(exit: ChildExit): number {
  if (exit.code !== null) return exit.code;
  const number = exit.signal === null ? undefined : constants.signals[exit.signal];
  return number === undefined ? 1 : 128 + number;
}
