/** Why a blob store refused or failed an operation. */
export enum BlobStoreErrorCode {
  /** The key is not a relative path of safe segments (it could escape the store's root). */
  InvalidKey = 'INVALID_KEY',
  /** No blob under this key. */
  NotFound = 'NOT_FOUND',
}

/** The one typed error of the blob stores. */
export class BlobStoreError extends Error {
  constructor(
    readonly code: BlobStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BlobStoreError';
  }
}

/** Bytes to store, read once, in order (a request body, a file stream, a generator). */
export type BlobSource = AsyncIterable<Uint8Array>;

/**
 * Where transcripts are kept: a flat namespace of keys (`transcripts/<session>/<kind>/<id>.jsonl`)
 * to immutable blobs. Implemented by the local filesystem (default) and, with
 * `@aws-sdk/client-s3` + `@aws-sdk/lib-storage`, by any S3-compatible service; everything the
 * service needs of a blob is here, so another implementation only has to honour these rules
 * (`blobStoreContract` in the specs checks them against every implementation):
 *
 * - {@link put} streams `body` (never buffers it whole) and makes the blob visible only once it
 *   is complete; if `body` throws, nothing is left under the key and the error is rethrown.
 *   A `put` to an existing key replaces it.
 * - {@link read} returns at most `length` bytes from `offset` (fewer at the end, none past it).
 * - Keys are validated with {@link assertBlobKey} before any I/O.
 */
export interface BlobStore {
  /** A name for logs and readiness (`filesystem:/var/lib/stratavore/blobs`, `s3:bucket`). */
  readonly description: string;
  put(key: string, body: BlobSource): Promise<void>;
  /** @throws BlobStoreError NotFound */
  read(key: string, offset: number, length: number): Promise<Buffer>;
  /** The blob's size in bytes, `null` when there is none. */
  size(key: string): Promise<number | null>;
  /** Removes the blob; an absent one is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Checks, once at start-up, that the store can be used (the bucket exists, the credentials
   * work), for a clear message instead of failed uploads later.
   *
   * @throws Error saying what is wrong.
   */
  verify?(): Promise<void>;
  /** Releases connections; the store is not used afterwards. */
  close?(): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/;
const MAX_KEY_LENGTH = 1024;

/**
 * Refuses anything but `segment/segment/...` with segments of letters, digits, `.`, `_`, `-`
 * (not starting with `.`, so never `.` or `..`): a key can never climb out of the store's root
 * nor name a hidden temporary file.
 */
export function assertBlobKey(key: string): void {
  const segments = key.split('/');
  if (
    key.length === 0 ||
    key.length > MAX_KEY_LENGTH ||
    !segments.every((segment) => SEGMENT.test(segment))
  ) {
    throw new BlobStoreError(BlobStoreErrorCode.InvalidKey, `invalid blob key "${key}"`);
  }
}
