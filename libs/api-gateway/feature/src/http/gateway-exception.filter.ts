import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import { currentCorrelationId } from '@stratavore/observability';

import { GatewayErrorCode, GatewayException } from './gateway.exception';
import { type ApiErrorBody, toHttpError } from './http-error-mapping';
import { type GatewayReply, type GatewayRequest } from './http-types';

/** Nest's own HTTP exceptions (malformed JSON, payload too large, ...) are bad input, never a 500. */
function fromNestHttpException(error: HttpException): GatewayException | undefined {
  const status = error.getStatus();
  if (status >= 500) return undefined;
  if (status === 404) return new GatewayException(GatewayErrorCode.RouteNotFound, error.message);
  return new GatewayException(GatewayErrorCode.BadRequest, error.message);
}

/** Fastify's own client errors (content-type parser, body limit) carry a 4xx `statusCode`. */
function fromFastifyClientError(error: unknown): GatewayException | undefined {
  if (!(error instanceof Error)) return undefined;
  const statusCode = (error as Error & { statusCode?: unknown }).statusCode;
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return undefined;
  return new GatewayException(GatewayErrorCode.BadRequest, error.message);
}

/** Every error of the gateway's routes, as `{ statusCode, code, message, errors?, requestId }`. */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiGateway');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<GatewayReply>();
    const request = http.getRequest<GatewayRequest>();
    const normalized =
      exception instanceof HttpException
        ? (fromNestHttpException(exception) ?? exception)
        : (fromFastifyClientError(exception) ?? exception);
    const error = toHttpError(normalized);
    if (error.status >= 500) {
      this.logger.error(
        `${request.method} ${request.url} failed: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`,
      );
    }
    const body: ApiErrorBody = {
      statusCode: error.status,
      code: error.code,
      message: error.message,
      ...(error.errors ? { errors: error.errors } : {}),
      ...(error.details === undefined ? {} : { details: error.details }),
      requestId: request.correlationId ?? currentCorrelationId() ?? 'unknown',
    };
    if (error.retryAfterSeconds !== undefined) {
      void reply.header('retry-after', String(error.retryAfterSeconds));
    }
    if (reply.sent) return;
    void reply.status(error.status).header('content-type', 'application/json').send(body);
  }
}
