import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobLogsResponse } from '../../contracts/job-logs.js';
import type { JobView } from '../../contracts/job.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { DirectoryBlobStore } from '../../storage/directory-blob-store.js';
import { runGpuflow, type GpuflowProcess } from '../support/processes.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

/** An 'error' event nobody listens to, from something a handler started, fails that attempt and not the worker. */
describe('stray errors of a handler, in a real gpuflow worker process', () => {
  const suffix = uniqueSuffix();
  const type = `stray-${suffix}`;
  const project = mkdtempSync(join(tmpdir(), 'gpuflow-stray-'));
  const workerEnv = () => ({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    GPUFLOW_DATA_DIR: project,
  });
  let stack: TestStack;
  let worker: GpuflowProcess;

  beforeAll(async () => {
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'stray', type: 'module', private: true }));
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(PROJECT_ROOT, join(project, 'node_modules', 'gpuflow'));
    symlinkSync(join(PROJECT_ROOT, 'node_modules', 'zod'), join(project, 'node_modules', 'zod'));
    writeFileSync(
      join(project, 'stray.ts'),
      `import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from 'gpuflow/worker';

if (process.env.ORPHAN_ERROR) {
  setTimeout(() => new EventEmitter().emit('error', new Error('a module timer broke')), 1500);
}

export default defineJob({
  type: '${type}',
  input: z.object({ mode: z.enum(['emitter', 'spawn', 'ok']) }),
  async handler({ mode }, ctx) {
    ctx.log('mode', mode);
    if (mode === 'ok') return { pid: process.pid };
    if (mode === 'emitter') setTimeout(() => new EventEmitter().emit('error', new Error('the encoder broke')), 200);
    // No 'error' listener: when the job is cancelled, the child's AbortError is an uncaught 'error' event.
    if (mode === 'spawn') spawn('sleep', ['60'], { signal: ctx.signal });
    ctx.progress(1, 'waiting');
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    return { pid: process.pid };
  },
});
`,
    );
    stack = await startStack({ blobs: new DirectoryBlobStore(join(project, 'data', 'blobs')) });
    worker = runGpuflow(['worker', join(project, 'stray.ts'), '--capacity', '2'], {
      ...workerEnv(),
      GPUFLOW_DATA_DIR: join(project, 'data'),
    });
    await worker.waitForLine(/serving/, 90_000);
  }, 120_000);
  afterAll(async () => {
    if (worker?.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await stack?.stop();
    rmSync(project, { recursive: true, force: true });
  });

  const submit = async (mode: string) => {
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type, input: { mode }, dedup: false, policy: { maxAttempts: 1 } },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<JobView>().id;
  };
  const view = async (id: string) => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
  const until = (id: string, done: (v: JobView) => boolean) => waitFor(() => view(id), done, 60_000);

  it('fails the attempt with an emitter’s error from a timer, and the worker serves the next job', async () => {
    const id = await submit('emitter');
    const failed = await until(id, (v) => !['IN_QUEUE', 'IN_PROGRESS'].includes(v.status));
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({ type: 'Error', message: 'the encoder broke' });
    await worker.waitForLine(
      new RegExp(`^job ${id}#1: uncaught error from the handler fails the attempt: Error: the encoder broke$`),
    );
    const log = (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}/logs` })).json<JobLogsResponse>();
    expect(log.lines.map(({ line }) => line)).toContain('attempt failed: Error: the encoder broke');
    const next = await until(await submit('ok'), (v) => v.status === 'COMPLETED');
    expect(next.output).toEqual({ pid: worker.child.pid });
    expect(worker.child.exitCode).toBeNull();
  }, 90_000);

  it('ends a cancelled job whose child process errors with no listener, and the worker serves the next job', async () => {
    const id = await submit('spawn');
    await until(id, (v) => v.status === 'IN_PROGRESS' && v.progress !== null);
    const cancel = await stack.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    expect(cancel.statusCode).toBeLessThan(300);
    expect((await until(id, (v) => v.status === 'CANCELLED')).status).toBe('CANCELLED');
    await worker.waitForLine(new RegExp(`^job ${id}#1: uncaught error from the handler fails the attempt: AbortError`));
    const next = await until(await submit('ok'), (v) => v.status === 'COMPLETED');
    expect(next.output).toEqual({ pid: worker.child.pid });
    expect(worker.child.exitCode).toBeNull();
  }, 90_000);

  it('drains and exits non-zero on an error that no job owns, so that a supervisor restarts it', async () => {
    const orphan = runGpuflow(['worker', join(project, 'stray.ts')], {
      ...workerEnv(),
      GPUFLOW_DATA_DIR: join(project, 'data'),
      ORPHAN_ERROR: '1',
    });
    expect(await orphan.exited).toBe(1);
    const output = orphan.output.join('\n');
    expect(output).toMatch(/^worker: uncaught error outside any job: Error: a module timer broke$/m);
    expect(output).toMatch(/draining, then exiting non-zero/);
  }, 90_000);
});
