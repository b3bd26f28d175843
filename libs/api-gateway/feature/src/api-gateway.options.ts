import { API_KEY_FORMAT, API_KEY_PATTERN } from '@stratavore/api-client';
import { z } from 'zod';

/** An in-memory cache's options: `ttlMs` (0 turns it off) and `maxEntries`, with defaults. */
function cacheOptions(ttlMs: number, maxEntries: number) {
  return z
    .strictObject({
      ttlMs: z.number().int().nonnegative().default(ttlMs),
      maxEntries: z.number().int().positive().default(maxEntries),
    })
    .default({ ttlMs, maxEntries });
}

/** Options of {@link ApiGatewayModule.forRoot}. */
export const gatewayOptionsSchema = z.strictObject({
  /** PostgreSQL holding the `gateway` schema (API keys). */
  databaseUrl: z.string().min(1),
  /**
   * `API_BOOTSTRAP_KEY`: stored as the admin key `bootstrap admin` at start when the `gateway`
   * schema holds no key at all (revoked ones count); ignored otherwise.
   */
  bootstrapKey: z
    .string()
    .regex(API_KEY_PATTERN, { error: `expected an API key of the form ${API_KEY_FORMAT}` })
    .optional(),
  /** Requests per API key per window, across all gateway routes. */
  rateLimit: z
    .strictObject({
      limit: z.number().int().positive().default(600),
      windowMs: z.number().int().positive().default(60_000),
    })
    .default({ limit: 600, windowMs: 60_000 }),
  /**
   * Verified API keys kept in memory (docs/architecture.md, "The API gateway"): `ttlMs` is how long
   * another replica may still accept a key revoked elsewhere (0: every request asks the
   * database); `maxEntries` bounds the memory.
   */
  apiKeyCache: cacheOptions(10_000, 10_000),
  /**
   * Runner list pages kept in memory (docs/architecture.md, "The API gateway"): `ttlMs` is how
   * old a page may be (0: every list is read from the services); `maxEntries` bounds the memory.
   */
  runnerListCache: cacheOptions(1_000, 256),
  /**
   * Projects a budget check looked up, kept in memory (docs/architecture.md, "The API gateway"):
   * `ttlMs` is how long another replica's change to a project may go unseen by a check (0: every
   * check asks runner-manager); `maxEntries` bounds the memory.
   */
  projectCache: cacheOptions(1_000, 1_024),
  /** How long a request to a service may take before the answer is a 504. */
  requestTimeoutMs: z.number().int().positive().default(10_000),
  /**
   * How long the gateway waits for heartbeat-ingest's liveness of the runners it lists; past
   * it, runners are answered with runner-manager's view alone.
   */
  livenessTimeoutMs: z.number().int().positive().default(2_000),
  /** Names this instance's event-stream consumer (`api-gateway.sse.<instanceId>`). */
  instanceId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  /** Interval of the `: keep-alive` comments on the event stream. */
  sseKeepAliveMs: z.number().int().positive().default(15_000),
});

export type GatewayOptionsInput = z.input<typeof gatewayOptionsSchema>;
export type GatewayOptions = z.output<typeof gatewayOptionsSchema> & {
  readonly instanceId: string;
};

export const GATEWAY_OPTIONS = Symbol('GATEWAY_OPTIONS');
