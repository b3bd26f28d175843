import { createHash } from 'node:crypto';

/**
 * Maps a string key to the signed 64-bit integer PostgreSQL advisory locks take, as a decimal
 * string (a JavaScript number cannot hold every int8). The first 8 bytes of SHA-256 keep
 * collisions between distinct keys practically impossible.
 */
export function advisoryLockKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest().readBigInt64BE(0).toString();
}
