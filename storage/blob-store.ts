import type { Readable } from 'node:stream';

/** What a store knows about a blob. */
export interface BlobInfo {
  /** Bytes. */
  size: number;
  contentType: string;
}

/**
 * Where large inputs and outputs and job artifacts live, outside Temporal. The API and the job workers must use
 * the same store: a directory they share (one machine, or a shared volume) or an S3 bucket.
 *
 * Keys are `/`-separated paths whose segments hold only `A-Z a-z 0-9 . _ -` and never start with `.`; any other
 * key is refused with a TypeError (no path traversal, the same keys in every store).
 */
export interface BlobStore {
  /** Stores a blob, replacing any blob of that key; readers see the old blob or the new one, never a part. */
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** The whole blob, or null when there is none. */
  get(key: string): Promise<(BlobInfo & { body: Uint8Array }) | null>;
  /** The blob as a stream (for downloads), or null when there is none. */
  open(key: string): Promise<(BlobInfo & { stream: Readable }) | null>;
  /** Size and content type, or null when there is none. */
  stat(key: string): Promise<BlobInfo | null>;
  /** Where the blobs are, for logs: `directory /srv/gpuflow/blobs`, `s3://bucket/prefix/`. */
  readonly location: string;
}

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_KEY_LENGTH = 1024;

/** @throws TypeError for a key that could escape its store or mean different things in different stores. */
export function checkBlobKey(key: string): string {
  const segments = key.split('/');
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !segments.every((segment) => SEGMENT.test(segment))) {
    throw new TypeError(
      `invalid blob key ${JSON.stringify(key.slice(0, 200))}: use "/"-separated segments of A-Z a-z 0-9 . _ - that do not start with "."`,
    );
  }
  return key;
}
