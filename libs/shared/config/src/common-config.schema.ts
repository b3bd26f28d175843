import { z } from 'zod';

import { logLevel } from './fields';

/**
 * Development-only signing key. Every service started outside production without
 * `EVENT_SIGNING_KEY` uses this same value so that a local fleet agrees on signatures; in
 * production it is refused.
 */
export const DEVELOPMENT_EVENT_SIGNING_KEY = 'stratavore-development-signing-key';

/**
 * Variables every Stratavore service reads. Extend it with a service's own variables:
 * `commonConfigSchema.extend({ PORT: port().default(3000) })`.
 */
export const commonConfigSchema = z
  .object({
    /** `LOG_LEVEL`: fatal | error | warn | info | debug | trace | silent. Default `info`. */
    LOG_LEVEL: logLevel().default('info'),
    /** `NODE_ENV`: development | test | production. Default `development`. */
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    /**
     * `EVENT_SIGNING_KEY`: the shared HMAC key that signs and verifies event envelopes, at
     * least 16 characters. Required when `NODE_ENV=production` (the development default is
     * refused there); elsewhere it defaults to `DEVELOPMENT_EVENT_SIGNING_KEY`.
     */
    EVENT_SIGNING_KEY: z.string().min(16).default(DEVELOPMENT_EVENT_SIGNING_KEY),
    /**
     * `SERVICE_NAME`: the name in logs, metrics (`service` label) and the envelope `source`;
     * lower-case letters, digits and dashes. Optional: each app supplies its own default.
     */
    SERVICE_NAME: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, { error: 'expected lower-case letters, digits and dashes' })
      .optional(),
  })
  .superRefine(
    (config, ctx) => {
      // `when` makes this rule run even when other variables failed, so the operator sees
      // every problem in one message.
      if (
        config.NODE_ENV === 'production' &&
        config.EVENT_SIGNING_KEY === DEVELOPMENT_EVENT_SIGNING_KEY
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['EVENT_SIGNING_KEY'],
          message: 'expected a secret of at least 16 characters (required in production)',
        });
      }
    },
    { when: () => true },
  );

export type CommonConfig = z.output<typeof commonConfigSchema>;
