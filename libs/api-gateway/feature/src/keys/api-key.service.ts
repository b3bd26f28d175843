import { createHash, timingSafeEqual } from 'node:crypto';

import { Inject, Injectable, Optional } from '@nestjs/common';
import { API_KEY_FORMAT, API_KEY_PATTERN, generateApiKey } from '@stratavore/api-client';
import {
  type ApiKeyRecord,
  type ApiKeyRepository,
  type ApiKeyScope,
  type GatewayDatabase,
  type NewApiKey,
} from '@stratavore/api-gateway-data-access';
import { CLOCK, type Clock, ID_GENERATOR, type IdGenerator } from '@stratavore/core';

import { GatewayErrorCode, GatewayException } from '../http/gateway.exception';
import { type ApiKeyPrincipal } from './api-key.principal';
import {
  BOOTSTRAP_API_KEY,
  GATEWAY_DATABASE,
  KEY_RANDOMNESS,
  type RandomBytesSource,
  VERIFIED_KEY_CACHE,
} from './api-key.tokens';
import { type VerifiedKeyCache } from './verified-key-cache';

/** The name of the admin key the first start creates (or stores from `API_BOOTSTRAP_KEY`). */
export const BOOTSTRAP_KEY_NAME = 'bootstrap admin';

/** A key used within this long of its last recorded use is not written again. */
const LAST_USED_RESOLUTION_MS = 60_000;
/** Compared against when no key has the prefix, so a miss costs what a hit costs. */
const DECOY_HASH = createHash('sha256').update('stratavore-decoy-key').digest();

/** An API key as the API shows it: never the secret nor its hash. */
export interface ApiKeyView {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly scope: ApiKeyScope;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

/** A key just created: the only time its plaintext exists outside the caller. */
export interface CreatedApiKey {
  readonly key: string;
  readonly apiKey: ApiKeyView;
}

export type VerifyResult =
  | { readonly ok: true; readonly principal: ApiKeyPrincipal }
  | { readonly ok: false; readonly reason: 'malformed' | 'unknown' | 'revoked' };

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function toApiKeyView(record: ApiKeyRecord): ApiKeyView {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    scope: record.scope,
    createdAt: record.createdAt.toISOString(),
    lastUsedAt: record.lastUsedAt?.toISOString() ?? null,
    revokedAt: record.revokedAt?.toISOString() ?? null,
  };
}

type KeyStore = Pick<
  ApiKeyRepository,
  'insert' | 'insertIfNoneExist' | 'findByPrefix' | 'list' | 'revoke' | 'touchLastUsed'
>;

/**
 * API keys: create (plaintext returned once), list, revoke, verify in constant time. With a
 * {@link VerifiedKeyCache}, a key verified within its TTL is answered from memory (no database
 * round trip) and a revoke here drops it at once.
 */
@Injectable()
export class ApiKeyService {
  private readonly keys: KeyStore;
  private bootstrap: Promise<CreatedApiKey | null> | undefined;

