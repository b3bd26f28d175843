import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { blobStoreContract } from './blob-store.contract.test-support';
import { LocalFilesystemBlobStore } from './local-filesystem-blob-store';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield await Promise.resolve(Buffer.from(part));
}

/** Every file under `root`, hidden temporary files included. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

blobStoreContract('LocalFilesystemBlobStore', async () => {
  const root = await mkdtemp(join(tmpdir(), 'blobs-'));
  return {
    store: new LocalFilesystemBlobStore(root),
    listKeys: () => filesUnder(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('LocalFilesystemBlobStore', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'blobs-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('keeps a blob as a file under its key, below the root', async () => {
    const store = new LocalFilesystemBlobStore(root);
    await store.put('transcripts/s1/main/v1.jsonl', chunks('{"a":1}\n', '{"b":2}\n'));
    expect(await readFile(join(root, 'transcripts/s1/main/v1.jsonl'), 'utf8')).toBe(
      '{"a":1}\n{"b":2}\n',
    );
    expect(store.description).toBe(`filesystem:${root}`);
  });
});
