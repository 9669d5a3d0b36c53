import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../scripts/temporal-dev-server.js';
import { BIN, runGpuflow, type GpuflowProcess } from '../support/processes.js';
import { waitFor } from '../support/stack.js';

const run = promisify(execFile);

/**
 * The process entries as an operator starts them (`gpuflow api`, `gpuflow orchestrator`, `gpuflow worker`) and the
 * `gpuflow submit|status|cancel|retry` client, all against the shared Temporal server. This file is the only user of the
 * default control task queue on that server.
 */
describe('gpuflow api + orchestrator + worker processes and the CLI client', () => {
  const processes: GpuflowProcess[] = [];
  let env: Record<string, string>;
  const gpuflow = async (...args: string[]) =>
    JSON.parse((await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } })).stdout) as Record<
      string,
      unknown
    >;

  beforeAll(async () => {
    const port = await freePort();
    env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      GPUFLOW_API_PORT: String(port),
      GPUFLOW_API_URL: `http://127.0.0.1:${port}`,
      GPUFLOW_API_KEYS: 'cli-test-key-0123456789:admin',
      GPUFLOW_API_KEY: 'cli-test-key-0123456789',
    };
    const api = runGpuflow(['api'], env);
    const orchestrator = runGpuflow(['orchestrator'], env);
    const worker = runGpuflow(['worker', 'examples/jobs/echo.ts', 'examples/jobs/sleep.ts'], env);
    processes.push(api, orchestrator, worker);
    await Promise.all([
      api.waitForLine(/Server listening/),
      orchestrator.waitForLine(/orchestrator: running job workflows/),
      worker.waitForLine(/serving echo, sleep/),
    ]);
  });
  afterAll(async () => {
    for (const proc of processes) if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
    await Promise.all(processes.map((proc) => proc.exited));
  });

  it('submits and waits, shows status, cancels, and reports API errors with their code', async () => {
    const done = await gpuflow('submit', 'echo', JSON.stringify({ from: 'cli' }), '--no-dedup', '--wait');
    expect(done).toMatchObject({ status: 'COMPLETED', output: { from: 'cli' }, deduplicated: false });
    expect(await gpuflow('status', String(done.id))).toMatchObject({ id: done.id, status: 'COMPLETED' });

    const sleeping = await gpuflow('submit', 'sleep', '{"seconds":120}', '--no-dedup');
    const cancelled = await gpuflow('cancel', String(sleeping.id));
    expect(cancelled.id).toBe(sleeping.id);
    await waitFor(
      () => gpuflow('status', String(sleeping.id)),
      (v) => v.status === 'CANCELLED',
    );
    const retried = await gpuflow('retry', String(sleeping.id));
    expect(retried).toMatchObject({
      id: sleeping.id,
      status: expect.stringMatching(/^IN_(QUEUE|PROGRESS)$/) as unknown,
    });
    await gpuflow('cancel', String(sleeping.id));
    await expect(
      run(process.execPath, [BIN, 'status', 'echo-missing'], { env: { ...process.env, ...env } }),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('404 GPUFLOW_ERR_JOB_NOT_FOUND') as unknown,
    });
  });

  it('exits with every bad environment variable named', async () => {
    await expect(
      run(process.execPath, [BIN, 'api'], {
        env: { ...process.env, GPUFLOW_API_PORT: 'x', GPUFLOW_LOG_LEVEL: 'loud' },
      }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/GPUFLOW_API_PORT[\s\S]*GPUFLOW_LOG_LEVEL/) as unknown,
    });
  });

  it('on SIGTERM, ends a ?wait at once with the current view and closes the API within a few seconds', async () => {
    const headers = { authorization: `Bearer ${env.GPUFLOW_API_KEY}`, 'content-type': 'application/json' };
    const submitted = await fetch(`${env.GPUFLOW_API_URL}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'sleep', input: { seconds: 20 }, dedup: false }),
    });
    const job = (await submitted.json()) as { id: string };
    await waitFor(
      () => gpuflow('status', job.id),
      (v) => v.status === 'IN_PROGRESS',
    );
    const waiting = fetch(`${env.GPUFLOW_API_URL}/v1/jobs/${job.id}?wait=300000`, { headers });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [api] = processes;
    const signalledAt = Date.now();
    api!.child.kill('SIGTERM');
    const answer = await waiting;
    const answeredAfterMs = Date.now() - signalledAt;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ id: job.id, status: 'IN_PROGRESS' });
    expect(await api!.exited).toBe(0);
    const closedAfterMs = Date.now() - signalledAt;
    // The job runs 20 s: waiting for it would take about 19 s. Generous for a loaded machine.
    expect(answeredAfterMs).toBeLessThan(5000);
    expect(closedAfterMs).toBeLessThan(8000);
    const client = new Client({ connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS }) });
    await client.workflow.getHandle(job.id).cancel();
    await client.connection.close();
  });

  it('drains every process on SIGTERM and exits 0', async () => {
    for (const proc of processes) if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
    expect(await Promise.all(processes.map((proc) => proc.exited))).toEqual([0, 0, 0]);
  });
});
