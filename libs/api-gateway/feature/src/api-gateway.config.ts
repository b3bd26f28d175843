import { API_KEY_FORMAT, API_KEY_PATTERN } from '@stratavore/api-client';
import { duration } from '@stratavore/config';
import { z } from 'zod';

import { type GatewayOptionsInput } from './api-gateway.options';

const positiveInteger = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = String(value).trim();
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    ctx.addIssue({ code: 'custom', message: 'expected a positive integer' });
    return z.NEVER;
  }
  return Number(text);
});

/**
 * `API_BOOTSTRAP_KEY`: an API key (`stratavore keys generate` makes one), surrounding whitespace
 * ignored (a Secret mounted from a file ends with a newline). Its value never appears in an
 * error: the variable's name does.
 */
const bootstrapKey = z
  .string()
  .trim()
  .regex(API_KEY_PATTERN, {
    error: `expected an API key of the form ${API_KEY_FORMAT} (stratavore keys generate makes one)`,
  });

/**
 * The gateway's environment: `API_RATE_LIMIT` requests per API key per
 * `API_RATE_LIMIT_WINDOW` (default 600 per 1m), `API_REQUEST_TIMEOUT` (default 10s),
 * `API_KEY_CACHE_TTL` (default 10s; 0 verifies every request against the database),
 * `API_LIST_CACHE_TTL` (default 1s; how old a cached runner list page may be, 0 turns the cache
 * off), `API_PROJECT_CACHE_TTL` (default 1s; how old a project a budget check looked up may
 * be, 0 turns that cache off),
 * `API_BOOTSTRAP_KEY` (optional: the first admin key, stored when no key exists yet).
 */
export const gatewayEnvSchema = z.object({
  API_RATE_LIMIT: positiveInteger.default(600),
  API_RATE_LIMIT_WINDOW: duration().default(60_000),
  API_REQUEST_TIMEOUT: duration().default(10_000),
  API_KEY_CACHE_TTL: duration().default(10_000),
  API_LIST_CACHE_TTL: duration().default(1_000),
  API_PROJECT_CACHE_TTL: duration().default(1_000),
  API_BOOTSTRAP_KEY: bootstrapKey.optional(),
});

export type GatewayEnv = z.output<typeof gatewayEnvSchema>;

/** Module options from the validated environment. */
export function gatewayOptionsFromEnv(databaseUrl: string, env: GatewayEnv): GatewayOptionsInput {
  return {
    databaseUrl,
    rateLimit: { limit: env.API_RATE_LIMIT, windowMs: env.API_RATE_LIMIT_WINDOW },
    requestTimeoutMs: env.API_REQUEST_TIMEOUT,
    apiKeyCache: { ttlMs: env.API_KEY_CACHE_TTL },
    runnerListCache: { ttlMs: env.API_LIST_CACHE_TTL },
    projectCache: { ttlMs: env.API_PROJECT_CACHE_TTL },
    bootstrapKey: env.API_BOOTSTRAP_KEY,
  };
}
