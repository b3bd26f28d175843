import { applyDecorators, UseFilters, UseGuards } from '@nestjs/common';

import { GatewayExceptionFilter } from '../http/gateway-exception.filter';
import { ApiKeyGuard } from '../keys/api-key.guard';
import { ApiKeyThrottlerGuard } from '../keys/api-key-throttler.guard';

/**
 * Marks a controller as part of the public API: API key and scope, then the per-key rate
 * limit, and the gateway's error body. Applied per controller rather than globally, because the
 * daemon serves other modules' routes (heartbeats, health) from the same application.
 */
export const GatewayRoutes = () =>
  applyDecorators(UseFilters(GatewayExceptionFilter), UseGuards(ApiKeyGuard, ApiKeyThrottlerGuard));
