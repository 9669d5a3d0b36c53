import type { Readable } from 'node:stream';
import { artifactKey, type Artifact } from '../../protocol/blobs.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { Errors } from '../errors.js';
import type { JobReader } from '../../jobs/job-reader.js';

export interface ArtifactServiceOptions {
  /** The read model: which artifacts the job lists. */
  reader: JobReader;
  /** The store the job workers write artifacts to. */
  blobs?: BlobStore;
}

/** Downloads of the files handlers stored with `ctx.artifact`. */
export class ArtifactService {
  constructor(private readonly options: ArtifactServiceOptions) {}

  /**
   * The artifact as its job lists it, with its bytes as a stream. Only a listed artifact is served: a name the
   * job's current run never stored is a 404 even when an older run left a file behind.
   */
  async open(jobId: string, name: string): Promise<Artifact & { stream: Readable }> {
    const artifact = (await this.options.reader.artifacts(jobId)).find((listed) => listed.name === name);
    if (!artifact) throw new Errors.ArtifactNotFound(jobId, name);
    if (!this.options.blobs) throw new Error('artifacts cannot be served: the API has no blob store');
    const blob = await this.options.blobs.open(artifactKey(jobId, name));
    if (!blob) throw new Errors.ArtifactNotFound(jobId, name);
    return { ...artifact, size: blob.size, stream: blob.stream };
  }
}
