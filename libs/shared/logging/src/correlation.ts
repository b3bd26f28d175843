import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

const storage = new AsyncLocalStorage<string>();

/** Runs `fn` with `correlationId` in scope for everything it calls, sync or async. */
export function runWithCorrelation<T>(correlationId: string, fn: () => T): T {
  return storage.run(correlationId, fn);
}

/** The correlation id in scope, or undefined outside `runWithCorrelation`. */
export function currentCorrelationId(): string | undefined {
  return storage.getStore();
}

/** A fresh correlation id (UUID v4). */
export function newCorrelationId(): string {
  return randomUUID();
}
