import { SetMetadata } from '@nestjs/common';
import { type ApiKeyScope } from '@stratavore/api-gateway-data-access';

const RANK: Readonly<Record<ApiKeyScope, number>> = { viewer: 0, operator: 1, admin: 2 };

/** True when a key of scope `granted` may do what needs `required`; scopes nest. */
export function scopeAllows(granted: ApiKeyScope, required: ApiKeyScope): boolean {
  return RANK[granted] >= RANK[required];
}

export const REQUIRED_SCOPE = 'stratavore:api-gateway:required-scope';

/** The scope a route needs; without it, reads need `viewer` and anything else `admin`. */
export const RequiredScope = (scope: ApiKeyScope) => SetMetadata(REQUIRED_SCOPE, scope);

/** The scope a request needs: the route's declared scope, else by method (failing closed). */
export function requiredScopeOf(declared: ApiKeyScope | undefined, method: string): ApiKeyScope {
  if (declared) return declared;
  const upper = method.toUpperCase();
  return upper === 'GET' || upper === 'HEAD' ? 'viewer' : 'admin';
}
