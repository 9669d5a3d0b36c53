import { z } from 'zod';
import { ARTIFACT_NAME_PATTERN } from './blob-refs.js';

export { ARTIFACT_NAME_PATTERN, MAX_ARTIFACTS_PER_JOB, isBlobRef, type BlobRef } from './blob-refs.js';

/**
 * Inputs and outputs whose JSON is larger than this many bytes are stored outside Temporal and passed by
 * reference (Temporal refuses payloads over 2 MiB and warns from 512 KiB).
 * @defaultValue 262144 (256 KiB)
 */
export const DEFAULT_PAYLOAD_THRESHOLD_BYTES = 256 * 1024;

/** The largest threshold allowed: anything above it would bring a payload near Temporal's own limits. */
export const MAX_PAYLOAD_THRESHOLD_BYTES = 1024 * 1024;

/**
 * What travels through Temporal in place of a large input or output: the blob store key of its JSON, with the
 * byte size and the sha256 (hex) of that JSON, checked when it is read back.
 */
export const BlobRefSchema = z.strictObject({
  $gpuflowBlob: z.strictObject({
    key: z.string().min(1).max(1024),
    size: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
});

/** A file a handler stored with `ctx.artifact`, as the worker records it. */
export const ArtifactSchema = z.object({
  name: z.string().regex(ARTIFACT_NAME_PATTERN),
  /** Bytes. */
  size: z.number().int().min(0),
  contentType: z.string(),
});
export type Artifact = z.output<typeof ArtifactSchema>;

/** An artifact in a job's view: where to download it. */
export const ArtifactViewSchema = ArtifactSchema.extend({
  /** `/v1/jobs/<id>/artifacts/<name>`, relative to the API's base URL. */
  url: z.string(),
});
export type ArtifactView = z.output<typeof ArtifactViewSchema>;

/** Blob store key of a job's artifact. */
export function artifactKey(jobId: string, name: string): string {
  return `artifacts/${jobId}/${name}`;
}

export function artifactUrl(jobId: string, name: string): string {
  return `/v1/jobs/${encodeURIComponent(jobId)}/artifacts/${encodeURIComponent(name)}`;
}

/** The view's `artifacts` from what the worker recorded (none: `[]`). */
export function artifactViews(jobId: string, artifacts: readonly Artifact[] | undefined): ArtifactView[] {
  return (artifacts ?? []).map(({ name, size, contentType }) => ({
    name,
    size,
    contentType,
    url: artifactUrl(jobId, name),
  }));
}

/**
 * Blob store key of the result of a run's attempt whose handler finished (`ExecuteJobResult` as JSON). A worker
 * writes it before reporting the completion; a later attempt of the same run completes with it instead of running
 * the handler again (the completion of the first may have been lost in a Temporal outage).
 */
export function completedResultKey(jobId: string, runId: string): string {
  return `results/${jobId}/${runId}.json`;
}

/**
 * The API's store marker: the API writes `{ token, location }` as JSON at `storeMarkerKey(token)` in its blob store
 * and passes the same object to every job (`ExecuteJobInput.blobStore`). A worker reads that key from its own store
 * before its first blob of an attempt; when it is not there, the two use different stores, and the worker fails the
 * attempt `BlobStoreMismatch` rather than store a blob the API cannot find.
 */
export const BlobStoreMarkerSchema = z.object({
  token: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  /** The API's store, for the message: `directory /srv/gpuflow/blobs`, `s3://bucket/prefix/`. */
  location: z.string().min(1).max(1024),
});
export type BlobStoreMarker = z.output<typeof BlobStoreMarkerSchema>;

/** Key of the marker blob of `token`. */
export function storeMarkerKey(token: string): string {
  return `store-markers/${token}.json`;
}
