import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { assertBlobKey, BlobStoreError, BlobStoreErrorCode } from './blob-store';
import { LocalFilesystemBlobStore } from './local-filesystem-blob-store';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield await Promise.resolve(Buffer.from(part));
}

async function* failing(): AsyncGenerator<Uint8Array> {
  yield await Promise.resolve(Buffer.from('partial'));
  throw new Error('client went away');
}

describe('LocalFilesystemBlobStore', () => {
  let root: string;
  let store: LocalFilesystemBlobStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'blobs-'));
    store = new LocalFilesystemBlobStore(root);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('writes a streamed blob, reads ranges of it, sizes, replaces and deletes it', async () => {
    await store.put('transcripts/s1/main/v1.jsonl', chunks('{"a":1}\n', '{"b":2}\n'));
    expect(await readFile(join(root, 'transcripts/s1/main/v1.jsonl'), 'utf8')).toBe(
      '{"a":1}\n{"b":2}\n',
    );
    expect((await store.read('transcripts/s1/main/v1.jsonl', 8, 100)).toString()).toBe('{"b":2}\n');
    expect((await store.read('transcripts/s1/main/v1.jsonl', 0, 3)).toString()).toBe('{"a');
    expect((await store.read('transcripts/s1/main/v1.jsonl', 99, 10)).length).toBe(0);
    expect(await store.size('transcripts/s1/main/v1.jsonl')).toBe(16);

    await store.put('transcripts/s1/main/v1.jsonl', chunks('x'));
    expect(await store.size('transcripts/s1/main/v1.jsonl')).toBe(1);

    await store.delete('transcripts/s1/main/v1.jsonl');
    await store.delete('transcripts/s1/main/v1.jsonl');
    expect(await store.size('transcripts/s1/main/v1.jsonl')).toBeNull();
    await expect(store.read('transcripts/s1/main/v1.jsonl', 0, 1)).rejects.toMatchObject({
      code: BlobStoreErrorCode.NotFound,
    });
  });

  it('leaves nothing behind, not even a temporary file, when the source fails', async () => {
    await store.put('a/b.jsonl', chunks('old'));
    await expect(store.put('a/b.jsonl', failing())).rejects.toThrow('client went away');
    expect(await readdir(join(root, 'a'))).toEqual(['b.jsonl']);
    expect((await store.read('a/b.jsonl', 0, 10)).toString()).toBe('old');
  });

  it('refuses keys that could leave the root or name hidden files', async () => {
    for (const key of ['', '../x', 'a/../../x', '/etc/passwd', 'a//b', '.hidden', 'a/.', 'a\\b']) {
      expect(() => assertBlobKey(key)).toThrow(BlobStoreError);
      await expect(store.put(key, chunks('x'))).rejects.toMatchObject({
        code: BlobStoreErrorCode.InvalidKey,
      });
    }
    expect(() => assertBlobKey('transcripts/0b6c-9f/subagent-a1/1.jsonl')).not.toThrow();
  });
});
