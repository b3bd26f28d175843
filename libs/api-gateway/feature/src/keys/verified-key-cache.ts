import { type Clock } from '@stratavore/core';

import { type ApiKeyPrincipal } from './api-key.principal';

export interface VerifiedKeyCacheOptions {
  /** How long a verified key is trusted without asking the database; 0 turns the cache off. */
  readonly ttlMs: number;
  /** Most keys remembered; past it the oldest entry goes. */
  readonly maxEntries: number;
}

interface Entry {
  readonly principal: ApiKeyPrincipal;
  readonly expiresAt: number;
}

/**
 * Keys this gateway verified recently: the SHA-256 of the presented key -> its principal, for
 * `ttlMs`. Only successful verifications are kept (a wrong key costs its database lookup every
 * time, so it cannot fill the cache). A revoke through this instance drops the key at once;
 * other replicas keep trusting it until their entry expires, so a revoked key stops working
 * everywhere within `ttlMs` (docs/architecture.md, "The API gateway").
 *
 * A verification that started before a revoke finished does not store its result: it may have
 * read the row before the revoke.
 */
export class VerifiedKeyCache {
  private readonly entries = new Map<string, Entry>();
  /** Key id -> digest, to drop a key on revoke. */
  private readonly digestOf = new Map<string, string>();
  private revocations = 0;

  constructor(
    private readonly options: VerifiedKeyCacheOptions,
    private readonly clock: Clock,
  ) {}

  get enabled(): boolean {
    return this.options.ttlMs > 0 && this.options.maxEntries > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The principal of a key verified within the TTL, else undefined. */
  get(digest: string): ApiKeyPrincipal | undefined {
    const entry = this.entries.get(digest);
    if (!entry) return undefined;
    if (entry.expiresAt > this.clock.now().getTime()) return entry.principal;
    this.delete(digest, entry.principal.id);
    return undefined;
  }

  /** A mark to hand back to {@link set}: taken before the database is read. */
  mark(): number {
    return this.revocations;
  }

  /** Remembers a key verified by a lookup that began at `mark` (unless a revoke came since). */
  set(digest: string, principal: ApiKeyPrincipal, mark: number): void {
    if (!this.enabled || mark !== this.revocations) return;
    const previous = this.digestOf.get(principal.id);
    if (previous !== undefined) this.entries.delete(previous);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.entries().next();
      if (oldest.done === true) break;
      this.delete(oldest.value[0], oldest.value[1].principal.id);
    }
    this.entries.set(digest, {
      principal,
      expiresAt: this.clock.now().getTime() + this.options.ttlMs,
    });
    this.digestOf.set(principal.id, digest);
  }

  /** Drops the key `keyId` (revoked) at once. */
  forget(keyId: string): void {
    this.revocations++;
    const digest = this.digestOf.get(keyId);
    if (digest !== undefined) this.delete(digest, keyId);
  }

  private delete(digest: string, keyId: string): void {
    this.entries.delete(digest);
    if (this.digestOf.get(keyId) === digest) this.digestOf.delete(keyId);
  }
}
