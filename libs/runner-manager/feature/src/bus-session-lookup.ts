import { Logger } from '@nestjs/common';
import {
  type GetSessionRequest,
  SESSION_STORE_SERVICE,
  sessionDetailSchema,
  SessionStoreErrorCode,
} from '@stratavore/contracts';
import { RemoteRequestError, type RequestClient } from '@stratavore/messaging';

import { type SessionLookup, type SessionLookupOutcome } from './session-lookup.port';

export interface BusSessionLookupOptions {
  /** How long one request to session-store may take (default 5 000 ms). */
  readonly timeoutMs?: number;
}

/**
 * {@link SessionLookup} over the bus: `sessions.get` to session-store, the reply checked against
 * its contract. `SESSION_NOT_FOUND` is `not-found`; any other failure, or a malformed reply, is
 * `unavailable` with the reason.
 */
export class BusSessionLookup implements SessionLookup {
  private readonly logger = new Logger('SessionLookup');
  private readonly timeoutMs: number;

  constructor(
    private readonly bus: RequestClient,
    options: BusSessionLookupOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  async find(
    sessionId: string,
    ctx: { readonly correlationId: string },
  ): Promise<SessionLookupOutcome> {
    const payload: GetSessionRequest = { session: sessionId };
    let reply: unknown;
    try {
      reply = await this.bus.request<unknown>(SESSION_STORE_SERVICE, 'sessions.get', payload, {
        timeoutMs: this.timeoutMs,
        correlationId: ctx.correlationId,
      });
    } catch (error) {
      if (error instanceof RemoteRequestError) {
        if (error.code === String(SessionStoreErrorCode.SessionNotFound)) {
          return { status: 'not-found' };
        }
        return {
          status: 'unavailable',
          reason:
            error.code === String(SessionStoreErrorCode.Internal)
              ? 'session-store failed to handle the request'
              : error.message,
        };
      }
      return {
        status: 'unavailable',
        reason: error instanceof Error ? error.message : String(error),
      };
    }
    const parsed = sessionDetailSchema.safeParse(reply);
    if (!parsed.success) {
      this.logger.error(`sessions.get: malformed reply: ${parsed.error.message}`);
      return { status: 'unavailable', reason: 'session-store sent a malformed reply' };
    }
    const session = parsed.data;
    return {
      status: 'found',
      session: { id: session.id, projectId: session.projectId, cwd: session.cwd },
    };
  }
}
