import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { checkBlobKey, type BlobInfo, type BlobStore } from './blob-store.js';
import { redactUrl } from '../contracts/redact-url.js';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export interface S3BlobStoreOptions {
  bucket: string;
  /** An S3-compatible server (MinIO, Ceph, R2, ...): `https://s3.example.com`. Unset: AWS S3. */
  endpoint?: string;
  /** @defaultValue 'us-east-1' */
  region?: string;
  /** Both or neither; neither: the AWS SDK's default credential chain (environment, profile, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key`; most self-hosted servers need it. */
  forcePathStyle?: boolean;
  /** Prepended to every key, e.g. `gpuflow/`; a missing trailing `/` is added. */
  prefix?: string;
}

/** Blobs as objects in an S3 bucket, for job workers on other hosts than the API. Puts are atomic in S3. */
export class S3BlobStore implements BlobStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ? options.prefix.replace(/\/*$/, '/') : '';
    this.location = `s3://${this.bucket}/${this.prefix}${options.endpoint ? ` at ${redactUrl(options.endpoint)}` : ''}`;
    this.client = new S3Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      // A hung endpoint must fail the request (a 5xx, a retried attempt), not hold it forever.
      requestHandler: { connectionTimeout: 5000, requestTimeout: 60_000 },
      ...(options.accessKeyId && options.secretAccessKey
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
        : {}),
      // Checksums only where S3 requires them: many S3-compatible servers reject the newer default trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: body,
        ContentType: contentType,
        ContentLength: body.byteLength,
      }),
    );
  }

  async get(key: string): Promise<(BlobInfo & { body: Uint8Array }) | null> {
    const object = await this.getObject(key);
    if (!object?.Body) return null;
    const body = await object.Body.transformToByteArray();
    return { body, size: body.byteLength, contentType: object.ContentType ?? DEFAULT_CONTENT_TYPE };
  }

  async open(key: string): Promise<(BlobInfo & { stream: Readable }) | null> {
    const object = await this.getObject(key);
    if (!object?.Body) return null;
    // In Node the body is an http.IncomingMessage (a Readable) with the SDK's helpers mixed in.
    const stream = object.Body instanceof Readable ? object.Body : Readable.fromWeb(object.Body.transformToWebStream());
    return { stream, size: object.ContentLength ?? 0, contentType: object.ContentType ?? DEFAULT_CONTENT_TYPE };
  }

  async stat(key: string): Promise<BlobInfo | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { size: head.ContentLength ?? 0, contentType: head.ContentType ?? DEFAULT_CONTENT_TYPE };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Closes the client's connections; idempotent. */
  close(): void {
    this.client.destroy();
  }

  private async getObject(key: string): Promise<GetObjectCommandOutput | null> {
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  private objectKey(key: string): string {
    return this.prefix + checkBlobKey(key);
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey');
}
