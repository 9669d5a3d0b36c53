import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import sleepJob from '../../examples/jobs/sleep.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { freePort, startTemporalDevServer, type DevServer } from '../../scripts/temporal-dev-server.js';
import { runGpuflow, type GpuflowProcess } from '../support/processes.js';
import { startStack, uniqueSuffix, waitFor, withSuffix, type TestStack } from '../support/stack.js';

/** Faults a job must survive: a worker killed outright, a Temporal server restarted on its SQLite file. */
describe('faults', () => {
  const suffix = uniqueSuffix();
  const type = `sleep-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-faults-'));
  // The sleep demo under a type of this test's own, as a job module for `gpuflow worker` processes.
  const modulePath = join(dir, 'sleep-job.mts');
  writeFileSync(
    modulePath,
    `import sleep from ${JSON.stringify(join(PROJECT_ROOT, 'examples/jobs/sleep.ts'))};
import { defineJob } from ${JSON.stringify(join(PROJECT_ROOT, 'sdk/index.ts'))};
export default defineJob({ ...sleep, type: ${JSON.stringify(type)} });
`,
  );
  const workers: GpuflowProcess[] = [];
  let stack: TestStack;

  const startWorker = async (identity: string, extra: string[] = []) => {
    const worker = runGpuflow(['worker', modulePath, '--identity', identity, ...extra], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
    });
    workers.push(worker);
    await worker.waitForLine(new RegExp(`serving ${type}`));
    return worker;
  };
  const stopWorkers = async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGTERM');
    await Promise.all(workers.map((worker) => worker.exited));
  };
  const submit = async (app: TestStack['app'], body: object) =>
    (await app.inject({ method: 'POST', url: '/v1/jobs', payload: { type, dedup: false, ...body } })).json<JobView>();
  const view = async (app: TestStack['app'], id: string) =>
    (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retries the job of a SIGKILLed worker on another once the lease runs out, resuming from its checkpoint', async () => {
    const doomed = await startWorker(`doomed-${suffix}`);
    const job = await submit(stack.app, { input: { seconds: 5 }, policy: { heartbeatTimeoutMs: 2000 } });
    // Two seconds slept: its checkpoint of 2 s went out with the heartbeat that carried this progress.
    await waitFor(
      () => view(stack.app, job.id),
      (v) => v.status === 'IN_PROGRESS' && /slept [2-4] of 5/.test(v.progress?.message ?? ''),
    );
    doomed.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect(await doomed.exited).toBe('SIGKILL');
    await startWorker(`rescuer-${suffix}`);

    // Until the lease runs out the job still reads as running: it is never dropped, nor failed.
    const meanwhile = await view(stack.app, job.id);
    expect(['IN_PROGRESS', 'IN_QUEUE']).toContain(meanwhile.status);
    const done = await waitFor(
      () => view(stack.app, job.id),
      (v) => v.status === 'COMPLETED',
      30_000,
    );
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(2000);
    expect(done).toMatchObject({ attempt: 2, workerId: `rescuer-${suffix}` });
    const output = done.output as { slept: number; resumedFrom: number };
    expect(output.slept).toBe(5);
    expect(output.resumedFrom).toBeGreaterThanOrEqual(2);
  });

  it('exits 0 after --idle-exit seconds without a job, and not while a job runs', async () => {
    await stopWorkers();
    const worker = await startWorker(`idle-${suffix}`, ['--idle-exit', '2']);
    const job = await submit(stack.app, { input: { seconds: 3 } });
    const done = await waitFor(
      () => view(stack.app, job.id),
      (v) => v.status === 'COMPLETED',
    );
    expect(done.workerId).toBe(`idle-${suffix}`);
    expect(await worker.exited).toBe(0);
    // It stayed through the 3 s job, then left about 2 s after it.
    expect(Date.now() - Date.parse(done.completedAt!)).toBeGreaterThanOrEqual(1000);
    expect(worker.output.join('\n')).toMatch(/drained, exiting/);
  });

  it('finishes a running job when the Temporal server restarts on its SQLite file', async () => {
    const port = await freePort();
    const dbFilename = join(dir, 'temporal.db');
    const serve = () => startTemporalDevServer({ cliPath: inject('temporalCliPath'), port, uiPort: null, dbFilename });
    let server: DevServer = await serve();
    const own = await startStack({ address: server.address });
    try {
      await own.startJobWorker({ jobs: [withSuffix(sleepJob, `restart-${suffix}`)] });
      const job = (
        await own.app.inject({
          method: 'POST',
          url: '/v1/jobs',
          payload: { type: `sleep-restart-${suffix}`, input: { seconds: 6 }, policy: { heartbeatTimeoutMs: 15_000 } },
        })
      ).json<JobView>();
      await waitFor(
        () => view(own.app, job.id),
        (v) => v.status === 'IN_PROGRESS' && (v.progress?.percent ?? 0) > 0,
      );
      await server.stop();
      await sleepMs(1000);
      server = await serve();

      const done = await waitFor(
        () => view(own.app, job.id),
        (v) => v.status === 'COMPLETED',
        60_000,
      );
      expect((done.output as { slept: number }).slept).toBe(6);
    } finally {
      await own.stop();
      await server.stop();
    }
  }, 120_000);
});
