import { randomUUID } from 'node:crypto';

import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type LocalS3Server, startLocalS3Server } from '@stratavore/testing';

import { blobStoreContract, LARGE_BLOB } from './blob-store.contract.test-support';
import { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store';

// The S3 store against a real S3-compatible server (s3rver, started here on a free port).
let server: LocalS3Server;
let lister: S3Client;

beforeAll(async () => {
  server = await startLocalS3Server();
  lister = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: server.credentials,
  });
});

afterAll(async () => {
  lister?.destroy();
  await server?.close();
});

function options(prefix: string): S3BlobStoreOptions {
  return {
    bucket: server.bucket,
    prefix,
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: server.credentials,
    partSize: 5 * 1024 * 1024,
  };
}

/** Keys under `prefix`, without it. */
async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await lister.send(
    new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix }),
  );
  return (listed.Contents ?? []).map((object) => (object.Key ?? '').slice(prefix.length)).sort();
}

// Each test works under its own prefix, so the prefix is proved to be applied as well.
blobStoreContract('S3BlobStore', () => {
  const prefix = `t-${randomUUID()}/`;
  const store = new S3BlobStore(options(prefix));
  return Promise.resolve({
    store,
    listKeys: () => keysUnder(prefix),
    cleanup: async () => {
      for (const key of await keysUnder(prefix)) await store.delete(key);
      await store.close();
    },
  });
});

describe('S3BlobStore', () => {
  it('uploads a large blob in parts (multipart) and a small one in one request', async () => {
    const prefix = `m-${randomUUID()}/`;
    const store = new S3BlobStore(options(prefix));
    try {
      async function* large(): AsyncGenerator<Uint8Array> {
        for (let index = 0; index < LARGE_BLOB.chunks; index += 1) {
          yield await Promise.resolve(Buffer.alloc(LARGE_BLOB.chunkSize, 120));
        }
      }
      async function* small(): AsyncGenerator<Uint8Array> {
        yield await Promise.resolve(Buffer.from('{"a":1}\n'));
      }
      await store.put('big.jsonl', large());
      await store.put('small.jsonl', small());

      expect(server.events.filter((event) => event.key.startsWith(prefix))).toEqual([
        { name: 'ObjectCreated:Post', key: `${prefix}big.jsonl` },
        { name: 'ObjectCreated:Put', key: `${prefix}small.jsonl` },
      ]);
      expect(await store.size('big.jsonl')).toBe(LARGE_BLOB.chunks * LARGE_BLOB.chunkSize);
      expect(store.description).toBe(`s3:${server.bucket}/${prefix} at ${server.endpoint}`);
    } finally {
      await store.delete('big.jsonl');
      await store.delete('small.jsonl');
      await store.close();
    }
  });

  it('verifies the bucket at start-up, and tells a missing bucket from a missing blob', async () => {
    const good = new S3BlobStore(options(''));
    const missing = new S3BlobStore({ ...options(''), bucket: 'no-such-bucket' });
    try {
      await expect(good.verify()).resolves.toBeUndefined();
      await expect(missing.verify()).rejects.toThrow(
        'S3 bucket "no-such-bucket" is not usable: no such bucket',
      );
      await expect(missing.read('a.jsonl', 0, 10)).rejects.toMatchObject({
        name: 'NoSuchBucket',
      });
    } finally {
      await Promise.all([good.close(), missing.close()]);
    }
  });
});
