/** Nest token of the {@link GatewayDatabase} (`gateway` schema). */
export const GATEWAY_DATABASE = Symbol('GATEWAY_DATABASE');

/** Nest token of the randomness API keys are made of: `(size) => Buffer`. */
export const KEY_RANDOMNESS = Symbol('KEY_RANDOMNESS');

export type RandomBytesSource = (size: number) => Buffer;

/** Nest token of the gateway's {@link VerifiedKeyCache} (optional: without it, no caching). */
export const VERIFIED_KEY_CACHE = Symbol('VERIFIED_KEY_CACHE');

/**
 * Nest token of the configured `API_BOOTSTRAP_KEY` (a string, or null): the first admin key of a
 * gateway whose schema holds no key yet.
 */
export const BOOTSTRAP_API_KEY = Symbol('BOOTSTRAP_API_KEY');
