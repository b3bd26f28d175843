import {
  type EventEnvelope,
  runnerFailedV1,
  sessionReportedV1,
  type SessionResult,
} from '@stratavore/contracts';
import { type DeliveredEvent, type HandlerResult, type InboxResult } from '@stratavore/messaging';
import {
  type RunnerOutcomeState,
  type RunRecord,
  type SessionRecord,
  type SessionWrites,
} from '@stratavore/session-store-data-access';
import { z } from 'zod';

import { type SessionEventFactory } from './session-events.factory';
import {
  applySnapshot,
  type EndReason,
  type PriceWeights,
  sessionState,
  sessionTokens,
} from './session-rules';

/** The inbox consumer name and queue of session-store. */
export const SESSION_STORE_CONSUMER = 'session-store';

/** What session-store consumes: session snapshots and runner-manager's runner lifecycle. */
export const SESSION_STORE_PATTERNS = [
  'session.reported',
  'runner.launched',
  'runner.running',
  'runner.completed',
  'runner.failed',
  'runner.stopped',
] as const;

const launchedSchema = z.object({
  runnerId: z.uuid(),
  projectId: z.uuid(),
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected sha256 hex' }),
});
const runnerRefSchema = z.object({
  runnerId: z.uuid(),
  projectId: z.uuid(),
  exitCode: z.number().int().nullable().optional(),
});

/** The write side of the store, once per event. */
export interface SessionInbox {
  runOnce(
    consumer: string,
    eventId: string,
    work: (writes: SessionWrites) => Promise<void>,
  ): Promise<InboxResult>;
}

export interface ConsumerLogger {
  warn(message: string): void;
}

/**
 * Keeps sessions and the runner registry current, once per event (inbox): `session.reported`
 * replaces a run's snapshot when newer and recomputes its session, runner-manager's events
 * register runners (token hash for uploads) and record how they ended, which may end the
 * sessions they ran. Events about the sessions (`session.started|updated|ended`) go to the
 * outbox in the same transaction. A malformed event is dead-lettered; anything else that fails
 * is retried by the bus.
 */
export class SessionStoreConsumer {
  constructor(
    private readonly deps: {
      readonly store: SessionInbox;
      readonly events: SessionEventFactory;
      readonly weigh: PriceWeights;
      readonly logger: ConsumerLogger;
    },
  ) {}

  readonly handle = async (event: DeliveredEvent): Promise<HandlerResult> => {
    const { envelope } = event;
    try {
      await this.apply(envelope);
      return 'ack';
    } catch (error) {
      if (error instanceof z.ZodError) {
        this.deps.logger.warn(
          `${envelope.type} ${envelope.id} is malformed: ${error.issues
            .map((i) => `${i.path.join('.')}: ${i.message}`)
            .join('; ')}`,
        );
        return 'dead-letter';
      }
      throw error;
    }
  };

  private async apply(envelope: EventEnvelope): Promise<void> {
    const at = new Date(envelope.time);
    switch (envelope.type) {
      case 'session.reported': {
        const data = sessionReportedV1.data.parse(envelope.data);
        await this.once(envelope, (writes) =>
          this.applySnapshot(writes, envelope.correlationId, {
            runnerId: data.runnerId,
            projectId: data.projectId,
            seq: data.seq,
            observedAt: new Date(data.observedAt),
            session: data.session,
          }),
        );
        return;
      }
      case 'runner.launched': {
        const data = launchedSchema.parse(envelope.data);
        await this.once(envelope, (writes) =>
          writes.registerRunner({
            runnerId: data.runnerId,
            projectId: data.projectId,
            tokenHash: data.tokenHash,
            launchedAt: at,
          }),
        );
        return;
      }
      case 'runner.running': {
        const data = runnerRefSchema.parse(envelope.data);
        await this.once(envelope, (writes) =>
          writes.markRunnerStarted({ runnerId: data.runnerId, projectId: data.projectId, at }),
        );
        return;
      }
      case 'runner.completed':
      case 'runner.stopped':
      case 'runner.failed': {
        const data = runnerRefSchema.parse(envelope.data);
        const failure =
          envelope.type === 'runner.failed' ? runnerFailedV1.data.parse(envelope.data) : null;
        const state = envelope.type.slice('runner.'.length) as RunnerOutcomeState;
        await this.once(envelope, async (writes) => {
          await writes.markRunnerEnded({
            runnerId: data.runnerId,
            projectId: data.projectId,
            state,
            endedAt: at,
            failureReason: failure?.reason ?? null,
            exitCode: data.exitCode ?? null,
          });
          await this.endSessionsOf(writes, envelope.correlationId, data.runnerId, at);
        });
        return;
      }
      default:
        return;
    }
  }

