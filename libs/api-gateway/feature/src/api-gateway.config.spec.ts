import { z } from 'zod';

import { gatewayEnvSchema, gatewayOptionsFromEnv } from './api-gateway.config';
import { gatewayOptionsSchema } from './api-gateway.options';

describe('gateway configuration', () => {
  it('caches verified keys for 10 s by default, API_KEY_CACHE_TTL=0 turns it off', () => {
    const defaults = gatewayOptionsSchema.parse(
      gatewayOptionsFromEnv('postgres://db', gatewayEnvSchema.parse({})),
    );
    expect(defaults.apiKeyCache).toEqual({ ttlMs: 10_000, maxEntries: 10_000 });

    const off = gatewayEnvSchema.parse({ API_KEY_CACHE_TTL: '0' });
    expect(gatewayOptionsFromEnv('postgres://db', off).apiKeyCache).toEqual({ ttlMs: 0 });
    expect(gatewayEnvSchema.parse({ API_KEY_CACHE_TTL: '30s' }).API_KEY_CACHE_TTL).toBe(30_000);
  });

  it('refuses an API_KEY_CACHE_TTL that is not a duration, naming the variable', () => {
    const result = gatewayEnvSchema.safeParse({ API_KEY_CACHE_TTL: 'soon' });
    expect(result.success).toBe(false);
    expect(z.prettifyError(result.error!)).toContain('API_KEY_CACHE_TTL');
  });
});
