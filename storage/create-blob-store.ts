import { join } from 'node:path';
import type { BlobStore } from './blob-store.js';
import { DirectoryBlobStore } from './directory-blob-store.js';

/** The settings `createBlobStore` reads: a subset of config/env.ts's `Env`, checked there. */
export interface BlobStoreEnv {
  GPUFLOW_DATA_DIR: string;
  GPUFLOW_S3_BUCKET?: string;
  GPUFLOW_S3_ENDPOINT?: string;
  GPUFLOW_S3_REGION?: string;
  GPUFLOW_S3_ACCESS_KEY_ID?: string;
  GPUFLOW_S3_SECRET_ACCESS_KEY?: string;
  GPUFLOW_S3_FORCE_PATH_STYLE?: boolean;
  GPUFLOW_S3_PREFIX?: string;
}

/**
 * An S3 bucket when `GPUFLOW_S3_BUCKET` is set, else the directory `<GPUFLOW_DATA_DIR>/blobs`. The S3 SDK is imported
 * only then: it weighs about 5 MB resident in every process, and the default store never uses it.
 */
export async function createBlobStore(env: BlobStoreEnv): Promise<BlobStore> {
  if (env.GPUFLOW_S3_BUCKET) {
    const { S3BlobStore } = await import('./s3-blob-store.js');
    return new S3BlobStore({
      bucket: env.GPUFLOW_S3_BUCKET,
      endpoint: env.GPUFLOW_S3_ENDPOINT,
      region: env.GPUFLOW_S3_REGION,
      accessKeyId: env.GPUFLOW_S3_ACCESS_KEY_ID,
      secretAccessKey: env.GPUFLOW_S3_SECRET_ACCESS_KEY,
      forcePathStyle: env.GPUFLOW_S3_FORCE_PATH_STYLE,
      prefix: env.GPUFLOW_S3_PREFIX,
    });
  }
  return new DirectoryBlobStore(join(env.GPUFLOW_DATA_DIR, 'blobs'));
}
