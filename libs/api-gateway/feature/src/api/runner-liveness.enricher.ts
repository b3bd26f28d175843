import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  HEARTBEAT_INGEST_SERVICE,
  type LivenessReply,
  livenessReplySchema,
  type LivenessRequest,
  type RunnerLiveness,
  type RunnerReply,
} from '@stratavore/contracts';
import { MESSAGE_BUS, type RequestClient } from '@stratavore/messaging';
import { currentCorrelationId } from '@stratavore/observability';

import { GATEWAY_OPTIONS, type GatewayOptions } from '../api-gateway.options';
import { compileShapeCheck } from '../http/reply-shape';

/**
 * heartbeat-ingest builds its replies from typed rows and the gateway merges a few typed fields
 * of them: a shape check (types, required fields) keeps a malformed reply out for a fraction of
 * a zod parse's cost (~0.13 ms for the liveness of 50 runners, docs/benchmarks.md "api-read").
 */
const livenessReplyShape = compileShapeCheck(livenessReplySchema);

/**
 * Adds heartbeat-ingest's liveness (last heartbeat, child pid, cpu, memory, token counters) to
 * runner-manager's view of runners, with one `liveness.get` per reply. heartbeat-ingest's values
 * win; runner-manager's stay where heartbeat-ingest has nothing. Liveness is an enrichment: when
 * heartbeat-ingest is down, slow or answers nonsense, the runners go out as runner-manager sent
 * them and a warning is logged. The runners are updated in place: they are the bus's copies,
 * owned by the request.
 */
@Injectable()
export class RunnerLivenessEnricher {
  private readonly logger = new Logger('RunnerLiveness');

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: RequestClient,
    @Inject(GATEWAY_OPTIONS) private readonly options: GatewayOptions,
  ) {}

  async enrich(runners: readonly RunnerReply[]): Promise<RunnerReply[]> {
    if (runners.length === 0) return [];
    const liveness = await this.fetch([...new Set(runners.map((r) => r.id))]);
    return runners.map((runner) => merge(runner, liveness.get(runner.id)));
  }

  async enrichOne(runner: RunnerReply): Promise<RunnerReply> {
    const [enriched] = await this.enrich([runner]);
    return enriched ?? runner;
  }

  /**
   * The runner `runnerId` from `pending` (a request already sent) with its liveness, asked for at
   * the same time rather than after it; `pending`'s failure is the answer's.
   */
  async enrichPending(runnerId: string, pending: Promise<RunnerReply>): Promise<RunnerReply> {
    const liveness = this.fetch([runnerId]);
    const runner = await pending;
    return merge(runner, (await liveness).get(runner.id));
  }

  private async fetch(runnerIds: string[]): Promise<Map<string, RunnerLiveness>> {
    const correlationId = currentCorrelationId();
    const payload: LivenessRequest = { runnerIds };
    try {
      const reply = await this.bus.request<unknown>(
        HEARTBEAT_INGEST_SERVICE,
        'liveness.get',
        payload,
        {
          timeoutMs: this.options.livenessTimeoutMs,
          ...(correlationId === undefined ? {} : { correlationId }),
        },
      );
      const problem = livenessReplyShape(reply);
      if (problem !== null) {
        this.logger.warn(
          `${HEARTBEAT_INGEST_SERVICE} sent a malformed liveness.get reply; answering without liveness: ${problem}`,
        );
        return new Map();
      }
      const byRunner = new Map<string, RunnerLiveness>();
      for (const entry of (reply as LivenessReply).runners) byRunner.set(entry.runnerId, entry);
      return byRunner;
    } catch (error) {
      this.logger.warn(
        `no liveness from ${HEARTBEAT_INGEST_SERVICE} for ${runnerIds.length} runner(s); answering with runner-manager's view: ${error instanceof Error ? error.message : String(error)}`,
      );
      return new Map();
    }
  }
}

function merge(runner: RunnerReply, liveness: RunnerLiveness | undefined): RunnerReply {
  if (!liveness) return runner;
  runner.lastHeartbeatAt = liveness.lastHeartbeatAt;
  runner.pid = liveness.pid ?? runner.pid;
  runner.cpuPercent = liveness.cpuPercent;
  runner.memoryBytes = liveness.memoryBytes;
  runner.tokens = liveness.counters;
  return runner;
}
