import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { type TokenUsage, ZERO_TOKEN_USAGE } from './token-usage';

/** The lines of a fixture file under `src/fixtures/` (see its README for attribution). */
export function fixtureLines(name: string): string[] {
  const text = readFileSync(join(__dirname, 'fixtures', name), 'utf8');
  return text.split('\n').filter((line) => line !== '');
}

/** A usage with the given kinds, the others zero: keeps expected figures short in tests. */
export function usage(kinds: Partial<TokenUsage>): TokenUsage {
  return { ...ZERO_TOKEN_USAGE, ...kinds };
}
