// No zod here: the workflow bundle imports this module (readers.ts says why the workflow stays free of zod).
// `BlobRefSchema` in blobs.ts is the same shape as a schema; a unit test keeps the two in agreement.

/**
 * What travels through Temporal in place of a large input or output: the blob store key of its JSON, with the
 * byte size and the sha256 (hex) of that JSON, checked when it is read back.
 */
export interface BlobRef {
  $gpuflowBlob: { key: string; size: number; sha256: string };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Exactly a blob reference: no other keys, a key of 1..1024 characters, a whole byte count, a sha256 in hex. */
export function isBlobRef(value: unknown): value is BlobRef {
  if (!isPlainObject(value) || !hasOnlyKeys(value, ['$gpuflowBlob'])) return false;
  const ref = value.$gpuflowBlob;
  if (!isPlainObject(ref) || !hasOnlyKeys(ref, ['key', 'size', 'sha256'])) return false;
  return (
    typeof ref.key === 'string' &&
    ref.key.length >= 1 &&
    ref.key.length <= 1024 &&
    Number.isSafeInteger(ref.size) &&
    (ref.size as number) >= 0 &&
    typeof ref.sha256 === 'string' &&
    SHA256_HEX.test(ref.sha256)
  );
}

/** Artifact names: a file name without a directory, at most 128 characters. */
export const ARTIFACT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Artifacts one job may store (their list travels in every heartbeat, so it stays small). */
export const MAX_ARTIFACTS_PER_JOB = 256;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOnlyKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  return Object.keys(value).every((key) => keys.includes(key)) && keys.every((key) => key in value);
}
