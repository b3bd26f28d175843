import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { newCorrelationId, runWithCorrelation } from '@stratavore/logging';

/** Header names read, in order; the id is echoed back as `x-request-id`. */
export const CORRELATION_HEADERS = ['x-request-id', 'x-correlation-id'] as const;

/** Ids we accept from callers: short, printable, no spaces (they end up in logs and headers). */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type FastifyInstance = ReturnType<
  ReturnType<NestFastifyApplication['getHttpAdapter']>['getInstance']
>;
type RequestWithCorrelation = {
  correlationId?: string;
  headers: Record<string, string | string[] | undefined>;
};

/** The caller's `x-request-id` / `x-correlation-id` when acceptable, else a fresh id. */
export function correlationIdFrom(headers: Record<string, string | string[] | undefined>): string {
  for (const name of CORRELATION_HEADERS) {
    const value = headers[name];
    const candidate = Array.isArray(value) ? value[0] : value;
    if (candidate && ACCEPTABLE_ID.test(candidate)) return candidate;
  }
  return newCorrelationId();
}

/**
 * Runs every HTTP request of a Nest Fastify app in a correlation context and echoes the id in
 * `x-request-id`. Call before `app.listen()` (before `app.init()` in tests).
 *
 * The context is entered in `onRequest` and entered again in `preValidation`, because Fastify
 * parses the body on stream events that lose the asynchronous context; the handler and
 * everything it awaits then see `currentCorrelationId()`.
 */
export function registerHttpCorrelation(app: NestFastifyApplication): void {
  const fastify: FastifyInstance = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    const req = request as unknown as RequestWithCorrelation;
    const correlationId = correlationIdFrom(req.headers);
    req.correlationId = correlationId;
    void reply.header('x-request-id', correlationId);
    runWithCorrelation(correlationId, done);
  });
  fastify.addHook('preValidation', (request, _reply, done) => {
    const { correlationId } = request as unknown as RequestWithCorrelation;
    if (correlationId === undefined) done();
    else runWithCorrelation(correlationId, done);
  });
}
