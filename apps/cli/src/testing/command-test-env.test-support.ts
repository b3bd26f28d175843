import { join } from 'node:path';

import { FakeApi } from './fake-api.test-support';
import { temporaryConfigDir } from './run-command.test-support';

/** A fake API and a private config directory per test; verifies the fake after each test. */
export function useFakeApi(): {
  api: () => FakeApi;
  env: () => Record<string, string>;
  dir: () => string;
} {
  let api: FakeApi | undefined;
  let dir: { dir: string; cleanup: () => Promise<void> } | undefined;

  beforeEach(async () => {
    api = await FakeApi.start();
    dir = await temporaryConfigDir();
  });

  afterEach(async () => {
    try {
      api?.verify();
    } finally {
      await api?.stop();
      await dir?.cleanup();
    }
  });

  const must = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useFakeApi: used outside a test');
    return value;
  };
  return {
    api: () => must(api),
    dir: () => must(dir).dir,
    env: () => ({
      STRATAVORE_API_URL: must(api).url,
      STRATAVORE_API_KEY: 'sk-test-key-1234',
      STRATAVORE_CONFIG: join(must(dir).dir, 'config.json'),
    }),
  };
}
