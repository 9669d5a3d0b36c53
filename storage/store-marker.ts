import { randomBytes } from 'node:crypto';
import { BlobStoreMarkerSchema, storeMarkerKey, type BlobStoreMarker } from '../protocol/blobs.js';
import type { BlobStore } from './blob-store.js';

/** The API's side: writes its marker once (on first use) and gives it for every job; undefined if the write failed. */
export function storeMarkerWriter(
  store: BlobStore,
  warn: (message: string) => void,
): () => Promise<BlobStoreMarker | undefined> {
  let written: Promise<BlobStoreMarker | undefined> | undefined;
  return () => {
    written ??= (async () => {
      const marker: BlobStoreMarker = { token: randomBytes(16).toString('base64url'), location: store.location };
      await store.put(storeMarkerKey(marker.token), Buffer.from(JSON.stringify(marker)), 'application/json');
      return marker;
    })().catch((err: unknown) => {
      warn(`could not write the blob store marker to ${store.location}: ${String(err)}`);
      written = undefined;
      return undefined;
    });
    return written;
  };
}

/**
 * The worker's side: undefined when `store` holds the API's marker, else a message naming both stores. A store that
 * cannot be read at all counts as another store.
 */
export async function storeMismatch(store: BlobStore, marker: BlobStoreMarker): Promise<string | undefined> {
  let found: BlobStoreMarker | undefined;
  try {
    const blob = await store.get(storeMarkerKey(marker.token));
    const parsed = blob
      ? BlobStoreMarkerSchema.safeParse(JSON.parse(Buffer.from(blob.body).toString('utf8')))
      : undefined;
    found = parsed?.success ? parsed.data : undefined;
  } catch {
    found = undefined;
  }
  if (found?.token === marker.token) return undefined;
  return (
    `this worker's blob store (${store.location}) is not the API's (${marker.location}): artifacts and large ` +
    `outputs stored here could not be served. Start the worker with the API's store (the same GPUFLOW_DATA_DIR, ` +
    `or the same GPUFLOW_S3_* settings)`
  );
}

/** `store`, with `check` awaited before each call: a blob is never read or written before the stores are known to agree. */
export function checkedStore(store: BlobStore, check: () => Promise<void>): BlobStore {
  return {
    location: store.location,
    put: async (key, body, contentType) => {
      await check();
      return store.put(key, body, contentType);
    },
    get: async (key) => {
      await check();
      return store.get(key);
    },
    open: async (key) => {
      await check();
      return store.open(key);
    },
    stat: async (key) => {
      await check();
      return store.stat(key);
    },
  };
}
