import { runWithCorrelation } from '@stratavore/logging';

import {
  type DeliveredEvent,
  type EventHandler,
  type HandlerResult,
  type RequestMeta,
} from './bus.ports';

/** Minimal logger both buses write to; Nest's `Logger` fits. */
export interface BusLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentBusLogger: BusLogger = {
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface RetryBackoff {
  /** Delay before the second delivery. */
  readonly baseMs: number;
  /** Cap on any single delay. */
  readonly maxMs: number;
}

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_RETRY_BACKOFF: RetryBackoff = { baseMs: 1_000, maxMs: 60_000 };

/** Exponential backoff: the wait after delivery `attempt` failed (1 -> base, 2 -> 2 x base, ...). */
export function retryDelayMs(attempt: number, backoff: RetryBackoff): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** exponent);
}

/**
 * True when `routingKey` matches the AMQP topic `pattern`: words separated by `.`, `*` is exactly
 * one word, `#` is zero or more words.
 */
export function topicMatches(pattern: string, routingKey: string): boolean {
  return matchWords(pattern.split('.'), 0, routingKey.split('.'), 0);
}

function matchWords(pattern: string[], p: number, key: string[], k: number): boolean {
  if (p === pattern.length) return k === key.length;
  const word = pattern[p];
  if (word === '#') {
    for (let skip = k; skip <= key.length; skip++) {
      if (matchWords(pattern, p + 1, key, skip)) return true;
    }
    return false;
  }
  if (k === key.length) return false;
  return (word === '*' || word === key[k]) && matchWords(pattern, p + 1, key, k + 1);
}

/**
 * Delivers an event to a consumer's handler with the event's correlation id in scope, so that
 * the handler's logs, and the requests it makes, carry it (both buses).
 */
export function deliverInScope(
  handler: EventHandler,
  event: DeliveredEvent,
): Promise<HandlerResult> {
  return runWithCorrelation(event.envelope.correlationId, () => handler(event));
}

/** Runs a responder with the request's correlation id in scope, when the request has one. */
export function answerInScope<T>(meta: RequestMeta, answer: () => T): T {
  return meta.correlationId ? runWithCorrelation(meta.correlationId, answer) : answer();
}
