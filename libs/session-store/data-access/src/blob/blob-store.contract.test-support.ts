import { createHash } from 'node:crypto';

import { assertBlobKey, type BlobStore, BlobStoreError, BlobStoreErrorCode } from './blob-store';

export interface BlobStoreUnderTest {
  readonly store: BlobStore;
  /** Keys of what the store holds (files, objects), to prove that nothing was left behind. */
  listKeys(): Promise<string[]>;
  /** Removes everything the store holds. */
  cleanup(): Promise<void>;
}

async function* chunks(...parts: Array<string | Buffer>): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield await Promise.resolve(Buffer.from(part));
}

/** `count` chunks of `size` bytes, each filled with its own letter: `aaa...bbb...`. */
async function* generated(count: number, size: number): AsyncGenerator<Uint8Array> {
  for (let index = 0; index < count; index += 1) {
    yield await Promise.resolve(Buffer.alloc(size, 97 + (index % 26)));
  }
}

async function* failingAfter(
  source: AsyncIterable<Uint8Array>,
  error: Error,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) yield chunk;
  throw error;
}

function sha256Of(count: number, size: number): string {
  const hash = createHash('sha256');
  for (let index = 0; index < count; index += 1) hash.update(Buffer.alloc(size, 97 + (index % 26)));
  return hash.digest('hex');
}

/** Reads a whole blob in windows of `window` bytes and hashes it. */
async function sha256Read(store: BlobStore, key: string, window: number): Promise<string> {
  const hash = createHash('sha256');
  for (let offset = 0; ; offset += window) {
    const bytes = await store.read(key, offset, window);
    hash.update(bytes);
    if (bytes.length < window) return hash.digest('hex');
  }
}

/** Larger than two parts of an S3 multipart upload (5 MiB each), sent as 64 KiB pieces. */
export const LARGE_BLOB = { chunks: 190, chunkSize: 64 * 1024 } as const;

/**
 * The rules every {@link BlobStore} must honour (see its documentation), as one suite run
 * against each implementation: the local filesystem in its unit spec, S3 against a real
 * S3-compatible server in its int-spec.
 */
