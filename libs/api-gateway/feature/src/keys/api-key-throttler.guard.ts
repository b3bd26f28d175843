import { type ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';

import { GatewayErrorCode, GatewayException } from '../http/gateway.exception';
import { type GatewayRequest } from '../http/http-types';

/**
 * The rate limit counts per API key across every gateway route (runs after the API key guard);
 * a request without a verified key counts against its client address.
 */
@Injectable()
export class ApiKeyThrottlerGuard extends ThrottlerGuard {
  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as GatewayRequest;
    return Promise.resolve(request.apiKey ? `key:${request.apiKey.id}` : `ip:${request.ip}`);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, name: string) {
    return `api-gateway:${name}:${tracker}`;
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const retryAfterSeconds = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    throw new GatewayException(
      GatewayErrorCode.RateLimited,
      `rate limit of ${detail.limit} requests per ${Math.round(detail.ttl / 1000)} s exceeded; retry in ${retryAfterSeconds} s`,
      undefined,
      { retryAfterSeconds },
    );
  }
}
