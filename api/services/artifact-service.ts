import type { Readable } from 'node:stream';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { artifactKey, type Artifact } from '../../protocol/blobs.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { Errors } from '../errors.js';
import { artifactsOf, heartbeatOf } from '../../jobs/job-view.js';
import { withDecodedHeartbeats } from '../../jobs/stored-payloads.js';

export interface ArtifactServiceOptions {
  client: Client;
  /** The store the job workers write artifacts to. */
  blobs?: BlobStore;
  /** Longest the lookup of the job waits on Temporal, ms. @defaultValue 5000 */
  temporalTimeoutMs?: number;
}

/** Downloads of the files handlers stored with `ctx.artifact`. */
export class ArtifactService {
  constructor(private readonly options: ArtifactServiceOptions) {}

  /**
   * The artifact as its job lists it, with its bytes as a stream. Only a listed artifact is served: a name the
   * job's current run never stored is a 404 even when an older run left a file behind.
   */
  async open(jobId: string, name: string): Promise<Artifact & { stream: Readable }> {
    const { client } = this.options;
    const described = await client
      .withDeadline(Date.now() + (this.options.temporalTimeoutMs ?? 5000), () =>
        client.workflow.getHandle(jobId).describe(),
      )
      .catch((err: unknown) => {
        throw err instanceof WorkflowNotFoundError ? new Errors.JobNotFound(jobId) : err;
      });
    const description = await withDecodedHeartbeats(described, client.options.loadedDataConverter);
    const artifact = artifactsOf(
      description,
      heartbeatOf(description, client.options.loadedDataConverter.payloadConverter),
    ).find((listed) => listed.name === name);
    if (!artifact) throw new Errors.ArtifactNotFound(jobId, name);
    if (!this.options.blobs) throw new Error('artifacts cannot be served: the API has no blob store');
    const blob = await this.options.blobs.open(artifactKey(jobId, name));
    if (!blob) throw new Errors.ArtifactNotFound(jobId, name);
    return { ...artifact, size: blob.size, stream: blob.stream };
  }
}
