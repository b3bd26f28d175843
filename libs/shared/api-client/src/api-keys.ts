import { randomBytes as cryptoRandomBytes } from 'node:crypto';

import { z } from 'zod';

import { requestJson } from './json-request';
import { type StratavoreApiClientOptions } from './stratavore-api-client';

/**
 * Key format: `sv_<prefix>_<secret>`. The prefix (8 lowercase base32 characters) is shown in
 * listings and finds the key's row; the secret is 32 random bytes in base64url (43 characters).
 * The gateway stores only the SHA-256 of the whole key.
 */
export const API_KEY_PATTERN = /^sv_([a-z2-7]{8})_([A-Za-z0-9_-]{43})$/;

/** {@link API_KEY_PATTERN} for people, in error messages. */
export const API_KEY_FORMAT = 'sv_<8 characters a-z 2-7>_<43 base64url characters>';

/** What a key may do: `viewer` reads, `operator` also runs things, `admin` also manages keys. */
export const API_KEY_SCOPE_NAMES = ['viewer', 'operator', 'admin'] as const;
export type ApiKeyScopeName = (typeof API_KEY_SCOPE_NAMES)[number];

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * A fresh API key in {@link API_KEY_PATTERN}'s format from `randomBytes` (40 bytes: 8 for the
 * prefix, 32 for the secret). The gateway mints keys with it, and `stratavore keys generate`
 * makes `API_BOOTSTRAP_KEY` values offline with it.
 */
export function generateApiKey(randomBytes: (size: number) => Buffer = cryptoRandomBytes): {
  key: string;
  prefix: string;
} {
  const prefixBytes = randomBytes(8);
  let prefix = '';
  for (let i = 0; i < 8; i++) prefix += BASE32[prefixBytes[i]! % 32];
  const secret = randomBytes(32).toString('base64url');
  return { key: `sv_${prefix}_${secret}`, prefix };
}

const isoInstant = z.iso.datetime({ offset: true });

/** An API key as `GET /api/v1/keys` shows it: never the secret nor its hash. */
export const apiKeyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scope: z.enum(API_KEY_SCOPE_NAMES),
  createdAt: isoInstant,
  lastUsedAt: isoInstant.nullable(),
  revokedAt: isoInstant.nullable(),
});
export type ApiKeyView = z.output<typeof apiKeyViewSchema>;

export const apiKeyListReplySchema = z.object({ keys: z.array(apiKeyViewSchema) });
export type ApiKeyListReply = z.output<typeof apiKeyListReplySchema>;

/** `POST /api/v1/keys`: the only answer that carries the key itself. */
export const createdApiKeyReplySchema = z.object({
  key: z.string().regex(API_KEY_PATTERN),
  apiKey: apiKeyViewSchema,
});
export type CreatedApiKeyReply = z.output<typeof createdApiKeyReplySchema>;

export const revokedApiKeyReplySchema = z.object({ apiKey: apiKeyViewSchema });
export type RevokedApiKeyReply = z.output<typeof revokedApiKeyReplySchema>;

const DEFAULT_TIMEOUT_MS = 10_000;
const KEYS_PATH = '/api/v1/keys';

/** The gateway's API key administration (`/api/v1/keys`); every call needs an admin key. */
export class ApiKeysClient {
  constructor(private readonly options: StratavoreApiClientOptions) {}

  /** Every key, oldest first, revoked ones included. */
  listKeys(): Promise<ApiKeyListReply> {
    return this.request('GET', KEYS_PATH, undefined, apiKeyListReplySchema);
  }

  /** Creates a key; the answer's `key` is the only time the key is shown. */
  createKey(input: { name: string; scope: ApiKeyScopeName }): Promise<CreatedApiKeyReply> {
    return this.request('POST', KEYS_PATH, input, createdApiKeyReplySchema);
  }

  /** Revokes a key by id (idempotent: a revoked key keeps its first revocation time). */
  revokeKey(id: string): Promise<RevokedApiKeyReply> {
    return this.request(
      'DELETE',
      `${KEYS_PATH}/${encodeURIComponent(id)}`,
      undefined,
      revokedApiKeyReplySchema,
    );
  }

  private request<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body: unknown,
    schema: z.ZodType<T>,
  ): Promise<T> {
    return requestJson({
      method,
      path,
      body,
      schema,
      baseUrl: this.options.baseUrl,
      token: this.options.token,
      timeoutMs: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      fetch: this.options.fetch,
    });
  }
}