export function blobStoreContract(name: string, open: () => Promise<BlobStoreUnderTest>): void {
  describe(`${name}: the BlobStore contract`, () => {
    let subject: BlobStoreUnderTest;
    let store: BlobStore;

    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(() => subject.cleanup());

    it('writes a streamed blob, reads ranges of it, sizes, replaces and deletes it', async () => {
      const key = 'transcripts/s1/main/v1.jsonl';
      await store.put(key, chunks('{"a":1}\n', '{"b":2}\n'));
      expect((await store.read(key, 0, 100)).toString()).toBe('{"a":1}\n{"b":2}\n');
      expect((await store.read(key, 8, 100)).toString()).toBe('{"b":2}\n');
      expect((await store.read(key, 0, 3)).toString()).toBe('{"a');
      expect((await store.read(key, 15, 3)).toString()).toBe('\n');
      expect(await store.size(key)).toBe(16);

      await store.put(key, chunks('x'));
      expect(await store.size(key)).toBe(1);
      expect((await store.read(key, 0, 10)).toString()).toBe('x');

      await store.delete(key);
      await store.delete(key);
      expect(await store.size(key)).toBeNull();
      await expect(store.read(key, 0, 1)).rejects.toMatchObject({
        code: BlobStoreErrorCode.NotFound,
      });
    });

    it('reads nothing past the end or for an empty window, and keeps an empty blob', async () => {
      await store.put('a/b.jsonl', chunks('abc'));
      expect((await store.read('a/b.jsonl', 3, 10)).length).toBe(0);
      expect((await store.read('a/b.jsonl', 99, 10)).length).toBe(0);
      expect((await store.read('a/b.jsonl', 1, 0)).length).toBe(0);
      await expect(store.read('a/missing.jsonl', 0, 0)).rejects.toBeInstanceOf(BlobStoreError);

      await store.put('a/empty.jsonl', chunks());
      expect(await store.size('a/empty.jsonl')).toBe(0);
      // The empty window session-store asks for (s3rver breaks a ranged GET of an empty object,
      // where S3 answers 416).
      expect((await store.read('a/empty.jsonl', 0, 0)).length).toBe(0);
    });

    it('keeps bytes exact: multi-byte UTF-8 cut anywhere, binary, a last line without newline', async () => {
      const text = Buffer.from('{"t":"h\u00e9llo \u{1f600}"}\n{"partial":true}', 'utf8');
      const pieces = [text.subarray(0, 9), text.subarray(9, 10), text.subarray(10)];
      await store.put('x/utf8.jsonl', chunks(...pieces));
      expect(await store.size('x/utf8.jsonl')).toBe(text.length);
      expect(Buffer.compare(await store.read('x/utf8.jsonl', 0, 1_000), text)).toBe(0);
      expect(Buffer.compare(await store.read('x/utf8.jsonl', 9, 2), text.subarray(9, 11))).toBe(0);
    });

    it('streams a large blob (several S3 parts) and returns it byte for byte', async () => {
      const { chunks: count, chunkSize } = LARGE_BLOB;
      await store.put('big/one.jsonl', generated(count, chunkSize));
      expect(await store.size('big/one.jsonl')).toBe(count * chunkSize);
      expect(await sha256Read(store, 'big/one.jsonl', 1024 * 1024)).toBe(
        sha256Of(count, chunkSize),
      );
      // Across the boundary of the first 5 MiB part.
      const at = 5 * 1024 * 1024 - 2;
      const byteAt = (offset: number) => 97 + (Math.floor(offset / chunkSize) % 26);
      expect([...(await store.read('big/one.jsonl', at, 4))]).toEqual(
        [at, at + 1, at + 2, at + 3].map(byteAt),
      );
    });

    it('leaves nothing when the source fails, early or after several parts, and rethrows its error', async () => {
      await store.put('a/b.jsonl', chunks('old'));
      await expect(
        store.put('a/b.jsonl', failingAfter(chunks('partial'), new Error('client went away'))),
      ).rejects.toThrow('client went away');
      expect((await store.read('a/b.jsonl', 0, 10)).toString()).toBe('old');

      const tooLarge = new Error('the transcript is larger than the limit');
      await expect(
        store.put(
          'a/new.jsonl',
          failingAfter(generated(LARGE_BLOB.chunks, LARGE_BLOB.chunkSize), tooLarge),
        ),
      ).rejects.toBe(tooLarge);
      expect(await store.size('a/new.jsonl')).toBeNull();
      expect(await subject.listKeys()).toEqual(['a/b.jsonl']);
    });

    it('refuses keys that could leave the root or name hidden files, before any I/O', async () => {
      for (const key of [
        '',
        '../x',
        'a/../../x',
        '/etc/passwd',
        'a//b',
        '.hidden',
        'a/.',
        'a\\b',
      ]) {
        expect(() => assertBlobKey(key)).toThrow(BlobStoreError);
        await expect(store.put(key, chunks('x'))).rejects.toMatchObject({
          code: BlobStoreErrorCode.InvalidKey,
        });
        await expect(store.read(key, 0, 1)).rejects.toMatchObject({
          code: BlobStoreErrorCode.InvalidKey,
        });
        await expect(store.size(key)).rejects.toMatchObject({
          code: BlobStoreErrorCode.InvalidKey,
        });
        await expect(store.delete(key)).rejects.toMatchObject({
          code: BlobStoreErrorCode.InvalidKey,
        });
      }
      expect(await subject.listKeys()).toEqual([]);
      expect(() => assertBlobKey('transcripts/0b6c-9f/subagent-a1/1.jsonl')).not.toThrow();
    });
  });
}
