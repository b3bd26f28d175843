import { randomBytes } from 'node:crypto';

/**
 * A name no other test run uses, for exchanges, queues, databases and the like:
 * `<prefix>-<time base36>-<6 hex>`. Keep `prefix` short when the name has a length limit.
 */
export function uniqueName(prefix: string, separator = '-'): string {
  return [prefix, Date.now().toString(36), randomBytes(3).toString('hex')].join(separator);
}
