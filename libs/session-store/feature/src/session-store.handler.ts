import { Logger } from '@nestjs/common';
import {
  SESSION_STORE_SERVICE,
  sessionStorePatternSchema,
  sessionStoreReplySchemas,
  sessionStoreRequestSchemas,
} from '@stratavore/contracts';
import { type z } from 'zod';

import { type SessionQueries } from './session-queries';
import { SessionStoreErrorCode, SessionStoreException } from './session-store.exception';

/** Parses a payload with its contract schema; a failure names every field. */
export function parsePayload<S extends z.ZodType>(schema: S, payload: unknown): z.output<S> {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  throw SessionStoreException.validationFailed(
    parsed.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || '(payload)',
      message: issue.message,
    })),
  );
}

/**
 * The transport edge of session-store's queries (bus service `session-store`): validates each
 * payload with its contract schema, runs the query and checks the reply against its schema.
 * Anything that is not a SessionStoreException leaves as `INTERNAL` without internals.
 */
export class SessionStoreRequestHandler {
  readonly service = SESSION_STORE_SERVICE;
  private readonly logger = new Logger('SessionStoreRequestHandler');

  constructor(private readonly queries: SessionQueries) {}

  readonly handle = async (pattern: string, payload: unknown): Promise<unknown> => {
    try {
      const known = sessionStorePatternSchema.safeParse(pattern);
      if (!known.success) {
        throw SessionStoreException.validationFailed(
          [
            {
              field: 'pattern',
              message: `expected one of ${sessionStorePatternSchema.options.join(', ')}; got "${pattern}"`,
            },
          ],
          'request',
        );
      }
      const reply = await this.dispatch(known.data, payload ?? {});
      return sessionStoreReplySchemas[known.data].parse(reply);
    } catch (error) {
      if (error instanceof SessionStoreException) throw error;
      this.logger.error(
        `${pattern} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      throw new SessionStoreException(
        SessionStoreErrorCode.Internal,
        `${pattern} failed: internal error`,
      );
    }
  };

  private dispatch(
    pattern: keyof typeof sessionStoreRequestSchemas,
    payload: unknown,
  ): Promise<unknown> {
    switch (pattern) {
      case 'sessions.list':
        return this.queries.list(parsePayload(sessionStoreRequestSchemas[pattern], payload));
      case 'sessions.get':
        return this.queries.get(parsePayload(sessionStoreRequestSchemas[pattern], payload).session);
      case 'sessions.transcript':
        return this.queries.transcript(parsePayload(sessionStoreRequestSchemas[pattern], payload));
      case 'usage.by':
        return this.queries.usageBy(parsePayload(sessionStoreRequestSchemas[pattern], payload));
      case 'runners.stats':
        return this.queries.runnersStats(
          parsePayload(sessionStoreRequestSchemas[pattern], payload),
        );
    }
  }
}