  private async once(
    envelope: EventEnvelope,
    work: (writes: SessionWrites) => Promise<void>,
  ): Promise<void> {
    await this.deps.store.runOnce(SESSION_STORE_CONSUMER, envelope.id, work);
  }

  private async applySnapshot(
    writes: SessionWrites,
    correlationId: string,
    snapshot: Parameters<typeof applySnapshot>[1],
  ): Promise<void> {
    const sessionId = snapshot.session.sessionId;
    let current = await writes.lockSession(sessionId);
    const decide = async (state: typeof current) => {
      const runnerIds = [...(state?.runs.map((r) => r.runnerId) ?? []), snapshot.runnerId];
      return applySnapshot(state, snapshot, await writes.endedRunners(runnerIds), this.deps.weigh);
    };
    let outcome = await decide(current);
    if (!outcome.applied) return;
    if (outcome.created && !(await writes.insertSession(outcome.session))) {
      // Another runner's first snapshot created the session meanwhile: decide on its row.
      current = await writes.lockSession(sessionId);
      outcome = await decide(current);
      if (!outcome.applied) return;
    }
    const { session, run } = outcome;
    await writes.saveRun(run);
    await writes.saveSession(session);
    await writes.addDailyUsage(outcome.usage);

    const runnerIds = [
      ...(current?.runs.map((r) => r.runnerId).filter((id) => id !== run.runnerId) ?? []),
      run.runnerId,
    ];
    const events = outcome.created
      ? [
          this.deps.events.build('session.started', sessionId, correlationId, {
            sessionId,
            projectId: session.projectId,
            runnerId: run.runnerId,
            startedAt: session.startedAt.toISOString(),
            cwd: session.cwd,
            resumedFrom: session.resumedFrom,
            models: Object.keys(session.models).sort(),
          }),
        ]
      : [
          this.deps.events.build('session.updated', sessionId, correlationId, {
            sessionId,
            projectId: session.projectId,
            runnerId: run.runnerId,
            runnerIds,
            turns: session.turns,
            tokens: sessionTokens(session.tokens),
            costUsd: session.costUsd,
            reportedCostUsd: session.reportedCostUsd,
            waitingForInput: session.waitingForInput,
            result: session.result,
            lastSeenAt: session.lastSeenAt.toISOString(),
            endedAt: session.endedAt?.toISOString() ?? null,
          }),
        ];
    if (outcome.ended) {
      events.push(this.endedEvent(session, run.runnerId, outcome.ended, correlationId));
    }
    await writes.appendEvents(events);
  }

  /** A runner ended: its sessions whose runners have all ended are over. */
  private async endSessionsOf(
    writes: SessionWrites,
    correlationId: string,
    runnerId: string,
    at: Date,
  ): Promise<void> {
    for (const sessionId of await writes.sessionIdsOfRunner(runnerId)) {
      const current = await writes.lockSession(sessionId);
      if (!current || current.session.endedAt !== null) continue;
      const ended = await writes.endedRunners(current.runs.map((r: RunRecord) => r.runnerId));
      const state = sessionState(null, current.runs, ended, at);
      if (state.endedAt === null || state.reason === null) continue;
      const session = { ...current.session, endedAt: state.endedAt };
      await writes.saveSession(session);
      await writes.appendEvents([this.endedEvent(session, runnerId, state.reason, correlationId)]);
    }
  }

  private endedEvent(
    session: SessionRecord,
    runnerId: string,
    reason: EndReason,
    correlationId: string,
  ): EventEnvelope {
    const result: SessionResult | null = session.result;
    return this.deps.events.build('session.ended', session.id, correlationId, {
      sessionId: session.id,
      projectId: session.projectId,
      runnerId,
      reason,
      result,
      resumable: result?.resumable ?? false,
      endedAt: (session.endedAt ?? new Date(0)).toISOString(),
      turns: session.turns,
      tokens: sessionTokens(session.tokens),
      costUsd: session.costUsd,
      reportedCostUsd: session.reportedCostUsd,
    });
  }
}
