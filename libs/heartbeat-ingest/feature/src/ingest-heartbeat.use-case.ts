import {
  type HeartbeatAnswer,
  type HeartbeatRequest,
  heartbeatRequestSchema,
} from '@stratavore/contracts';
import { type Clock } from '@stratavore/core';
import { type RunnerAccess } from '@stratavore/heartbeat-ingest-data-access';

import { HeartbeatErrorCode, HeartbeatException } from './heartbeat.exception';
import { authorizeHeartbeat, bearerToken, hashRunnerToken } from './heartbeat-auth';
import { type BufferedHeartbeat } from './heartbeat-buffer';
import { type HeartbeatIngestMetrics } from './heartbeat-ingest.metrics';

/**
 * The registry reads a heartbeat needs: the named runner (this replica's registry cache) and,
 * only to tell a 403 from a 401, whose token a mismatching hash is (the database).
 */
export interface RegistryReads {
  findRunner(runnerId: string): Promise<RunnerAccess | null>;
  findRunnerIdByTokenHash(tokenHash: string): Promise<string | null>;
}

/** Where accepted heartbeats go (the batch writer). */
export interface HeartbeatSink {
  accept(entry: BufferedHeartbeat, options?: { durable?: boolean }): Promise<void>;
}

export interface IngestHeartbeatDeps {
  readonly registry: RegistryReads;
  readonly sink: HeartbeatSink;
  readonly clock: Clock;
  readonly metrics: HeartbeatIngestMetrics;
}

/** The body, validated, or a 400 naming each offending field. */
export function parseHeartbeat(body: unknown): HeartbeatRequest {
  const parsed = heartbeatRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new HeartbeatException(
    HeartbeatErrorCode.ValidationFailed,
    'the heartbeat body is invalid',
    parsed.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || '(body)',
      message: issue.message,
    })),
  );
}

/**
 * `POST /api/v1/heartbeat`: authenticates the runner token, buffers the report for the next
 * batched write, and answers with the desired state and interval from the registry. An exit
 * report is answered only once it is written: the agent sends it once. Other reports are
 * answered as soon as they are buffered, without waiting for any flush.
 */
export class IngestHeartbeat {
  constructor(private readonly deps: IngestHeartbeatDeps) {}

  async execute(
    authorization: string | undefined,
    body: unknown,
    correlationId: string,
  ): Promise<HeartbeatAnswer> {
    const { metrics } = this.deps;
    try {
      const token = bearerToken(authorization);
      const report = parseHeartbeat(body);
      const runner = await authorizeHeartbeat({
        presentedHash: hashRunnerToken(token),
        runner: await this.deps.registry.findRunner(report.runnerId),
        ownerOf: (hash) => this.deps.registry.findRunnerIdByTokenHash(hash),
      });
      const receivedAt = this.deps.clock.now();
      metrics.lag.observe(Math.max(0, receivedAt.getTime() - Date.parse(report.sentAt)) / 1000);
      await this.deps.sink.accept(
        { report, receivedAt, correlationId },
        { durable: report.status === 'exited' },
      );
      metrics.received.inc({ outcome: 'accepted' });
      return {
        desiredState: runner.desiredState === 'run' ? 'continue' : 'stop',
        intervalMs: runner.intervalMs,
      };
    } catch (error) {
      metrics.received.inc({
        outcome: error instanceof HeartbeatException ? error.code.toLowerCase() : 'error',
      });
      throw error;
    }
  }
}
