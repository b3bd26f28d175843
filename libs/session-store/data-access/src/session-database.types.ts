import {
  type EventEnvelope,
  type ModelUsage,
  type SessionModelUsage,
  type SessionResult,
  type TranscriptKind,
} from '@stratavore/contracts';

/** Tokens of one model (or a sum) by kind, as the heartbeat session snapshot counts them. */
export type TokenCounts = ModelUsage;

/** One runner's part of a session: its latest cumulative snapshot. */
export interface RunRecord {
  readonly sessionId: string;
  readonly runnerId: string;
  readonly projectId: string;
  readonly seq: number;
  readonly firstSeenAt: Date;
  readonly observedAt: Date;
  /** Tokens per model and the part of the run's cost attributed to each. */
  readonly models: Readonly<Record<string, SessionModelUsage>>;
  readonly turns: number;
  readonly costUsd: number | null;
  readonly reportedCostUsd: number | null;
  readonly cwd: string | null;
  readonly transcriptPath: string | null;
  readonly resumedFrom: string | null;
  readonly waitingForInput: boolean;
  readonly result: SessionResult | null;
}

/** A session: the sum of its runs, and when it started, was last seen and ended. */
export interface SessionRecord {
  readonly id: string;
  readonly projectId: string;
  readonly firstRunnerId: string;
  readonly cwd: string | null;
  readonly models: Readonly<Record<string, SessionModelUsage>>;
  readonly tokens: TokenCounts;
  readonly turns: number;
  readonly costUsd: number | null;
  readonly reportedCostUsd: number | null;
  readonly result: SessionResult | null;
  readonly resumedFrom: string | null;
  readonly waitingForInput: boolean;
  readonly startedAt: Date;
  readonly lastSeenAt: Date;
  readonly endedAt: Date | null;
}

/** A session with the runners that took part (first seen first). */
export interface SessionListEntry extends SessionRecord {
  readonly runnerIds: readonly string[];
}

/** Growth of tokens and cost of one project and model on one UTC day. */
export interface DailyUsage {
  /** `YYYY-MM-DD`, UTC. */
  readonly day: string;
  readonly projectId: string;
  readonly model: string;
  readonly tokens: TokenCounts;
  readonly costUsd: number;
}

/** How a runner ended, as runner-manager's events told. */
export type RunnerOutcomeState = 'completed' | 'failed' | 'stopped';

/** What session-store knows of a runner. */
export interface RunnerRecord {
  readonly runnerId: string;
  readonly projectId: string;
  readonly launchedAt: Date | null;
  readonly startedAt: Date | null;
  readonly endedAt: Date | null;
  readonly state: 'active' | RunnerOutcomeState;
}

/** Metadata of one stored transcript. */
export interface TranscriptRecord {
  readonly sessionId: string;
  readonly kind: TranscriptKind;
  /** `null` for `main`. */
  readonly agentId: string | null;
  readonly blobKey: string;
  readonly size: number;
  readonly lineCount: number;
  readonly sha256: string;
  readonly uploadedAt: Date;
  readonly uploadedBy: string;
}

/** Everything a consumer may change inside its inbox transaction. */
export interface SessionWrites {
  /** Adds the runner or completes a row a terminal event created first; idempotent. */
  registerRunner(runner: {
    runnerId: string;
    projectId: string;
    tokenHash: string;
    launchedAt: Date;
  }): Promise<void>;
  /** Records the first heartbeat (runner.running); keeps the first one. */
  markRunnerStarted(runner: { runnerId: string; projectId: string; at: Date }): Promise<void>;
  /** Records the outcome; creates the row when the launch was not seen (yet). */
  markRunnerEnded(runner: {
    runnerId: string;
    projectId: string;
    state: RunnerOutcomeState;
    endedAt: Date;
    failureReason: string | null;
    exitCode: number | null;
  }): Promise<void>;
  /** The runners of these ids that have ended. */
  endedRunners(runnerIds: readonly string[]): Promise<Set<string>>;
  /** Sessions the runner has a run in. */
  sessionIdsOfRunner(runnerId: string): Promise<string[]>;
  /** Locks the session row (FOR UPDATE) and returns it with its runs; `null` if unknown. */
  lockSession(sessionId: string): Promise<{ session: SessionRecord; runs: RunRecord[] } | null>;
  /**
   * Inserts the session unless it exists (a concurrent first snapshot); returns false when it
   * existed. Lock it with {@link lockSession} afterwards either way.
   */
  insertSession(session: SessionRecord): Promise<boolean>;
  saveSession(session: SessionRecord): Promise<void>;
  saveRun(run: RunRecord): Promise<void>;
  addDailyUsage(rows: readonly DailyUsage[]): Promise<void>;
  appendEvents(events: readonly EventEnvelope[]): Promise<void>;
}

/** `usage.by` rows before the reply is shaped. */
export interface UsageAggregate {
  readonly key: string;
  readonly tokens: TokenCounts;
  readonly costUsd: number;
}

/** Outcomes of runners of one project (or of all, `projectId` null). */
export interface RunnerOutcomeAggregate {
  readonly projectId: string | null;
  readonly launched: number;
  readonly active: number;
  readonly completed: number;
  readonly failed: number;
  readonly stopped: number;
  readonly failureReasons: Readonly<Record<string, number>>;
  readonly durationMs: {
    readonly avg: number;
    readonly p50: number;
    readonly p95: number;
    readonly max: number;
  } | null;
}

/** The runner a transcript upload's token belongs to. */
export interface TokenOwner {
  readonly runnerId: string;
  readonly projectId: string;
  readonly endedAt: Date | null;
}
