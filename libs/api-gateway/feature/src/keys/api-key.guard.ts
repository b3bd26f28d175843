import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type ApiKeyScope } from '@stratavore/api-gateway-data-access';

import { GatewayErrorCode, GatewayException } from '../http/gateway.exception';
import { type GatewayRequest } from '../http/http-types';
import { ApiKeyService } from './api-key.service';
import { REQUIRED_SCOPE, requiredScopeOf, scopeAllows } from './api-scope';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** `Authorization: Bearer <key>` on every gateway route, then the route's scope. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(ApiKeyService) private readonly keys: ApiKeyService,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<GatewayRequest>();
    const header = request.headers['authorization'];
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    if (!match) {
      throw new GatewayException(
        GatewayErrorCode.Unauthenticated,
        'missing API key: send Authorization: Bearer <key>',
      );
    }
    const result = await this.keys.verify(match[1]!);
    if (!result.ok) {
      throw new GatewayException(
        GatewayErrorCode.Unauthenticated,
        result.reason === 'revoked' ? 'the API key was revoked' : 'invalid API key',
      );
    }
    const declared = this.reflector.getAllAndOverride<ApiKeyScope | undefined>(REQUIRED_SCOPE, [
      context.getHandler(),
      context.getClass(),
    ]);
    const required = requiredScopeOf(declared, request.method);
    if (!scopeAllows(result.principal.scope, required)) {
      throw new GatewayException(
        GatewayErrorCode.Forbidden,
        `this request needs the ${required} scope; key ${result.principal.prefix} is ${result.principal.scope}`,
      );
    }
    request.apiKey = result.principal;
    return true;
  }
}
