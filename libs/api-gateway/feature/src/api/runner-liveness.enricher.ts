import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  HEARTBEAT_INGEST_SERVICE,
  livenessReplySchema,
  type LivenessRequest,
  type RunnerLiveness,
  type RunnerReply,
} from '@stratavore/contracts';
import { MESSAGE_BUS, type RequestClient } from '@stratavore/messaging';
import { currentCorrelationId } from '@stratavore/observability';

import { GATEWAY_OPTIONS, type GatewayOptions } from '../api-gateway.options';

/**
 * Adds heartbeat-ingest's liveness (last heartbeat, child pid, cpu, memory, token counters) to
 * runner-manager's view of runners, with one `liveness.get` per reply. heartbeat-ingest's values
 * win; runner-manager's stay where heartbeat-ingest has nothing. Liveness is an enrichment: when
 * heartbeat-ingest is down, slow or answers nonsense, the runners go out as runner-manager sent
 * them and a warning is logged.
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
      const parsed = livenessReplySchema.safeParse(reply);
      if (!parsed.success) {
        this.logger.warn(
          `${HEARTBEAT_INGEST_SERVICE} sent a malformed liveness.get reply; answering without liveness: ${parsed.error.message}`,
        );
        return new Map();
      }
      return new Map(parsed.data.runners.map((l) => [l.runnerId, l]));
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
  return {
    ...runner,
    lastHeartbeatAt: liveness.lastHeartbeatAt,
    pid: liveness.pid ?? runner.pid,
    cpuPercent: liveness.cpuPercent,
    memoryBytes: liveness.memoryBytes,
    tokens: { ...liveness.counters },
  };
}
