import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import { resolvePython } from '../../scripts/python-env.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { freePort, startTemporalDevServer, type DevServer } from '../../scripts/temporal-dev-server.js';
import { DirectoryBlobStore } from '../../storage/directory-blob-store.js';
import { runGpuflow, runProcess, type GpuflowProcess } from '../support/processes.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

/** `gpuflow worker` and `gpuflow-worker` started before Temporal wait for it, saying so, then serve jobs. */
describe('a worker started while Temporal is down', () => {
  const suffix = uniqueSuffix();
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-wait-'));
  const processes: GpuflowProcess[] = [];
  let server: DevServer | undefined;
  let stack: TestStack | undefined;

  afterAll(async () => {
    for (const child of processes) {
      if (child.child.exitCode === null) {
        child.child.kill('SIGTERM');
        await child.exited;
      }
    }
    await stack?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retries with backoff, one line per attempt naming the address and namespace, and completes a job once up', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    // The demo echo job: this server is the test's own, so the type is free.
    const tsJobs = join(PROJECT_ROOT, 'examples', 'jobs', 'echo.ts');
    const pyJobs = join(dir, 'py_jobs.py');
    writeFileSync(
      pyJobs,
      `import gpuflow\n\n@gpuflow.job("py-late-${suffix}")\ndef late(input, ctx):\n    return {"from": "py"}\n`,
    );
    const env = { TEMPORAL_ADDRESS: address, GPUFLOW_DATA_DIR: dir };
    const ts = runGpuflow(['worker', tsJobs], env);
    const py = runProcess(resolvePython(), ['-m', 'gpuflow', 'worker', pyJobs], {
      ...env,
      PYTHONPATH: join(PROJECT_ROOT, 'python', 'src'),
      PYTHONUNBUFFERED: '1',
    });
    processes.push(ts, py);
    const waiting = new RegExp(
      `^worker: waiting for Temporal at 127\\.0\\.0\\.1:${port} \\(namespace default\\): attempt (\\d+) failed \\(connection refused\\); next try in [\\d.]+ s$`,
    );
    for (const worker of [ts, py]) {
      await worker.waitForLine(new RegExp(waiting.source.replace('(\\d+)', '2')), 90_000);
      expect(worker.child.exitCode).toBeNull();
    }
    server = await startTemporalDevServer({ cliPath: inject('temporalCliPath'), port, uiPort: null });
    for (const worker of [ts, py]) await worker.waitForLine(/serving/, 60_000);
    for (const worker of [ts, py]) {
      const lines = worker.output.filter((line) => waiting.test(line));
      // One line per attempt, numbered in order, and the waits grow.
      expect(lines.map((line) => Number(waiting.exec(line)?.[1]))).toEqual(lines.map((_, index) => index + 1));
      expect(worker.output.some((line) => line === `worker: connected to Temporal at ${address}`)).toBe(true);
      expect(worker.output.join('\n')).not.toMatch(/tonic::transport/);
    }
    stack = await startStack({
      address: server.address,
      controlTaskQueue: 'gpuflow-control',
      blobs: new DirectoryBlobStore(join(dir, 'blobs')),
    });
    for (const [type, output] of [
      ['echo', { n: 1 }],
      [`py-late-${suffix}`, { from: 'py' }],
    ] as const) {
      const submitted = await stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type, input: { n: 1 } } });
      expect(submitted.statusCode, submitted.body).toBe(201);
      const id = submitted.json<JobView>().id;
      const done = await waitFor(
        async () => (await stack!.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>(),
        (view) => view.status === 'COMPLETED',
        60_000,
      );
      expect(done.output).toEqual(output);
    }
  }, 240_000);
});
