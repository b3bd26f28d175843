import { type HeartbeatRequest } from '@stratavore/contracts';

/** A heartbeat accepted by the endpoint, waiting for the next flush. */
export interface BufferedHeartbeat {
  readonly report: HeartbeatRequest;
  readonly receivedAt: Date;
  readonly correlationId: string;
}

/**
 * Accepted heartbeats keyed by runner: one entry per runner, the report with the highest seq
 * wins (a tie goes to the later arrival). Counters are cumulative, so the winner carries
 * everything the reports it replaced did.
 */
export class HeartbeatBuffer {
  private entries = new Map<string, BufferedHeartbeat>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new Error(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds a heartbeat; returns true when the buffer is full and should be flushed now. */
  add(entry: BufferedHeartbeat): boolean {
    const held = this.entries.get(entry.report.runnerId);
    if (!held || supersedes(entry, held)) this.entries.set(entry.report.runnerId, entry);
    return this.entries.size >= this.maxEntries;
  }

  /** The heartbeat buffered for a runner, if any (not taken). */
  peek(runnerId: string): BufferedHeartbeat | undefined {
    return this.entries.get(runnerId);
  }

  /** Takes everything buffered, leaving the buffer empty. */
  drain(): BufferedHeartbeat[] {
    const taken = [...this.entries.values()];
    this.entries = new Map();
    return taken;
  }

  /**
   * Takes at most `count` entries, the longest buffered first; `first` (a runner id) is taken
   * before the others when buffered.
   */
  take(count: number, first?: string): BufferedHeartbeat[] {
    const taken: BufferedHeartbeat[] = [];
    const head = first === undefined ? undefined : this.entries.get(first);
    if (head && count > 0) {
      taken.push(head);
      this.entries.delete(head.report.runnerId);
    }
    for (const [runnerId, entry] of this.entries) {
      if (taken.length >= count) break;
      taken.push(entry);
      this.entries.delete(runnerId);
    }
    return taken;
  }

  /** Puts back entries of a failed flush, unless a newer report arrived meanwhile. */
  restore(entries: readonly BufferedHeartbeat[]): void {
    for (const entry of entries) {
      const held = this.entries.get(entry.report.runnerId);
      if (!held || supersedes(entry, held)) this.entries.set(entry.report.runnerId, entry);
    }
  }
}

function supersedes(candidate: BufferedHeartbeat, held: BufferedHeartbeat): boolean {
  if (candidate.report.seq !== held.report.seq) return candidate.report.seq > held.report.seq;
  return candidate.receivedAt.getTime() >= held.receivedAt.getTime();
}
