import {
  type ListSessionsRequest,
  type RunnerOutcomes,
  type RunnersStatsReply,
  type RunnersStatsRequest,
  type SessionDetail,
  type SessionListReply,
  STATS_DEFAULT_RANGE_DAYS,
  transcriptKindName,
  type TranscriptWindowReply,
  type TranscriptWindowRequest,
  type UsageByReply,
  type UsageByRequest,
} from '@stratavore/contracts';
import { type Clock } from '@stratavore/core';
import {
  type BlobStore,
  BlobStoreError,
  BlobStoreErrorCode,
  type RunnerOutcomeAggregate,
  type SessionDatabase,
} from '@stratavore/session-store-data-access';

import { addTokens, sessionTokens, ZERO_TOKENS } from './session-rules';
import { SessionStoreException } from './session-store.exception';
import { toListEntry, toSessionDetail, toTranscriptView } from './session-views';
import { cutUtf8Window, utf8ReadRange } from './utf8-window';

/** The reads the queries need. */
export type SessionReads = Pick<
  SessionDatabase,
  'listSessions' | 'getSession' | 'findTranscript' | 'usageBy' | 'runnerOutcomes'
>;

const DAY_MS = 86_400_000;

function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `from`..`to` with the defaults: `to` today (UTC), `from` 30 days ending with `to`. */
export function statsRange(
  request: { from?: string; to?: string },
  now: Date,
): { from: string; to: string } {
  const to = request.to ?? dayOf(now.getTime());
  const from = request.from ?? dayOf(Date.parse(to) - (STATS_DEFAULT_RANGE_DAYS - 1) * DAY_MS);
  return { from, to };
}

function outcomesView(aggregate: RunnerOutcomeAggregate | undefined): RunnerOutcomes {
  if (!aggregate) {
    return {
      launched: 0,
      active: 0,
      completed: 0,
      failed: 0,
      stopped: 0,
      successRate: null,
      failureReasons: {},
      durationMs: null,
    };
  }
  const judged = aggregate.completed + aggregate.failed;
  return {
    launched: aggregate.launched,
    active: aggregate.active,
    completed: aggregate.completed,
    failed: aggregate.failed,
    stopped: aggregate.stopped,
    successRate: judged === 0 ? null : Math.round((aggregate.completed / judged) * 10_000) / 10_000,
    failureReasons: { ...aggregate.failureReasons },
    durationMs: aggregate.durationMs,
  };
}

/**
 * The read side of session-store: sessions, transcript windows and statistics. Transcript
 * content comes from the blob store; the rest from the `session` schema.
 */
export class SessionQueries {
  constructor(
    private readonly deps: {
      readonly db: SessionReads;
      readonly blobs: BlobStore;
      readonly clock: Clock;
    },
  ) {}

  async list(request: ListSessionsRequest): Promise<SessionListReply> {
    const entries = await this.deps.db.listSessions({
      projectId: request.project,
      runnerId: request.runner,
      since: request.since === undefined ? undefined : new Date(request.since),
      limit: request.limit,
    });
    return { sessions: entries.map(toListEntry) };
  }

  async get(sessionId: string): Promise<SessionDetail> {
    const found = await this.deps.db.getSession(sessionId);
    if (!found) throw SessionStoreException.sessionNotFound(sessionId);
    return toSessionDetail(found.session, found.runs, found.transcripts);
  }

  /**
   * A window of a transcript. A re-upload may replace (and delete) the blob between reading its
   * metadata and its bytes; the read then starts over once with the new version.
   */
  async transcript(request: TranscriptWindowRequest): Promise<TranscriptWindowReply> {
    for (let attempt = 1; ; attempt += 1) {
      const record = await this.deps.db.findTranscript(
        request.session,
        request.kind,
        request.agentId,
      );
      if (!record) {
        if ((await this.deps.db.getSession(request.session)) === null) {
          throw SessionStoreException.sessionNotFound(request.session);
        }
        throw SessionStoreException.transcriptNotFound(
          request.session,
          transcriptKindName(request.kind, request.agentId),
        );
      }
      const range = utf8ReadRange(request.offset, request.limitBytes, record.size);
      let bytes: Buffer;
      try {
        bytes = await this.deps.blobs.read(record.blobKey, range.start, range.length);
      } catch (error) {
        const replaced =
          error instanceof BlobStoreError && error.code === BlobStoreErrorCode.NotFound;
        if (replaced && attempt < 2) continue;
        throw error;
      }
      const window = cutUtf8Window(
        bytes,
        range.start,
        request.offset,
        request.limitBytes,
        record.size,
      );
      const nextOffset = window.offset + window.content.length;
      return {
        content: window.content.toString('utf8'),
        offset: window.offset,
        nextOffset,
        size: record.size,
        eof: nextOffset >= record.size,
        transcript: toTranscriptView(record),
      };
    }
  }

  async usageBy(request: UsageByRequest): Promise<UsageByReply> {
    const { from, to } = statsRange(request, this.deps.clock.now());
    const aggregates = await this.deps.db.usageBy(request.by, from, to, request.project ?? null);
    let tokens = ZERO_TOKENS;
    let costUsd = 0;
    for (const row of aggregates) {
      tokens = addTokens(tokens, row.tokens);
      costUsd += row.costUsd;
    }
    return {
      by: request.by,
      from,
      to,
      rows: aggregates.map((row) => ({
        key: row.key,
        tokens: sessionTokens(row.tokens),
        costUsd: row.costUsd,
      })),
      total: { tokens: sessionTokens(tokens), costUsd: Math.round(costUsd * 1e10) / 1e10 },
    };
  }

  async runnersStats(request: RunnersStatsRequest): Promise<RunnersStatsReply> {
    const { from, to } = statsRange(request, this.deps.clock.now());
    const aggregates = await this.deps.db.runnerOutcomes(from, to, request.project ?? null);
    return {
      from,
      to,
      projects: aggregates.flatMap((a) =>
        a.projectId === null ? [] : [{ projectId: a.projectId, ...outcomesView(a) }],
      ),
      total: outcomesView(aggregates.find((a) => a.projectId === null)),
    };
  }
}
