import { type ApiKeyView } from '@stratavore/api-client';

export const KEY_ID = '3d9f6a1e-8b2c-4f3d-9e4a-5b6c7d8e9f01';
/** A key in the gateway's format, as `keys create` answers it. */
export const PLAIN_KEY = 'sv_abcd2345_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcde-_';

export function anApiKey(overrides: Partial<ApiKeyView> = {}): ApiKeyView {
  return {
    id: KEY_ID,
    name: 'ci',
    prefix: 'abcd2345',
    scope: 'operator',
    createdAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
    lastUsedAt: null,
    revokedAt: null,
    ...overrides,
  };
}
