import {
  type SessionDetail,
  type SessionRun,
  type SessionSummary,
  type TranscriptMetadata,
} from '@stratavore/contracts';
import {
  type RunRecord,
  type SessionListEntry,
  type SessionRecord,
  type TranscriptRecord,
} from '@stratavore/session-store-data-access';

import { sessionTokens } from './session-rules';

/** A session as the API shows it. */
export function toSessionSummary(
  session: SessionRecord,
  runnerIds: readonly string[],
): SessionSummary {
  return {
    id: session.id,
    projectId: session.projectId,
    runnerId: session.firstRunnerId,
    runnerIds: [...runnerIds],
    cwd: session.cwd,
    models: { ...session.models },
    tokens: sessionTokens(session.tokens),
    turns: session.turns,
    costUsd: session.costUsd,
    reportedCostUsd: session.reportedCostUsd,
    result: session.result,
    resumedFrom: session.resumedFrom,
    waitingForInput: session.waitingForInput,
    startedAt: session.startedAt.toISOString(),
    lastSeenAt: session.lastSeenAt.toISOString(),
    endedAt: session.endedAt?.toISOString() ?? null,
  };
}

export function toListEntry(entry: SessionListEntry): SessionSummary {
  return toSessionSummary(entry, entry.runnerIds);
}

export function toRunView(run: RunRecord): SessionRun {
  const tokens = Object.values(run.models).reduce(
    (sum, m) => ({
      input: sum.input + m.input,
      output: sum.output + m.output,
      cacheCreation5m: sum.cacheCreation5m + m.cacheCreation5m,
      cacheCreation1h: sum.cacheCreation1h + m.cacheCreation1h,
      cacheRead: sum.cacheRead + m.cacheRead,
      webSearchRequests: sum.webSearchRequests + m.webSearchRequests,
    }),
    {
      input: 0,
      output: 0,
      cacheCreation5m: 0,
      cacheCreation1h: 0,
      cacheRead: 0,
      webSearchRequests: 0,
    },
  );
  return {
    runnerId: run.runnerId,
    seq: run.seq,
    firstSeenAt: run.firstSeenAt.toISOString(),
    observedAt: run.observedAt.toISOString(),
    models: { ...run.models },
    tokens: sessionTokens(tokens),
    turns: run.turns,
    costUsd: run.costUsd,
    reportedCostUsd: run.reportedCostUsd,
    cwd: run.cwd,
    transcriptPath: run.transcriptPath,
    resumedFrom: run.resumedFrom,
    waitingForInput: run.waitingForInput,
    result: run.result,
  };
}

export function toTranscriptView(record: TranscriptRecord): TranscriptMetadata {
  return {
    kind: record.kind,
    agentId: record.agentId,
    size: record.size,
    lineCount: record.lineCount,
    sha256: record.sha256,
    uploadedAt: record.uploadedAt.toISOString(),
    uploadedBy: record.uploadedBy,
  };
}

export function toSessionDetail(
  session: SessionRecord,
  runs: readonly RunRecord[],
  transcripts: readonly TranscriptRecord[],
): SessionDetail {
  return {
    ...toSessionSummary(
      session,
      runs.map((r) => r.runnerId),
    ),
    runs: runs.map(toRunView),
    transcripts: transcripts.map(toTranscriptView),
  };
}
