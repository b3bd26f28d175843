import { randomUUID } from 'node:crypto';

/** Where identifiers come from; injected so tests can make them predictable. */
export interface IdGenerator {
  uuid(): string;
}

export const ID_GENERATOR = Symbol('ID_GENERATOR');

export class RandomIdGenerator implements IdGenerator {
  uuid(): string {
    return randomUUID();
  }
}

/** Deterministic UUID-shaped ids (`00000000-0000-4000-8000-000000000001`, ...). */
export class SequentialIdGenerator implements IdGenerator {
  private next = 1;

  uuid(): string {
    const n = (this.next++).toString(16).padStart(12, '0');
    return `00000000-0000-4000-8000-${n}`;
  }
}
