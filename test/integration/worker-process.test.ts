import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { runGpuflow, type GpuflowProcess } from '../support/processes.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

/**
 * `gpuflow worker` as a user runs it on a GPU host: a job module in a project of its own that imports the SDK as
 * `gpuflow/worker`, a worker process against a Temporal address, and a drain on SIGTERM.
 */
describe('gpuflow worker process', () => {
  const suffix = uniqueSuffix();
  const type = `nap-${suffix}`;
  const stepsType = `steps-${suffix}`;
  const reportType = `report-${suffix}`;
  const project = mkdtempSync(join(tmpdir(), 'gpuflow-user-'));
  let stack: TestStack;
  let worker: GpuflowProcess | undefined;

  beforeAll(async () => {
    // A user's project with gpuflow and zod installed (linked to this checkout).
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'my-gpu-jobs', type: 'module', private: true }),
    );
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(PROJECT_ROOT, join(project, 'node_modules', 'gpuflow'));
    symlinkSync(join(PROJECT_ROOT, 'node_modules', 'zod'), join(project, 'node_modules', 'zod'));
    writeFileSync(
      join(project, 'nap.ts'),
      `import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from 'gpuflow/worker';

let loads = 0;
export default defineJob({
  type: '${type}',
  input: z.object({ ms: z.number().int().min(0) }),
  async setup() {
    loads += 1;
    return { model: 'weights-v1' };
  },
  async handler({ ms }, ctx) {
    ctx.log('napping for', ms, 'ms');
    await sleep(ms, undefined, { signal: ctx.signal });
    return { napped: ms, model: ctx.resources.model, loads, worker: ctx.workerId };
  },
});
`,
    );
    writeFileSync(
      join(project, 'steps.ts'),
      `import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from 'gpuflow/worker';

export default defineJob({
  type: '${stepsType}',
  input: z.object({ steps: z.number().int().min(1), stepMs: z.number().int().min(0) }),
  async handler({ steps, stepMs }, ctx) {
    const resumedFrom = (ctx.resumeFrom as { done: number } | undefined)?.done ?? 0;
    for (let done = resumedFrom; done < steps; done += 1) {
      await sleep(stepMs, undefined, { signal: ctx.signal });
      ctx.checkpoint({ done: done + 1 });
      ctx.progress(((done + 1) / steps) * 100, 'step ' + (done + 1));
    }
    return { resumedFrom, attempt: ctx.attempt, worker: ctx.workerId };
  },
});
`,
    );
    writeFileSync(
      join(project, 'report.ts'),
      `import { z } from 'zod';
import { defineJob } from 'gpuflow/worker';

export default defineJob({
  type: '${reportType}',
  input: z.object({}),
  async handler(_input, ctx) {
    await ctx.artifact('report.txt', 'all good');
    return { ok: true };
  },
});
`,
    );
    stack = await startStack();
  });
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await stack?.stop();
    rmSync(project, { recursive: true, force: true });
  });

  const submit = async (input: unknown) =>
    (
      await stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type, input, dedup: false } })
    ).json<JobView>();
  const view = async (id: string) => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();

  it('runs jobs from a module that imports gpuflow/worker, with setup run once', async () => {
    worker = runGpuflow(['worker', join(project, 'nap.ts'), '--capacity', '2', '--identity', `gpu-host-${suffix}`], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
    });
    await worker.waitForLine(new RegExp(`serving ${type}`));
    const jobs = await Promise.all([submit({ ms: 10 }), submit({ ms: 20 })]);
    for (const job of jobs) {
      const done = await waitFor(
        () => view(job.id),
        (v) => v.status === 'COMPLETED',
      );
      expect(done.output).toMatchObject({ model: 'weights-v1', loads: 1, worker: `gpu-host-${suffix}` });
      expect(done.workerId).toBe(`gpu-host-${suffix}`);
    }
    await worker.waitForLine(/napping for 20 ms/);
  });

  it('on SIGTERM stops taking jobs, lets the running one finish within the grace period, and exits 0', async () => {
    const running = await submit({ ms: 3000 });
    await waitFor(
      () => view(running.id),
      (v) => v.status === 'IN_PROGRESS',
    );
    worker!.child.kill('SIGTERM');
    await worker!.waitForLine(/draining/);
    const queued = await submit({ ms: 10 });

    expect(await worker!.exited).toBe(0);
    const finished = await view(running.id);
    expect(finished).toMatchObject({ status: 'COMPLETED', attempt: 1, output: { napped: 3000 } });
    // The job submitted during the drain was not taken: it waits for the next worker.
    expect((await view(queued.id)).status).toBe('IN_QUEUE');
  });

  it('hands a job still running when the grace period ends back at once, and another worker finishes it', async () => {
    const short = runGpuflow(['worker', join(project, 'nap.ts'), '--grace', '1', '--identity', `short-${suffix}`], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
    });
    await short.waitForLine(new RegExp(`serving ${type}`));
    const job = await submit({ ms: 4000 });
    await waitFor(
      () => view(job.id),
      (v) => v.status === 'IN_PROGRESS',
    );
    short.child.kill('SIGTERM');
    expect(await short.exited).toBe(0);

    const handedBackAt = Date.now();
    worker = runGpuflow(['worker', join(project, 'nap.ts'), '--identity', `next-${suffix}`], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
    });
    const done = await waitFor(
      () => view(job.id),
      (v) => v.status === 'COMPLETED',
      20_000,
    );
    expect(done).toMatchObject({ attempt: 2, workerId: `next-${suffix}`, output: { napped: 4000 } });
    // Not after the 30 s lease: the drained worker said it gave the job up.
    expect(Date.now() - handedBackAt).toBeLessThan(15_000);
  });

  it('does not use up an attempt for a drain: a maxAttempts 1 job resumes from its checkpoint on the next worker', async () => {
    const env = { TEMPORAL_ADDRESS: inject('temporalAddress') };
    const first = runGpuflow(
      ['worker', join(project, 'steps.ts'), '--grace', '1', '--identity', `first-${suffix}`],
      env,
    );
    await first.waitForLine(new RegExp(`serving ${stepsType}`));
    const submitted = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: stepsType, input: { steps: 40, stepMs: 250 }, dedup: false, policy: { maxAttempts: 1 } },
    });
    const job = submitted.json<JobView>();
    await waitFor(
      () => view(job.id),
      (v) => (v.progress?.percent ?? 0) >= 10,
      30_000,
    );
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // Handed back, not failed: the job waits for a worker, still on its first attempt's count.
    const between = await view(job.id);
    expect(between).toMatchObject({ status: 'IN_QUEUE', attempt: 1 });

    const second = runGpuflow(['worker', join(project, 'steps.ts'), '--identity', `second-${suffix}`], env);
    try {
      const done = await waitFor(
        () => view(job.id),
        (v) => v.status !== 'IN_QUEUE' && v.status !== 'IN_PROGRESS',
        60_000,
      );
      expect(done).toMatchObject({ status: 'COMPLETED', attempt: 2, workerId: `second-${suffix}` });
      const output = done.output as { resumedFrom: number; attempt: number; worker: string };
      expect(output.attempt).toBe(2);
      expect(output.worker).toBe(`second-${suffix}`);
      // It went on from the drained attempt's checkpoint instead of starting over.
      expect(output.resumedFrom).toBeGreaterThanOrEqual(4);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('fails a job at its first blob, naming both stores, when the worker does not use the API blob store', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'gpuflow-other-store-'));
    const lost = runGpuflow(['worker', join(project, 'report.ts'), '--identity', `elsewhere-${suffix}`], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      GPUFLOW_DATA_DIR: elsewhere,
    });
    try {
      await lost.waitForLine(new RegExp(`serving ${reportType}`));
      const submitted = await stack.app.inject({
        method: 'POST',
        url: '/v1/jobs?wait=30000',
        payload: { type: reportType, input: {}, dedup: false },
      });
      const job = submitted.json<JobView>();
      expect(job).toMatchObject({ status: 'FAILED', error: { type: 'BlobStoreMismatch', retryable: false } });
      expect(job.error?.message).toContain(join(elsewhere, 'blobs'));
      expect(job.error?.message).toContain(stack.blobs.location);
      expect(job.artifacts).toEqual([]);
      await lost.waitForLine(/is not the API's/);
    } finally {
      lost.child.kill('SIGTERM');
      await lost.exited;
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
