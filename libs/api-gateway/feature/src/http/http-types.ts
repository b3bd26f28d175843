import { type IncomingMessage, type ServerResponse } from 'node:http';

import { type ApiKeyPrincipal } from '../keys/api-key.principal';

/**
 * The parts of Fastify's request the gateway uses. Declared here rather than imported from
 * `fastify`, which is a dependency of `@nestjs/platform-fastify`, not of this workspace.
 */
export interface GatewayRequest {
  readonly method: string;
  readonly url: string;
  readonly ip: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly raw: IncomingMessage;
  /** Set by the correlation hook of `@stratavore/observability`. */
  correlationId?: string;
  /** Set by the API key guard. */
  apiKey?: ApiKeyPrincipal;
}

/** The parts of Fastify's reply the gateway uses. */
export interface GatewayReply {
  readonly sent: boolean;
  readonly raw: ServerResponse;
  status(statusCode: number): GatewayReply;
  header(name: string, value: string): GatewayReply;
  getHeaders(): Record<string, string | number | string[] | undefined>;
  send(payload?: unknown): GatewayReply;
  hijack(): GatewayReply;
}
