import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isBlobRef } from '../../protocol/blobs.js';
import type { RunJobInput } from '../../contracts/run-job.js';
import type { JobView } from '../../contracts/job.js';
import echoJob from '../../examples/jobs/echo.js';
import mandelbrotJob from '../../examples/jobs/mandelbrot.js';
import { defineJob } from '../../sdk/define-job.js';
import type { DirectoryBlobStore } from '../../storage/directory-blob-store.js';
import { JobError } from '../../sdk/job-error.js';
import { startStack, uniqueSuffix, waitFor, withSuffix, type TestStack } from '../support/stack.js';

const MB = 1024 * 1024;

/** About `bytes` of JSON: an array of small objects, the shape of a real batch input. */
function bigInput(bytes: number, seed: string) {
  const row = (i: number) => ({ i, seed, text: `row ${i} `.padEnd(80, 'x') });
  const rowBytes = JSON.stringify(row(0)).length + 1;
  return { rows: Array.from({ length: Math.ceil(bytes / rowBytes) }, (_, i) => row(i)) };
}

/** Large inputs and outputs go through the blob store by reference; artifacts are listed and downloadable. */
describe('large payloads and artifacts', () => {
  const suffix = uniqueSuffix();
  const echo = withSuffix(echoJob, suffix);
  const mandelbrot = withSuffix(mandelbrotJob, suffix);
  const gate = { open: false };
  // A small input and a large output; stores two artifacts, then waits for the gate before it completes.
  const producer = defineJob({
    type: `producer-${suffix}`,
    input: z.object({ kb: z.number() }),
    async handler({ kb }, ctx) {
      await ctx.artifact('report.txt', 'hello artifacts\n', 'text/plain; charset=utf-8');
      await ctx.artifact('data.bin', new Uint8Array([0, 1, 2, 255]));
      while (!gate.open) {
        ctx.signal.throwIfAborted();
        await sleepMs(50);
      }
      return { blob: 'y'.repeat(kb * 1024) };
    },
  });
  // Leaves a debug dump, then fails for good.
  const crasher = defineJob({
    type: `crasher-${suffix}`,
    input: z.object({}),
    async handler(_input, ctx) {
      await ctx.artifact('crash.log', 'NaN in layer 12\n', 'text/plain');
      throw new JobError('diverged', { retryable: false });
    },
  });
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack();
    await stack.startJobWorker({ jobs: [echo, mandelbrot, producer, crasher], capacity: 2 });
  });
  afterAll(async () => stack?.stop());

  const view = async (id: string) => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
  const startInput = async (id: string): Promise<unknown> => {
    const { history } = await stack.client.workflowService.getWorkflowExecutionHistory({
      namespace: stack.client.options.namespace,
      execution: { workflowId: id },
      maximumPageSize: 1,
    });
    const payload = history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(payload.data!.byteLength).toBeLessThan(4096);
    return stack.client.options.loadedDataConverter.payloadConverter.fromPayload<RunJobInput>(payload).input;
  };

  it('round-trips a 10 MB input through the echo job, with only a reference in the workflow history', async () => {
    const input = bigInput(10 * MB, suffix);
    const body = JSON.stringify({ type: echo.type, input });
    expect(body.length).toBeGreaterThan(10 * MB);
    const submitted = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs?wait=60000',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    expect(submitted.statusCode).toBe(201);
    const job = submitted.json<JobView>();
    expect(job.status).toBe('COMPLETED');
    expect(job.output).toEqual(input);
    expect(isBlobRef(await startInput(job.id))).toBe(true);
    // The workflow's result is a reference too; the API reads the real output back.
    const result: unknown = await stack.client.workflow.getHandle(job.id).result();
    expect(isBlobRef(result)).toBe(true);
    expect((await view(job.id)).output).toEqual(input);

    // The same submission again is the same job, with its cached (large) output.
    const again = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    expect(again.statusCode).toBe(200);
    expect(again.json<JobView & { deduplicated: boolean }>()).toMatchObject({ id: job.id, deduplicated: true });
  });

  it('still answers the view of a completed job whose large output blob was deleted, saying so', async () => {
    const input = bigInput(400 * 1024, `${suffix}-lost`);
    const submitted = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs?wait=60000',
      payload: { type: echo.type, input, dedup: false },
    });
    const job = submitted.json<JobView>();
    expect(job.status).toBe('COMPLETED');
    const result: unknown = await stack.client.workflow.getHandle(job.id).result();
    if (!isBlobRef(result)) throw new Error('expected the output to be stored by reference');
    rmSync(join((stack.blobs as DirectoryBlobStore).root, 'data', result.$gpuflowBlob.key));

    const response = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}` });
    expect(response.statusCode).toBe(200);
    const lost = response.json<JobView>();
    expect(lost).toMatchObject({ id: job.id, status: 'COMPLETED', error: { type: 'OutputUnavailable' } });
    expect(lost.error?.message).toMatch(/not in the blob store/);
    expect(lost.output).toBeUndefined();
  });

  it('keeps small inputs inline, and stores even a small one that looks like a reference', async () => {
    const small = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs?wait=30000',
      payload: { type: echo.type, input: { a: 1 }, dedup: false },
    });
    expect(await startInput(small.json<JobView>().id)).toEqual({ a: 1 });

    const lookalike = { $gpuflowBlob: { key: 'inputs/../../etc/passwd', size: 1, sha256: '0'.repeat(64) } };
    const tricky = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs?wait=30000',
      payload: { type: echo.type, input: lookalike, dedup: false },
    });
    expect(tricky.json<JobView>()).toMatchObject({ status: 'COMPLETED', output: lookalike });
  });

  it('lists artifacts while the job runs and after it completes, serves them, and resolves a large output', async () => {
    const submitted = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: producer.type, input: { kb: 600 }, dedup: false },
    });
    const { id } = submitted.json<JobView>();
    const running = await waitFor(
      () => view(id),
      (v) => v.artifacts.length === 2,
    );
    expect(running.status).toBe('IN_PROGRESS');
    expect(running.artifacts).toEqual([
      {
        name: 'report.txt',
        size: 16,
        contentType: 'text/plain; charset=utf-8',
        url: `/v1/jobs/${id}/artifacts/report.txt`,
      },
      { name: 'data.bin', size: 4, contentType: 'application/octet-stream', url: `/v1/jobs/${id}/artifacts/data.bin` },
    ]);
    const whileRunning = await stack.app.inject({ method: 'GET', url: running.artifacts[0]!.url });
    expect(whileRunning.statusCode).toBe(200);
    expect(whileRunning.body).toBe('hello artifacts\n');

    gate.open = true;
    const done = await waitFor(
      () => view(id),
      (v) => v.status === 'COMPLETED',
    );
    expect(done.artifacts.map((a) => a.name)).toEqual(['report.txt', 'data.bin']);
    expect(done.output).toEqual({ blob: 'y'.repeat(600 * 1024) });
    expect(isBlobRef(await stack.client.workflow.getHandle(id).result())).toBe(true);

    const text = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}/artifacts/report.txt` });
    expect(text.statusCode).toBe(200);
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.headers['content-length']).toBe('16');
    expect(text.headers['x-content-type-options']).toBe('nosniff');
    expect(text.body).toBe('hello artifacts\n');
    const binary = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}/artifacts/data.bin` });
    expect(binary.headers['content-type']).toBe('application/octet-stream');
    expect([...binary.rawPayload]).toEqual([0, 1, 2, 255]);

    // The listing shows them too (from the memo).
    const listed = await waitFor(
      () => stack.app.inject({ method: 'GET', url: `/v1/jobs?type=${producer.type}` }),
      (res) => res.json<{ jobs: JobView[] }>().jobs.some((job) => job.id === id && job.artifacts.length === 2),
    );
    expect(listed.statusCode).toBe(200);
  });

  it('keeps the artifacts of a job that ends FAILED listed and downloadable', async () => {
    const { id } = (
      await stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: crasher.type, input: {} } })
    ).json<JobView>();
    const done = await waitFor(
      () => view(id),
      (v) => v.status === 'FAILED',
    );
    expect(done.artifacts).toEqual([
      { name: 'crash.log', size: 16, contentType: 'text/plain', url: `/v1/jobs/${id}/artifacts/crash.log` },
    ]);
    const log = await stack.app.inject({ method: 'GET', url: done.artifacts[0]!.url });
    expect(log.statusCode).toBe(200);
    expect(log.body).toBe('NaN in layer 12\n');
  });

  it('renders the mandelbrot demo into a PNG artifact with progress per row', async () => {
    const submitted = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs?wait=60000',
      payload: { type: mandelbrot.type, input: { width: 320, height: 200, iterations: 100 }, dedup: false },
    });
    const job = submitted.json<JobView>();
    expect(job).toMatchObject({
      status: 'COMPLETED',
      output: { width: 320, height: 200, iterations: 100, artifact: 'mandelbrot.png' },
      artifacts: [{ name: 'mandelbrot.png', contentType: 'image/png' }],
    });
    const png = await stack.app.inject({ method: 'GET', url: job.artifacts[0]!.url });
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    const bytes = png.rawPayload;
    expect(bytes.byteLength).toBe(job.artifacts[0]!.size);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect(bytes.readUInt32BE(16)).toBe(320);
    expect(bytes.readUInt32BE(20)).toBe(200);
  });

  it('answers 404 for an unknown job or artifact, and 413 naming the limit for a body above it', async () => {
    const unknownJob = await stack.app.inject({ method: 'GET', url: `/v1/jobs/nope-${suffix}/artifacts/a.png` });
    expect(unknownJob.statusCode).toBe(404);
    expect(unknownJob.json()).toMatchObject({ code: 'GPUFLOW_ERR_JOB_NOT_FOUND' });

    const small = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs?wait=30000',
      payload: { type: echo.type, input: { n: 1 }, dedup: false },
    });
    const id = small.json<JobView>().id;
    for (const name of ['missing.png', '.hidden', '..%2F..%2Fpackage.json']) {
      const res = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}/artifacts/${name}` });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'GPUFLOW_ERR_ARTIFACT_NOT_FOUND' });
    }
    // The router resolves a bare `..` itself: no route, still a 404.
    expect((await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}/artifacts/..` })).statusCode).toBe(404);

    const tooLarge = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ type: echo.type, input: 'z'.repeat(20 * MB) }),
    });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json()).toMatchObject({
      code: 'GPUFLOW_ERR_PAYLOAD_TOO_LARGE',
      message: `the body is larger than ${20 * MB} bytes`,
    });
  });
});
