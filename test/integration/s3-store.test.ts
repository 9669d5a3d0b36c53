import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isBlobRef } from '../../protocol/blobs.js';
import type { JobView } from '../../contracts/job.js';
import echoJob from '../../examples/jobs/echo.js';
import { startS3TestServer, type S3TestServer } from '../../scripts/s3-test-server.js';
import { inputBlobKey, externalizePayload, resolvePayload } from '../../storage/payloads.js';
import { S3BlobStore } from '../../storage/s3-blob-store.js';
import { defineJob } from '../../sdk/define-job.js';
import { startStack, uniqueSuffix, withSuffix, type TestStack } from '../support/stack.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** S3BlobStore against a real S3-compatible server (moto_server), and one stack that keeps its blobs there. */
describe('S3 blob store', () => {
  const suffix = uniqueSuffix();
  const bucket = `gpuflow-${suffix}`;
  const echo = withSuffix(echoJob, suffix);
  const artist = defineJob({
    type: `artist-${suffix}`,
    input: z.object({ kb: z.number() }),
    async handler({ kb }, ctx) {
      await ctx.artifact('out.txt', 'made in S3', 'text/plain');
      return { blob: 'q'.repeat(kb * 1024) };
    },
  });
  let server: S3TestServer;
  let store: S3BlobStore;
  let stack: TestStack;

  beforeAll(async () => {
    // Installs moto[server] into .tools/s3-venv on first use (CI does it before the tests: `npm run s3:install`).
    server = await startS3TestServer();
    const admin = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    admin.destroy();
    store = new S3BlobStore({ bucket, endpoint: server.endpoint, forcePathStyle: true, prefix: 'gf', ...credentials });
    stack = await startStack({ blobs: store });
    await stack.startJobWorker({ jobs: [echo, artist] });
  }, 600_000);
  afterAll(async () => {
    await stack?.stop();
    store?.close();
    await server?.stop();
  });

  it('stores, reads, streams and stats objects under its prefix, and answers null for a missing key', async () => {
    expect(await store.get('artifacts/j/none.bin')).toBeNull();
    expect(await store.stat('artifacts/j/none.bin')).toBeNull();
    expect(await store.open('artifacts/j/none.bin')).toBeNull();
    await store.put('artifacts/j/a.bin', new Uint8Array([7, 8, 9]), 'application/x-test');
    expect(await store.get('artifacts/j/a.bin')).toMatchObject({ size: 3, contentType: 'application/x-test' });
    expect([...(await store.get('artifacts/j/a.bin'))!.body]).toEqual([7, 8, 9]);
    expect(await store.stat('artifacts/j/a.bin')).toEqual({ size: 3, contentType: 'application/x-test' });
    const opened = await store.open('artifacts/j/a.bin');
    const chunks: Buffer[] = [];
    for await (const chunk of opened!.stream) chunks.push(chunk as Buffer);
    expect([...Buffer.concat(chunks)]).toEqual([7, 8, 9]);
    await expect(store.put('../escape', new Uint8Array(1), 'x/y')).rejects.toThrow(TypeError);

    const input = { text: 'w'.repeat(5000) };
    const ref = await externalizePayload(input, store, 1024, inputBlobKey);
    expect(isBlobRef(ref)).toBe(true);
    expect(await resolvePayload(ref, store)).toEqual(input);
  });

  it('runs jobs end to end with S3: a large input and output by reference, and an artifact download', async () => {
    const input = { text: 'v'.repeat(400 * 1024) };
    const echoed = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs?wait=30000',
      payload: { type: echo.type, input, dedup: false },
    });
    expect(echoed.json<JobView>()).toMatchObject({ status: 'COMPLETED', output: input });
    expect(isBlobRef(await stack.client.workflow.getHandle(echoed.json<JobView>().id).result())).toBe(true);

    const made = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs?wait=30000',
      payload: { type: artist.type, input: { kb: 300 }, dedup: false },
    });
    const job = made.json<JobView>();
    expect(job).toMatchObject({ status: 'COMPLETED', output: { blob: 'q'.repeat(300 * 1024) } });
    expect(job.artifacts).toMatchObject([{ name: 'out.txt', size: 10, contentType: 'text/plain' }]);
    const download = await stack.app.inject({ method: 'GET', url: job.artifacts[0]!.url });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('text/plain');
    expect(download.body).toBe('made in S3');
  });
});
