import { type RegistryWrites } from '@stratavore/heartbeat-ingest-data-access';
import { type InboxResult } from '@stratavore/messaging';

import { hashRunnerToken } from './heartbeat-auth';
import { launchedEvent, newRunner, runnerEvent } from './heartbeat-ingest.int-test-support';
import {
  registryChangeOf,
  RunnerRegistryConsumer,
  RunnerRegistryFollower,
} from './runner-registry.consumer';
import { type RegistryChange } from './runner-registry-cache';

/** An inbox over a registry that knows the runners in `known`; strict about what is called. */
class FakeRegistryInbox {
  readonly known = new Set<string>();
  readonly seen = new Set<string>();
  inserted = true;

  runOnce(
    _consumer: string,
    eventId: string,
    work: (registry: RegistryWrites) => Promise<void>,
  ): Promise<InboxResult> {
    if (this.seen.has(eventId)) return Promise.resolve('duplicate');
    const registry: RegistryWrites = {
      register: (r) => {
        this.known.add(r.runnerId);
        return Promise.resolve(this.inserted);
      },
      setDesiredState: (id) => Promise.resolve(this.known.has(id)),
      markEnded: (id) => Promise.resolve(this.known.has(id)),
    };
    return work(registry).then(() => {
      this.seen.add(eventId);
      return 'processed' as const;
    });
  }
}

function consumerWith(inbox: FakeRegistryInbox) {
  const changes: RegistryChange[] = [];
  const consumer = new RunnerRegistryConsumer({
    store: inbox,
    defaultIntervalMs: 10_000,
    logger: { warn: () => undefined },
    committed: (change) => changes.push(change),
  });
  return { consumer, changes };
}

/** The registry events of runner-manager, with the data their contracts require. */
function stateEvent(type: string, ref: { runnerId: string; projectId: string }) {
  const extra: Record<string, Record<string, unknown>> = {
    'runner.stopping': { requestedBy: 'user' },
    'runner.stopped': { exitCode: 0 },
    'runner.completed': { exitCode: 0 },
    'runner.failed': { reason: 'nonzero_exit', exitCode: 2 },
  };
  return runnerEvent(type, { ...ref, ...extra[type] });
}

const delivered = (envelope: ReturnType<typeof runnerEvent>) => ({
  envelope,
  routingKey: envelope.type,
  attempt: 1,
});

describe('RunnerRegistryConsumer and the registry cache', () => {
  it('passes each committed change on, a registration only when it inserted the row', async () => {
    const inbox = new FakeRegistryInbox();
    const { consumer, changes } = consumerWith(inbox);
    const runner = newRunner();
    const ref = { runnerId: runner.runnerId, projectId: runner.projectId };

    expect(await consumer.handle(delivered(launchedEvent(runner, 5_000)))).toBe('ack');
    expect(await consumer.handle(delivered(stateEvent('runner.stopping', ref)))).toBe('ack');
    expect(await consumer.handle(delivered(stateEvent('runner.stopped', ref)))).toBe('ack');
    expect(changes).toEqual([
      {
        kind: 'registered',
        runner: {
          ...ref,
          tokenHash: hashRunnerToken(runner.token),
          intervalMs: 5_000,
          desiredState: 'run',
          ended: false,
        },
      },
      { kind: 'stop-requested', runnerId: runner.runnerId },
      { kind: 'ended', runnerId: runner.runnerId },
    ]);

    inbox.inserted = false;
    changes.length = 0;
    expect(await consumer.handle(delivered(launchedEvent(runner)))).toBe('ack');
    expect(changes).toEqual([]);
  });

  it('passes nothing on for a change that did not commit', async () => {
    const { consumer, changes } = consumerWith(new FakeRegistryInbox());
    const ref = { runnerId: newRunner().runnerId, projectId: newRunner().projectId };
    expect(await consumer.handle(delivered(stateEvent('runner.failed', ref)))).toBe('retry');
    expect(changes).toEqual([]);
  });

  it('reads the changes other replicas commit from the events, except registrations', async () => {
    const runner = newRunner();
    const ref = { runnerId: runner.runnerId, projectId: runner.projectId };
    expect(registryChangeOf(stateEvent('runner.stopping', ref))).toEqual({
      kind: 'stop-requested',
      runnerId: runner.runnerId,
    });
    for (const type of ['runner.stopped', 'runner.completed', 'runner.failed']) {
      expect(registryChangeOf(stateEvent(type, ref))).toEqual({
        kind: 'ended',
        runnerId: runner.runnerId,
      });
    }
    expect(registryChangeOf(launchedEvent(runner))).toBeNull();
    const malformed = { ...stateEvent('runner.stopping', ref), data: { runnerId: 'nope' } };
    expect(registryChangeOf(malformed)).toBeNull();

    const applied: RegistryChange[] = [];
    const follower = new RunnerRegistryFollower((change) => applied.push(change));
    expect(await follower.handle(delivered(stateEvent('runner.completed', ref)))).toBe('ack');
    expect(await follower.handle(delivered(launchedEvent(runner)))).toBe('ack');
    expect(applied).toEqual([{ kind: 'ended', runnerId: runner.runnerId }]);
  });
});
