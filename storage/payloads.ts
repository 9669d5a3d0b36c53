import { createHash } from 'node:crypto';
import { isBlobRef, type BlobRef } from '../protocol/blobs.js';
import type { BlobStore } from './blob-store.js';
import { BlobUnavailableError } from './blob-unavailable-error.js';

const JSON_TYPE = 'application/json';

/**
 * The value itself when its JSON is at most `thresholdBytes`, else a reference to its JSON stored under `key`.
 * A `key` function gets the sha256 (hex) of the JSON: a content-addressed blob that already exists is not written
 * again. A plain `key` is always written (an attempt's output replaces an earlier attempt's).
 *
 * A top-level object with a `$gpuflowBlob` property is always stored, whatever its size: what comes back from
 * `resolvePayload` is then exactly that value, never a blob it happens to look like it names.
 */
export async function externalizePayload(
  value: unknown,
  store: BlobStore,
  thresholdBytes: number,
  key: string | ((sha256: string) => string),
): Promise<unknown> {
  const json = JSON.stringify(value);
  if (json === undefined) return value;
  const looksLikeRef = typeof value === 'object' && value !== null && Object.hasOwn(value, '$gpuflowBlob');
  // A UTF-8 byte takes at most 3 per UTF-16 unit: most small values skip the byte count.
  if (!looksLikeRef && json.length * 3 <= thresholdBytes) return value;
  const body = Buffer.from(json, 'utf8');
  if (!looksLikeRef && body.byteLength <= thresholdBytes) return value;
  const sha256 = createHash('sha256').update(body).digest('hex');
  const blobKey = typeof key === 'string' ? key : key(sha256);
  const existing = typeof key === 'string' ? null : await store.stat(blobKey);
  if (existing?.size !== body.byteLength) await store.put(blobKey, body, JSON_TYPE);
  const ref: BlobRef = { $gpuflowBlob: { key: blobKey, size: body.byteLength, sha256 } };
  return ref;
}

/**
 * The value a reference stands for (its blob is read and checked against the reference's size and sha256), or
 * the value itself when it is no reference.
 * @throws BlobUnavailableError when the blob is missing or does not match.
 */
export async function resolvePayload(value: unknown, store: BlobStore | undefined): Promise<unknown> {
  if (!isBlobRef(value)) return value;
  const { key, size, sha256 } = value.$gpuflowBlob;
  if (!store) throw new Error(`a payload is stored as blob "${key}", but no blob store is configured here`);
  const blob = await store.get(key);
  if (!blob) throw new BlobUnavailableError(key, 'missing');
  if (blob.body.byteLength !== size || createHash('sha256').update(blob.body).digest('hex') !== sha256) {
    throw new BlobUnavailableError(key, 'corrupt');
  }
  return JSON.parse(Buffer.from(blob.body.buffer, blob.body.byteOffset, blob.body.byteLength).toString('utf8'));
}

/** Key of a large job input: content-addressed, so resubmissions and retries share one blob. */
export const inputBlobKey = (sha256: string): string => `inputs/${sha256}.json`;

/** Key of a large output of one attempt of one run of a job. */
export const outputBlobKey = (jobId: string, runId: string, attempt: number): string =>
  `outputs/${jobId}/${runId}.${attempt}.json`;
