import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The part of s3rver 3.7 these tests use (the package ships no types). */
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  on(event: 'event', listener: (event: S3rverEvent) => void): void;
}

interface S3rverEvent {
  readonly Records: ReadonlyArray<{
    readonly eventName: string;
    readonly s3: { readonly object: { readonly key: string } };
  }>;
}

type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: Array<{ name: string; configs: string[] }>;
}) => S3rverInstance;

/** What a local S3-compatible server records: `ObjectCreated:Put` (one request), `ObjectCreated:Post` (a completed multipart upload), `ObjectRemoved:Delete`. */
export interface LocalS3Event {
  readonly name: string;
  readonly key: string;
}

export interface LocalS3Server {
  /** `http://127.0.0.1:<port>`; use path-style addressing. */
  readonly endpoint: string;
  readonly bucket: string;
  /** s3rver checks signatures against these. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region: string;
  /** Every object event so far, in order. */
  readonly events: readonly LocalS3Event[];
  /** Keys of the objects that exist now (created and not deleted, by the events), sorted. */
  keys(prefix?: string): string[];
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

/**
 * A real S3-compatible server for tests: s3rver (devDependency) on 127.0.0.1 and a port the OS
 * picks, its data in a temporary directory, with one bucket. It speaks enough of the S3 API for
 * `@aws-sdk/client-s3` (`PutObject`, ranged `GetObject`, `HeadObject`, `DeleteObject`,
 * `HeadBucket`) and `@aws-sdk/lib-storage` multipart uploads; it does not implement
 * `AbortMultipartUpload` (answers 405), so parts of an aborted upload stay in its directory.
 */
export async function startLocalS3Server(
  options: { bucket?: string } = {},
): Promise<LocalS3Server> {
  // Loaded at run time: only the tests that start a server pay for it.
  const S3rver = createRequire(__filename)('s3rver') as S3rverConstructor;
  const bucket = options.bucket ?? 'stratavore-test';
  const directory = await mkdtemp(join(tmpdir(), 'stratavore-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const events: LocalS3Event[] = [];
  server.on('event', (event) => {
    for (const record of event.Records) {
      events.push({ name: record.eventName, key: record.s3.object.key });
    }
  });
  let address: { port: number };
  try {
    address = await server.run();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    region: 'us-east-1',
    events,
    keys: (prefix = '') => {
      const live = new Set<string>();
      for (const event of events) {
        if (event.name.startsWith('ObjectCreated:')) live.add(event.key);
        else if (event.name.startsWith('ObjectRemoved:')) live.delete(event.key);
      }
      return [...live].filter((key) => key.startsWith(prefix)).sort();
    },
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
