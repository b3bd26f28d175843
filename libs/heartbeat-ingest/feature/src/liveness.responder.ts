import {
  type LivenessReply,
  livenessRequestSchema,
  type RunnerLiveness,
} from '@stratavore/contracts';
import { type LivenessSnapshot } from '@stratavore/heartbeat-ingest-data-access';
import { type RequestHandler } from '@stratavore/messaging';

import { HeartbeatErrorCode, HeartbeatException } from './heartbeat.exception';
import { type BufferedHeartbeat } from './heartbeat-buffer';

/** The flushed side: latest stored report and booked counters of each runner. */
export interface LivenessSource {
  findLivenessMany(runnerIds: readonly string[]): Promise<LivenessSnapshot[]>;
}

/** The unflushed side: what this replica accepted since its last flush. */
export interface PendingHeartbeats {
  pending(runnerId: string): BufferedHeartbeat | undefined;
}

/**
 * Answers `liveness.get` on the bus (service `heartbeat-ingest`): the latest report of each
 * runner asked about, read from the database and overlaid with this replica's unflushed buffer
 * (a map lookup per runner), so an answer is at most one flush interval behind on another
 * replica and current on this one. Runners that never reported are left out.
 */
export class LivenessResponder {
  constructor(
    private readonly deps: {
      readonly store: LivenessSource;
      readonly buffer: PendingHeartbeats;
    },
  ) {}

  readonly handle: RequestHandler = async (pattern, payload) => {
    if (pattern !== 'liveness.get') {
      throw new HeartbeatException(
        HeartbeatErrorCode.ValidationFailed,
        `heartbeat-ingest does not serve ${pattern}`,
        [{ field: 'pattern', message: `unknown pattern ${pattern}` }],
      );
    }
    const parsed = livenessRequestSchema.safeParse(payload);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => ({
        field: i.path.join('.'),
        message: i.message,
      }));
      throw new HeartbeatException(
        HeartbeatErrorCode.ValidationFailed,
        `liveness.get: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
        errors,
      );
    }
    return this.get(parsed.data.runnerIds);
  };

  async get(runnerIds: readonly string[]): Promise<LivenessReply> {
    const unique = [...new Set(runnerIds)];
    const stored = new Map(
      (await this.deps.store.findLivenessMany(unique)).map((s) => [s.runnerId, s]),
    );
    const runners: RunnerLiveness[] = [];
    for (const runnerId of unique) {
      const flushed = stored.get(runnerId);
      const buffered = this.deps.buffer.pending(runnerId);
      if (buffered && (!flushed || newer(buffered, flushed))) {
        runners.push(fromBuffer(buffered));
      } else if (flushed) {
        runners.push(fromStore(flushed));
      }
    }
    return { runners };
  }
}

function newer(buffered: BufferedHeartbeat, flushed: LivenessSnapshot): boolean {
  if (buffered.report.seq !== flushed.seq) return buffered.report.seq > flushed.seq;
  return buffered.receivedAt.getTime() > flushed.lastHeartbeatAt.getTime();
}

function fromStore(s: LivenessSnapshot): RunnerLiveness {
  return {
    runnerId: s.runnerId,
    lastHeartbeatAt: s.lastHeartbeatAt.toISOString(),
    pid: s.pid,
    cpuPercent: s.cpuPercent,
    memoryBytes: s.memoryBytes,
    status: s.status,
    seq: s.seq,
    counters: { ...s.counters },
  };
}

function fromBuffer({ report, receivedAt }: BufferedHeartbeat): RunnerLiveness {
  return {
    runnerId: report.runnerId,
    lastHeartbeatAt: receivedAt.toISOString(),
    pid: report.pid,
    cpuPercent: report.cpuPercent,
    memoryBytes: report.memoryBytes,
    status: report.status,
    seq: report.seq,
    counters: { ...report.counters },
  };
}
