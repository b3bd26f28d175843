import { Controller, Get, Inject } from '@nestjs/common';
import { type GatewayDatabase } from '@stratavore/api-gateway-data-access';
import { type ProjectStatus, runnersStatusRequestSchema } from '@stratavore/contracts';
import { MESSAGE_BUS, type MessageBus } from '@stratavore/messaging';

import { toHttpError } from '../http/http-error-mapping';
import { GATEWAY_DATABASE } from '../keys/api-key.tokens';
import { RequiredScope } from '../keys/api-scope';
import { GatewayRoutes } from './gateway-routes.decorator';
import { RunnerManagerClient } from './runner-manager.client';

type Health = { readonly status: 'up' } | { readonly status: 'down'; readonly error: string };

const ACTIVE_STATES = ['pending', 'starting', 'running', 'waiting', 'idle', 'stopping'] as const;

export interface StatusReply {
  /** Active runners by state, over every project; null when runner-manager did not answer. */
  readonly runners: {
    readonly active: number;
    readonly queued: number;
    readonly byState: Record<(typeof ACTIVE_STATES)[number], number>;
  } | null;
  readonly projects: readonly ProjectStatus[] | null;
  readonly services: {
    readonly gateway: Health;
    readonly database: Health;
    readonly bus: Health;
    readonly runnerManager: Health;
  };
}

@GatewayRoutes()
@Controller('api/v1/status')
export class StatusController {
  constructor(
    @Inject(RunnerManagerClient) private readonly runnerManager: RunnerManagerClient,
    @Inject(GATEWAY_DATABASE) private readonly database: Pick<GatewayDatabase, 'ping'>,
    @Inject(MESSAGE_BUS) private readonly bus: Pick<MessageBus, 'isConnected'>,
  ) {}

  /** Runner counts from runner-manager and the health of what the gateway depends on. */
  @Get()
  @RequiredScope('viewer')
  async status(): Promise<StatusReply> {
    const [status, database] = await Promise.all([
      this.runnerManager
        .request('runners.status', runnersStatusRequestSchema.parse({}))
        .then((reply) => ({ ok: true as const, reply }))
        .catch((error: unknown) => ({ ok: false as const, error: toHttpError(error).message })),
      this.database
        .ping()
        .then((): Health => ({ status: 'up' }))
        .catch((error: unknown): Health => ({ status: 'down', error: String(error) })),
    ]);
    const byState = { pending: 0, starting: 0, running: 0, waiting: 0, idle: 0, stopping: 0 };
    let active = 0;
    let queued = 0;
    if (status.ok) {
      for (const project of status.reply.projects) {
        // `waiting` and `idle` are absent from an older runner-manager's reply.
        for (const state of ACTIVE_STATES) byState[state] += project.byState[state] ?? 0;
        active += project.active;
        queued += project.queued.length;
      }
    }
    return {
      runners: status.ok ? { active, queued, byState } : null,
      projects: status.ok ? status.reply.projects : null,
      services: {
        gateway: { status: 'up' },
        database,
        bus: this.bus.isConnected()
          ? { status: 'up' }
          : { status: 'down', error: 'not connected to the message bus' },
        runnerManager: status.ok ? { status: 'up' } : { status: 'down', error: status.error },
      },
    };
  }
}
