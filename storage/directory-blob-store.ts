import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { checkBlobKey, type BlobInfo, type BlobStore } from './blob-store.js';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * Blobs as files under one directory: `data/<key>` holds the bytes and `meta/<key>.json` the content type. A put
 * writes a temporary file in `tmp/` and renames it into place (atomic on one file system), so a reader never sees
 * half a blob. Works for every process that sees the same directory: one machine, or a shared volume.
 */
export class DirectoryBlobStore implements BlobStore {
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = `directory ${this.root}`;
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    const data = this.dataPath(key);
    const meta = this.metaPath(key);
    await Promise.all([mkdir(dirname(data), { recursive: true }), mkdir(join(this.root, 'tmp'), { recursive: true })]);
    await mkdir(dirname(meta), { recursive: true });
    // The content type first: the data file's arrival is what makes the blob exist.
    await this.writeAtomically(meta, JSON.stringify({ contentType }));
    await this.writeAtomically(data, body);
  }

  async get(key: string): Promise<(BlobInfo & { body: Uint8Array }) | null> {
    const body = await ifExists(readFile(this.dataPath(key)));
    if (!body) return null;
    return { body, size: body.byteLength, contentType: await this.contentTypeOf(key) };
  }

  async open(key: string) {
    const info = await this.stat(key);
    if (!info) return null;
    return { ...info, stream: createReadStream(this.dataPath(key)) };
  }

  async stat(key: string): Promise<BlobInfo | null> {
    const stats = await ifExists(stat(this.dataPath(key)));
    if (!stats?.isFile()) return null;
    return { size: stats.size, contentType: await this.contentTypeOf(key) };
  }

  private dataPath(key: string): string {
    return join(this.root, 'data', checkBlobKey(key));
  }

  private metaPath(key: string): string {
    return join(this.root, 'meta', `${checkBlobKey(key)}.json`);
  }

  private async contentTypeOf(key: string): Promise<string> {
    const meta = await ifExists(readFile(this.metaPath(key), 'utf8'));
    try {
      const parsed = meta ? (JSON.parse(meta) as { contentType?: unknown }) : {};
      return typeof parsed.contentType === 'string' ? parsed.contentType : DEFAULT_CONTENT_TYPE;
    } catch {
      return DEFAULT_CONTENT_TYPE;
    }
  }

  private async writeAtomically(path: string, body: Uint8Array | string): Promise<void> {
    const temp = join(this.root, 'tmp', `${randomBytes(12).toString('hex')}.part`);
    try {
      await writeFile(temp, body);
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }
}

/** The operation's result, or null when the file does not exist. */
async function ifExists<T>(operation: Promise<T>): Promise<T | null> {
  try {
    return await operation;
  } catch (err) {
    const { code } = err as NodeJS.ErrnoException;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}
