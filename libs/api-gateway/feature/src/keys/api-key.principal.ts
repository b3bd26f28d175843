import { type ApiKeyScope } from '@stratavore/api-gateway-data-access';

/** The caller of a request, as the API key guard established it. */
export interface ApiKeyPrincipal {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly scope: ApiKeyScope;
}
