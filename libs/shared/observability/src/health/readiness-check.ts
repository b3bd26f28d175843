/**
 * One thing an app needs before it can take traffic (database reachable, broker connected).
 * `check` resolves when ready and rejects with the reason otherwise.
 */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

/** Injection token for the `ReadinessCheck[]` that `GET /health/ready` runs. */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/** Injection token for the per-check time limit in ms. */
export const READINESS_TIMEOUT_MS = Symbol('READINESS_TIMEOUT_MS');
