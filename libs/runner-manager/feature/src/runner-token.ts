import { createHash, randomBytes } from 'node:crypto';

/** Where runner tokens come from; injected so tests can fix them. */
export interface RunnerTokenSource {
  /** 32 random bytes, base64url. */
  next(): string;
}

export const randomRunnerTokens: RunnerTokenSource = {
  next: () => randomBytes(32).toString('base64url'),
};

/** What is stored of a token: sha256, hex. */
export function hashRunnerToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
