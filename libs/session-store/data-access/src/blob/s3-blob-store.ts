import { Readable } from 'node:stream';

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

import {
  assertBlobKey,
  type BlobSource,
  type BlobStore,
  BlobStoreError,
  BlobStoreErrorCode,
} from './blob-store';

/** Where and how to reach an S3-compatible bucket (validated by `blobStoreConfigFromEnv`). */
export interface S3BlobStoreOptions {
  readonly bucket: string;
  /** Prepended to every key (`stratavore/` gives `stratavore/transcripts/...`); empty for none. */
  readonly prefix: string;
  /** Region used to sign requests; `us-east-1` suits most S3-compatible servers. */
  readonly region: string;
  /** Another service than AWS (MinIO, Ceph, R2, s3rver): its base URL. */
  readonly endpoint?: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key` (most self-hosted servers). */
  readonly forcePathStyle: boolean;
  /** Explicit keys; without them the SDK's default chain (env, profile, web identity, IMDS). */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** Bytes per part of a multipart upload (at least 5 MiB, S3's minimum). Default 8 MiB. */
  readonly partSize?: number;
  /** Parts uploaded at once; memory is about `partSize * (queueSize + 1)`. Default 2. */
  readonly queueSize?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;
const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_QUEUE_SIZE = 2;

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

/** No such object; a missing bucket is a configuration problem, not a missing blob. */
function isMissing(error: unknown): boolean {
  return (
    statusOf(error) === 404 &&
    !(error instanceof S3ServiceException && error.name === 'NoSuchBucket')
  );
}

/** Past the end of the object: S3 answers 416 to a range that starts at or after its size. */
function isPastEnd(error: unknown): boolean {
  return (
    statusOf(error) === 416 ||
    (error instanceof S3ServiceException && error.name === 'InvalidRange')
  );
}

function mediaTypeOf(key: string): string {
  return key.endsWith('.jsonl') ? 'application/x-ndjson' : 'application/octet-stream';
}

/**
 * Blobs as objects of one S3 bucket (AWS, or any S3-compatible server), under an optional key
 * prefix. A `put` streams through `@aws-sdk/lib-storage`'s `Upload`: one `PutObject` for a body
 * smaller than a part, otherwise a multipart upload that holds at most `queueSize + 1` parts in
 * memory; the object becomes visible only when the upload completes, so readers see the old
 * blob or the new one, never a part. `read` is a ranged `GetObject`, `size` a `HeadObject`.
 *
 * Checksums are computed and validated only where the API requires them (not the SDK's newer
 * default of always), because many S3-compatible servers refuse or ignore the newer checksum
 * headers; session-store keeps its own sha256 of every transcript anyway.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(private readonly options: S3BlobStoreOptions) {
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? DEFAULT_PART_SIZE);
    this.queueSize = Math.max(1, options.queueSize ?? DEFAULT_QUEUE_SIZE);
    const config: S3ClientConfig = {
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      followRegionRedirects: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    };
    this.client = new S3Client(config);
  }

  get description(): string {
    const where = this.options.endpoint === undefined ? '' : ` at ${this.options.endpoint}`;
    return `s3:${this.options.bucket}${this.options.prefix ? `/${this.options.prefix}` : ''}${where}`;
  }

  private objectKey(key: string): string {
    assertBlobKey(key);
    return `${this.options.prefix}${key}`;
  }

  async put(key: string, body: BlobSource): Promise<void> {
    const objectKey = this.objectKey(key);
    // The SDK reports its own failure (often the abort of the multipart upload) rather than the
    // source's; remember the source's, which is the one the caller must see (a size limit, a
    // client that went away).
    let sourceFailure: { error: unknown } | null = null;
    async function* guarded(): AsyncGenerator<Uint8Array> {
      try {
        for await (const chunk of body) yield chunk;
      } catch (error) {
        sourceFailure = { error };
        throw error;
      }
    }
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.options.bucket,
        Key: objectKey,
        Body: Readable.from(guarded(), { objectMode: false }),
        ContentType: mediaTypeOf(key),
      },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      const failure = sourceFailure as { error: unknown } | null;
      if (failure !== null) throw failure.error;
      throw error;
    }
  }

  async read(key: string, offset: number, length: number): Promise<Buffer> {
    const objectKey = this.objectKey(key);
    if (length <= 0) {
      if ((await this.size(key)) === null) throw notFound(key);
      return Buffer.alloc(0);
    }
    const start = Math.max(0, offset);
    try {
      const answer = await this.client.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: objectKey,
          Range: `bytes=${start}-${start + length - 1}`,
        }),
      );
      const bytes =
        answer.Body === undefined ? new Uint8Array() : await answer.Body.transformToByteArray();
      // A server that ignores Range sends the whole object: cut the window out of it.
      const whole = answer.ContentRange === undefined && start > 0;
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return whole ? buffer.subarray(start, start + length) : buffer.subarray(0, length);
    } catch (error) {
      if (isPastEnd(error)) return Buffer.alloc(0);
      if (isMissing(error)) throw notFound(key, error);
      throw error;
    }
  }

  async size(key: string): Promise<number | null> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      );
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
    );
  }

  /**
   * Checks that the bucket exists and these credentials may use it (`HeadBucket`), for a clear
   * message at start-up instead of a failed upload later.
   *
   * @throws Error naming the bucket and what the service answered.
   */
  async verify(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
    } catch (error) {
      const status = statusOf(error);
      const reason =
        status === 404
          ? 'no such bucket'
          : status === 403
            ? 'access denied (check the credentials and the bucket policy)'
            : error instanceof Error
              ? error.message || error.name
              : String(error);
      throw new Error(`S3 bucket "${this.options.bucket}" is not usable: ${reason}`, {
        cause: error,
      });
    }
  }

  /** Closes the client's sockets. */
  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}

function notFound(key: string, cause?: unknown): BlobStoreError {
  return new BlobStoreError(BlobStoreErrorCode.NotFound, `no blob "${key}"`, { cause });
}
