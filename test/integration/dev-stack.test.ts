import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import { freePort, portInUse } from '../../scripts/temporal-dev-server.js';
import { devProcessPids, isRunning, runGpuflow, type GpuflowProcess } from '../support/processes.js';
import { waitFor } from '../support/stack.js';

const listening = (port: number) => portInUse('127.0.0.1', port);

/** The processes a dev started (Temporal server, orchestrator, worker, API) that still run. */
const stillRunning = (dev: GpuflowProcess): number[] => devProcessPids(dev.output.join('\n')).filter(isRunning);

/** Two ports n and n+1000 that are both free: the dev server's gRPC and Web UI ports. */
async function temporalPorts(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 1000 < 65_536 && !(await listening(port + 1000))) return port;
  }
}

describe('gpuflow dev: the whole stack from one command', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gpuflow-dev-'));
  let dev: GpuflowProcess | undefined;
  afterAll(async () => {
    // After a failure half-way: stop dev as a user would, then make sure no Temporal server outlives the test.
    if (dev && dev.child.exitCode === null) {
      dev.child.kill('SIGTERM');
      const killer = setTimeout(() => dev?.child.kill('SIGKILL'), 15_000);
      await dev.exited;
      clearTimeout(killer);
    }
    const pidFile = join(dataDir, 'temporal.pid');
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves jobs, stops everything on SIGINT and SIGTERM, and keeps every job across a restart', async () => {
    const temporalPort = await temporalPorts();
    const apiPort = await freePort();
    const env = {
      GPUFLOW_DATA_DIR: dataDir,
      GPUFLOW_TEMPORAL_PORT: String(temporalPort),
      GPUFLOW_API_PORT: String(apiPort),
      TEMPORAL_CLI_PATH: inject('temporalCliPath'),
    };
    const api = `http://127.0.0.1:${apiPort}`;
    const view = async (id: string) => (await fetch(`${api}/v1/jobs/${id}`)).json() as Promise<JobView>;

    dev = runGpuflow(['dev'], env, { detached: true });
    await dev.waitForLine(/gpuflow dev stack is up/, 90_000);
    expect(dev.output.join('\n')).toContain(`Temporal UI    http://127.0.0.1:${temporalPort + 1000}`);

    const res = await fetch(`${api}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'echo', input: { a: 1 } }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as JobView;
    const done = await waitFor(
      () => view(id),
      (v) => v.status === 'COMPLETED',
    );
    expect(done.output).toEqual({ a: 1 });

    // A job that is half-way when the stack stops: the worker hands it back after its grace, and it resumes later.
    const sleeping = await fetch(`${api}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'sleep', input: { seconds: 10 }, dedup: false }),
    });
    const sleeper = (await sleeping.json()) as JobView;
    await waitFor(
      () => view(sleeper.id),
      (v) => /slept [2-6] of 10/.test(v.progress?.message ?? ''),
    );

    // Ctrl-C in a terminal signals the whole foreground process group: dev alone gets it, and stops the children
    // in order (the worker drains) and then the Temporal server, within a few seconds.
    const stoppedAt = Date.now();
    process.kill(-dev.child.pid!, 'SIGINT');
    expect(await dev.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    expect(dev.output.some((line) => /^\[worker\] worker .*: drained, exiting/.test(line))).toBe(true);
    expect(devProcessPids(dev.output.join('\n'))).toHaveLength(4);
    expect(stillRunning(dev)).toEqual([]);
    expect(await listening(apiPort)).toBe(false);
    expect(await listening(temporalPort)).toBe(false);

    // Same data dir: the job is still there, output and all.
    dev = runGpuflow(['dev'], env);
    await dev.waitForLine(/gpuflow dev stack is up/, 90_000);
    const again = await view(id);
    expect(again).toMatchObject({ id, status: 'COMPLETED', output: { a: 1 }, attempt: 1 });
    const resumed = await waitFor(
      () => view(sleeper.id),
      (v) => v.status === 'COMPLETED',
    );
    expect(resumed.attempt).toBe(2);
    expect(resumed.output).toMatchObject({ slept: 10 });
    expect((resumed.output as { resumedFrom: number }).resumedFrom).toBeGreaterThanOrEqual(2);

    // dev killed outright while a job runs: every process it started notices and stops by itself (the worker after
    // handing the job back), none spins on as an orphan. The ports alone would not tell: a job worker holds none.
    const running = await fetch(`${api}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'sleep', input: { seconds: 10 }, dedup: false }),
    });
    const runner = (await running.json()) as JobView;
    await waitFor(
      () => view(runner.id),
      (v) => v.status === 'IN_PROGRESS',
    );
    dev.child.kill('SIGKILL');
    await dev.exited;
    const killed = dev;
    expect(
      await waitFor(
        () => Promise.resolve(stillRunning(killed)),
        (alive) => alive.length === 0,
        15_000,
      ),
    ).toEqual([]);
    expect(await listening(apiPort)).toBe(false);
    expect(await listening(temporalPort)).toBe(false);

    // The Temporal server stopped cleanly too: the next dev finds every job, and the handed-back one finishes.
    dev = runGpuflow(['dev'], env);
    await dev.waitForLine(/gpuflow dev stack is up/, 90_000);
    expect((await view(id)).status).toBe('COMPLETED');
    expect(
      await waitFor(
        () => view(runner.id),
        (v) => v.status === 'COMPLETED',
      ),
    ).toMatchObject({ attempt: 2 });
    dev.child.kill('SIGTERM');
    expect(await dev.exited).toBe(0);
    expect(stillRunning(dev)).toEqual([]);
    expect(await listening(temporalPort)).toBe(false);
  }, 240_000);
});
