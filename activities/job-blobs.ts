import { ApplicationFailure } from '@temporalio/activity';
import {
  ARTIFACT_NAME_PATTERN,
  DEFAULT_PAYLOAD_THRESHOLD_BYTES,
  MAX_ARTIFACTS_PER_JOB,
  artifactKey,
  type Artifact,
} from '../protocol/blobs.js';
import { FailureTypes } from '../protocol/failures.js';
import type { BlobStore } from '../storage/blob-store.js';
import { BlobUnavailableError } from '../storage/blob-unavailable-error.js';
import { externalizePayload, outputBlobKey, resolvePayload } from '../storage/payloads.js';

/** Failure type of a job whose stored input is gone or damaged: no retry can help. */
export const INPUT_UNAVAILABLE = FailureTypes.inputUnavailable;

const CONTENT_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w.+-]+=("[^"\r\n]*"|[\w.+-]+))*$/;

export interface JobBlobOptions {
  store: BlobStore | undefined;
  /** @defaultValue DEFAULT_PAYLOAD_THRESHOLD_BYTES */
  thresholdBytes?: number;
  jobId: string;
  runId: string;
  attempt: number;
  /** The artifacts recorded so far (an earlier attempt's, carried in the heartbeat); updated in place. */
  artifacts: Artifact[];
  /** Called after each stored artifact, to publish the list in a heartbeat at once. */
  onArtifact(): void;
}

/** What one attempt does with the blob store: its input in, its output and artifacts out. */
export function jobBlobs(options: JobBlobOptions) {
  const { store, jobId, artifacts } = options;
  const thresholdBytes = options.thresholdBytes ?? DEFAULT_PAYLOAD_THRESHOLD_BYTES;
  return {
    /** The job's real input, read from the store when the API passed a reference. */
    async resolveInput(input: unknown): Promise<unknown> {
      try {
        return await resolvePayload(input, store);
      } catch (err) {
        if (err instanceof BlobUnavailableError) throw ApplicationFailure.nonRetryable(err.message, INPUT_UNAVAILABLE);
        throw err;
      }
    },

    /** The output as the activity returns it: a reference when its JSON is larger than the threshold. */
    async externalizeOutput(output: unknown): Promise<unknown> {
      if (!store) return output;
      return externalizePayload(output, store, thresholdBytes, outputBlobKey(jobId, options.runId, options.attempt));
    },

    /** `ctx.artifact`: stores the file and lists it on the job. */
    async artifact(name: string, data: Uint8Array | string, contentType = 'application/octet-stream') {
      if (typeof name !== 'string' || !ARTIFACT_NAME_PATTERN.test(name)) {
        throw new TypeError(
          `ctx.artifact: invalid name ${JSON.stringify(name)}: 1 to 128 characters of A-Z a-z 0-9 . _ -, not starting with . _ or -`,
        );
      }
      if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
        throw new TypeError('ctx.artifact: data must be a Uint8Array (a Buffer is one) or a string');
      }
      if (typeof contentType !== 'string' || contentType.length > 255 || !CONTENT_TYPE.test(contentType)) {
        throw new TypeError(`ctx.artifact: invalid content type ${JSON.stringify(contentType)}, e.g. "image/png"`);
      }
      const listed = (): number => artifacts.findIndex((artifact) => artifact.name === name);
      if (listed() < 0 && artifacts.length >= MAX_ARTIFACTS_PER_JOB) {
        throw new TypeError(`ctx.artifact: at most ${MAX_ARTIFACTS_PER_JOB} artifacts per job`);
      }
      if (!store) throw new Error('ctx.artifact: this worker has no blob store configured');
      const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      await store.put(artifactKey(jobId, name), body, contentType);
      const artifact: Artifact = { name, size: body.byteLength, contentType };
      const replaces = listed();
      if (replaces >= 0) artifacts[replaces] = artifact;
      else artifacts.push(artifact);
      options.onArtifact();
      return artifact;
    },
  };
}
