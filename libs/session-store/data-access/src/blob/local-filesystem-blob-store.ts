import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';

import {
  assertBlobKey,
  type BlobSource,
  type BlobStore,
  BlobStoreError,
  BlobStoreErrorCode,
} from './blob-store';

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Blobs as files under one root directory (`<data dir>/blobs` by default). A write goes to a
 * hidden temporary file beside its target, is flushed to disk, then renamed over the target, so
 * a reader sees the old blob or the new one, never a part; a failed write removes its temporary
 * file. Keys are checked ({@link assertBlobKey}) and the resolved path must stay under the root.
 */
export class LocalFilesystemBlobStore implements BlobStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get description(): string {
    return `filesystem:${this.root}`;
  }

  private pathOf(key: string): string {
    assertBlobKey(key);
    const path = resolve(join(this.root, ...key.split('/')));
    if (!path.startsWith(this.root + sep)) {
      throw new BlobStoreError(BlobStoreErrorCode.InvalidKey, `blob key "${key}" leaves the root`);
    }
    return path;
  }

  async put(key: string, body: BlobSource): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const temporary = join(
      dirname(target),
      `.${randomBytes(8).toString('hex')}.${target.slice(dirname(target).length + 1)}.tmp`,
    );
    const handle = await open(temporary, 'wx', 0o600);
    try {
      try {
        for await (const chunk of body) await handle.write(chunk);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async read(key: string, offset: number, length: number): Promise<Buffer> {
    const path = this.pathOf(key);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isMissing(error)) {
        throw new BlobStoreError(BlobStoreErrorCode.NotFound, `no blob "${key}"`, { cause: error });
      }
      throw error;
    }
    try {
      const buffer = Buffer.alloc(Math.max(0, length));
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(
          buffer,
          filled,
          buffer.length - filled,
          offset + filled,
        );
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    } finally {
      await handle.close();
    }
  }

  async size(key: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(key))).size;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
