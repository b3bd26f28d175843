import {
  type EventEnvelope,
  type HeartbeatCounters,
  type HeartbeatStatus,
} from '@stratavore/contracts';

/** What the user wants of a runner, as runner-manager's events told us. */
export type RegistryDesiredState = 'run' | 'stop' | 'kill';

/**
 * What heartbeat-ingest last booked of a runner's agent session: the digest of the last
 * `session.reported` snapshot, and the cumulative cost (of `costSessionId`) already booked in
 * `usage.reported` events.
 */
export interface SessionProgress {
  readonly digest: string | null;
  readonly costSessionId: string | null;
  readonly costUsd: number;
}

/** A runner whose agent has reported no session yet. */
export const NO_SESSION_PROGRESS: SessionProgress = Object.freeze({
  digest: null,
  costSessionId: null,
  costUsd: 0,
});

/** One runner heartbeat-ingest serves, with what it last recorded of it. */
export interface RegisteredRunner {
  readonly runnerId: string;
  readonly projectId: string;
  /** sha256 of the runner token, hex. */
  readonly tokenHash: string;
  readonly intervalMs: number;
  readonly desiredState: RegistryDesiredState;
  /** True once runner-manager reported a terminal state. */
  readonly ended: boolean;
  readonly registeredAt: Date;
  /** When the first heartbeat was booked (and `heartbeat.first-received` emitted). */
  readonly startedAt: Date | null;
  /** When the exit report was booked (and `heartbeat.exited` emitted). */
  readonly exitReportedAt: Date | null;
  /** When the detector reported it stale. */
  readonly staleReportedAt: Date | null;
  /** Highest seq booked; `null` before the first heartbeat. */
  readonly lastSeq: number | null;
  /** Cumulative counters as of `lastSeq`. */
  readonly counters: HeartbeatCounters;
  /** The session snapshot and cost booked as of `lastSeq`. */
  readonly session: SessionProgress;
}

/**
 * What a heartbeat is checked against and answered with: who the runner is, its token hash,
 * interval and desired state, and whether it ended. All but `desiredState` and `ended` are fixed
 * at registration; those two only move forward (`run` -> `stop`, not ended -> ended).
 */
export type RunnerAccess = Pick<
  RegisteredRunner,
  'runnerId' | 'projectId' | 'tokenHash' | 'intervalMs' | 'desiredState' | 'ended'
>;

/** A `runner.launched` turned into a registry entry. */
export interface RunnerRegistration {
  readonly runnerId: string;
  readonly projectId: string;
  readonly tokenHash: string;
  readonly intervalMs: number;
  readonly registeredAt: Date;
}

/** Registry changes a consumer makes inside its inbox transaction. */
export interface RegistryWrites {
  /**
   * Adds the runner; a second registration of the same id changes nothing. Returns true when
   * the row was inserted.
   */
  register(registration: RunnerRegistration): Promise<boolean>;
  /** Returns false when the runner is unknown. */
  setDesiredState(runnerId: string, desiredState: RegistryDesiredState): Promise<boolean>;
  /** Returns false when the runner is unknown. */
  markEnded(runnerId: string, endedAt: Date): Promise<boolean>;
}

/** The latest report of a runner's process. */
export interface LivenessRow {
  readonly runnerId: string;
  readonly lastHeartbeatAt: Date;
  readonly sentAt: Date;
  readonly seq: number;
  readonly status: HeartbeatStatus;
  readonly pid: number | null;
  readonly cpuPercent: number;
  readonly memoryBytes: number;
  readonly agentVersion: string;
  readonly sessionId: string | null;
}

/** A runner's latest report with the counters booked for it (the `liveness.get` query). */
export interface LivenessSnapshot {
  readonly runnerId: string;
  readonly lastHeartbeatAt: Date;
  readonly seq: number;
  readonly status: HeartbeatStatus;
  readonly pid: number | null;
  readonly cpuPercent: number;
  readonly memoryBytes: number;
  /** Cumulative counters of the highest seq booked. */
  readonly counters: HeartbeatCounters;
}

/** What a flush records of one runner in the registry. */
export interface RunnerProgress {
  readonly runnerId: string;
  readonly lastSeq: number | null;
  readonly counters: HeartbeatCounters;
  readonly session: SessionProgress;
  readonly startedAt: Date | null;
  readonly exitReportedAt: Date | null;
}

/** Everything one flush writes, in one transaction. */
export interface FlushPlan {
  /** Runners whose seq, counters or signals moved. */
  readonly progress: readonly RunnerProgress[];
  readonly liveness: readonly LivenessRow[];
  /**
   * `usage.reported`, `session.reported`, `heartbeat.first-received`, `heartbeat.exited`, in
   * order.
   */
  readonly events: readonly EventEnvelope[];
}

/** A runner the stale-runner detector looks at. */
export interface ActiveRunner {
  readonly runnerId: string;
  readonly projectId: string;
  readonly intervalMs: number;
  readonly registeredAt: Date;
  readonly lastHeartbeatAt: Date | null;
  readonly staleReportedAt: Date | null;
}

/** What the stale-runner detector decided on the rows it locked. */
export interface StaleDecision {
  readonly runnerIds: readonly string[];
  readonly events: readonly EventEnvelope[];
}
