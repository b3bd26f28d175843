import { commonConfigSchema, url } from '@stratavore/config';
import { z } from 'zod';

/** `HTTP_PORT`: 0 asks the OS for a free port (tests, smoke runs). */
export function httpPort() {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const text = String(value).trim();
    const parsed = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isInteger(parsed) || parsed > 65_535) {
      ctx.addIssue({ code: 'custom', message: 'expected a port from 0 to 65535' });
      return z.NEVER;
    }
    return parsed;
  });
}

export interface ServiceConfigDefaults {
  /** Default `HTTP_PORT` for /health, /metrics (and the API where the service serves one). */
  readonly httpPort: number;
  /** Default `HTTP_HOST`; services listen on every interface, the daemon on loopback. */
  readonly httpHost?: string;
}

/**
 * The variables every separately deployed service reads: the common ones plus
 * `DATABASE_URL` (required), `AMQP_URL` (required), `HTTP_PORT` and `HTTP_HOST`.
 */
export function serviceConfigSchema(defaults: ServiceConfigDefaults) {
  return commonConfigSchema.extend({
    /** `DATABASE_URL`: PostgreSQL, `postgres://user:password@host:5432/database`. */
    DATABASE_URL: url(['postgres', 'postgresql']),
    /** `AMQP_URL`: RabbitMQ, `amqp://user:password@host:5672/vhost`. */
    AMQP_URL: url(['amqp', 'amqps']),
    HTTP_PORT: httpPort().default(defaults.httpPort),
    HTTP_HOST: z
      .string()
      .min(1)
      .default(defaults.httpHost ?? '0.0.0.0'),
  });
}

export type ServiceConfig = z.output<ReturnType<typeof serviceConfigSchema>>;