  constructor(
    @Inject(GATEWAY_DATABASE) database: Pick<GatewayDatabase, 'apiKeys'>,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_GENERATOR) private readonly ids: IdGenerator,
    @Inject(KEY_RANDOMNESS) private readonly randomBytes: RandomBytesSource,
    @Optional()
    @Inject(VERIFIED_KEY_CACHE)
    private readonly cache: VerifiedKeyCache | null = null,
    @Optional()
    @Inject(BOOTSTRAP_API_KEY)
    private readonly bootstrapKey: string | null = null,
  ) {
    this.keys = database.apiKeys;
  }

  async create(input: { name: string; scope: ApiKeyScope }): Promise<CreatedApiKey> {
    const { key, record } = this.mint(input);
    const stored = await this.keys.insert(record);
    return { key, apiKey: toApiKeyView(stored) };
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.keys.list()).map(toApiKeyView);
  }

  /** Revokes the key (idempotent: a revoked key keeps its first revocation time). */
  async revoke(id: string): Promise<ApiKeyView> {
    const revoked = await this.keys.revoke(id, this.clock.now());
    this.cache?.forget(id);
    if (!revoked) {
      throw new GatewayException(GatewayErrorCode.ApiKeyNotFound, `no API key with id ${id}`);
    }
    return toApiKeyView(revoked);
  }

  async verify(presented: string): Promise<VerifyResult> {
    const match = API_KEY_PATTERN.exec(presented);
    if (!match) return { ok: false, reason: 'malformed' };
    const digest = sha256(presented);
    const cache = this.cache?.enabled === true ? this.cache : null;
    // A lookup by digest reveals nothing usable about the key itself (sha256 preimages).
    const cacheKey = cache ? digest.toString('base64') : '';
    const cached = cache?.get(cacheKey);
    if (cached) return { ok: true, principal: cached };
    const mark = cache?.mark() ?? 0;
    const record = await this.keys.findByPrefix(match[1]!);
    const expected = record ? Buffer.from(record.secretHash, 'hex') : DECOY_HASH;
    const equal = timingSafeEqual(digest, expected);
    if (!record || !equal) return { ok: false, reason: 'unknown' };
    if (record.revokedAt) return { ok: false, reason: 'revoked' };
    const now = this.clock.now();
    if (
      !record.lastUsedAt ||
      now.getTime() - record.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS
    ) {
      await this.keys.touchLastUsed(record.id, now);
    }
    const principal = {
      id: record.id,
      name: record.name,
      prefix: record.prefix,
      scope: record.scope,
    };
    cache?.set(cacheKey, principal, mark);
    return { ok: true, principal };
  }

  /**
   * The first start: when no key exists at all (revoked ones count), stores an admin key named
   * `bootstrap admin` and returns it; otherwise returns null. The key is the configured
   * `API_BOOTSTRAP_KEY` when there is one (only its hash is stored), else a fresh one the caller
   * hands on (the daemon writes it to the CLI configuration). Safe against concurrent first
   * starts of several replicas: one key is stored. Within one process the outcome is decided
   * once: a later call answers the same (the gateway stores a configured key while the
   * application starts, and the daemon then asks for the key to write).
   */
  ensureBootstrapAdminKey(): Promise<CreatedApiKey | null> {
    this.bootstrap ??= this.storeBootstrapAdminKey().catch((error: unknown) => {
      this.bootstrap = undefined;
      throw error;
    });
    return this.bootstrap;
  }

  /** Whether this gateway was configured with `API_BOOTSTRAP_KEY`. */
  get hasConfiguredBootstrapKey(): boolean {
    return this.bootstrapKey !== null;
  }

  private async storeBootstrapAdminKey(): Promise<CreatedApiKey | null> {
    const input = { name: BOOTSTRAP_KEY_NAME, scope: 'admin' as const };
    const { key, record } =
      this.bootstrapKey === null
        ? this.mint(input)
        : { key: this.bootstrapKey, record: this.recordOf(this.bootstrapKey, input) };
    const stored = await this.keys.insertIfNoneExist(record);
    return stored ? { key, apiKey: toApiKeyView(stored) } : null;
  }

  private mint(input: { name: string; scope: ApiKeyScope }): { key: string; record: NewApiKey } {
    const { key } = generateApiKey(this.randomBytes);
    return { key, record: this.recordOf(key, input) };
  }

  private recordOf(key: string, input: { name: string; scope: ApiKeyScope }): NewApiKey {
    const match = API_KEY_PATTERN.exec(key);
    if (!match) throw new Error(`the bootstrap key is not of the form ${API_KEY_FORMAT}`);
    return {
      id: this.ids.uuid(),
      name: input.name,
      prefix: match[1]!,
      secretHash: sha256(key).toString('hex'),
      scope: input.scope,
      createdAt: this.clock.now(),
    };
  }
}
