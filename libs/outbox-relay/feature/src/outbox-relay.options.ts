import { z } from 'zod';

/** Tuning of {@link OutboxRelay}; validated once when the relay is built. */
export const outboxRelayOptionsSchema = z
  .object({
    /** Rows claimed (and published) per batch. */
    batchSize: z.number().int().min(1).max(10_000).default(1_000),
    /**
     * Batches in flight at once: claimed and published one after another without waiting for
     * the earlier ones' confirms, then settled (marked) in claim order. A subject may be in
     * several of this relay's batches, never in another relay's.
     */
    window: z.number().int().min(1).max(64).default(4),
    /** How long a batch may wait for broker confirms; unconfirmed messages count as failed. */
    publishTimeoutMs: z.number().int().min(1).default(10_000),
    /** Failed attempts after which a row is dead-lettered. */
    maxAttempts: z.number().int().min(1).default(10),
    /** Delay before the second attempt; doubles each time up to `backoffMaxMs`. */
    backoffBaseMs: z.number().int().min(0).default(1_000),
    backoffMaxMs: z.number().int().min(0).default(300_000),
    /** Safety net when no wake-up arrives (missed notification, rows whose retry came due). */
    idlePollIntervalMs: z.number().int().min(1).default(1_000),
  })
  .refine((o) => o.backoffMaxMs >= o.backoffBaseMs, {
    message: 'backoffMaxMs must be at least backoffBaseMs',
    path: ['backoffMaxMs'],
  });

export type OutboxRelayOptions = z.output<typeof outboxRelayOptionsSchema>;
export type OutboxRelayOptionsInput = z.input<typeof outboxRelayOptionsSchema>;

/** Delay before the attempt that follows failed attempt number `attempt` (1-based). */
export function relayBackoffMs(attempt: number, options: OutboxRelayOptions): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** exponent);
}
