import { generateApiKey } from '@stratavore/api-client';
import { ConfigError, loadConfig } from '@stratavore/config';
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

  it.each([
    ['runnerListCache', 'API_LIST_CACHE_TTL', 256, 'briefly'],
    ['projectCache', 'API_PROJECT_CACHE_TTL', 1_024, '-1s'],
  ] as const)(
    'keeps %s entries for 1 s by default, %s=0 turns it off',
    (cache, variable, maxEntries, bad) => {
      const defaults = gatewayOptionsSchema.parse(
        gatewayOptionsFromEnv('postgres://db', gatewayEnvSchema.parse({})),
      );
      expect(defaults[cache]).toEqual({ ttlMs: 1_000, maxEntries });
      const off = gatewayEnvSchema.parse({ [variable]: '0' });
      expect(gatewayOptionsFromEnv('postgres://db', off)[cache]).toEqual({ ttlMs: 0 });
      const result = gatewayEnvSchema.safeParse({ [variable]: bad });
      expect(result.success).toBe(false);
      expect(z.prettifyError(result.error!)).toContain(variable);
    },
  );

  describe('API_BOOTSTRAP_KEY', () => {
    const { key } = generateApiKey();

    it('is optional, and passes a well-formed key (trimmed) on to the module', () => {
      expect(gatewayEnvSchema.parse({}).API_BOOTSTRAP_KEY).toBeUndefined();
      expect(gatewayOptionsFromEnv('postgres://db', gatewayEnvSchema.parse({})).bootstrapKey).toBe(
        undefined,
      );

      const env = gatewayEnvSchema.parse({ API_BOOTSTRAP_KEY: `${key}\n` });
      expect(env.API_BOOTSTRAP_KEY).toBe(key);
      const options = gatewayOptionsSchema.parse(gatewayOptionsFromEnv('postgres://db', env));
      expect(options.bootstrapKey).toBe(key);
    });

    it.each([
      ['an empty value', ''],
      ['a key without the sv_ prefix', key.slice(3)],
      ['a key with an upper-case prefix', `sv_ABCDEFGH_${key.slice(12)}`],
      ['a key with a short secret', key.slice(0, -1)],
      ['a key with a long secret', `${key}A`],
      ['a key with characters outside base64url', `${key.slice(0, -1)}+`],
    ])('refuses %s, naming the variable and the form, never echoing it', (_case, value) => {
      let error: unknown;
      try {
        loadConfig(gatewayEnvSchema, { API_BOOTSTRAP_KEY: value }, { app: 'api-gateway' });
      } catch (caught) {
        error = caught;
      }

      expect(error).toBeInstanceOf(ConfigError);
      if (!(error instanceof ConfigError)) return;
      expect(error.problems).toEqual([
        {
          variable: 'API_BOOTSTRAP_KEY',
          expected:
            'expected an API key of the form sv_<8 characters a-z 2-7>_<43 base64url characters> (stratavore keys generate makes one)',
          given: '(hidden)',
        },
      ]);
      if (value !== '') expect(error.message).not.toContain(value);
    });
  });
});
