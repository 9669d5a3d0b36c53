import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import { freePort, startTemporalDevServer, type DevServer } from '../../scripts/temporal-dev-server.js';
import { runGpuflow, type GpuflowProcess } from '../support/processes.js';
import { waitFor } from '../support/stack.js';

const TIME = String.raw`\d\d:\d\d:\d\d\.\d{3}`;

/** `GPUFLOW_LOG_FORMAT=pretty`: the real processes print one readable line per job event, no request or stack noise. */
describe('pretty logs of the api, orchestrator and worker processes', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gpuflow-pretty-'));
  let server: DevServer;
  let api: GpuflowProcess;
  let orchestrator: GpuflowProcess;
  let worker: GpuflowProcess;
  let apiUrl: string;

  beforeAll(async () => {
    // A server of its own: the default control task queue and the demo types are then this file's alone.
    server = await startTemporalDevServer({ cliPath: inject('temporalCliPath'), uiPort: null });
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    const env = {
      TEMPORAL_ADDRESS: server.address,
      GPUFLOW_API_PORT: String(port),
      GPUFLOW_DATA_DIR: dataDir,
      GPUFLOW_LOG_FORMAT: 'pretty',
    };
    api = runGpuflow(['api'], env);
    orchestrator = runGpuflow(['orchestrator'], env);
    worker = runGpuflow(['worker', 'examples/jobs/sleep.ts', 'examples/jobs/fail.ts'], env);
    await Promise.all([
      api.waitForLine(/Server listening/),
      orchestrator.waitForLine(/orchestrator: running job workflows/),
      worker.waitForLine(/serving sleep, fail/),
    ]);
  }, 120_000);
  afterAll(async () => {
    for (const proc of [api, orchestrator, worker]) if (proc?.child.exitCode === null) proc.child.kill('SIGTERM');
    await Promise.all([api, orchestrator, worker].map((proc) => proc?.exited));
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const submit = async (type: string, input: unknown) => {
    const res = await fetch(`${apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type, input, dedup: false }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as JobView).id;
  };
  const ended = (id: string) =>
    waitFor(
      async () => (await (await fetch(`${apiUrl}/v1/jobs/${id}`)).json()) as JobView,
      (view) => !['IN_QUEUE', 'IN_PROGRESS'].includes(view.status),
      60_000,
    );

  it('prints a job’s submission, start, progress and end, one line each with its id and time', async () => {
    const id = await submit('sleep', { seconds: 2 });
    expect((await ended(id)).status).toBe('COMPLETED');
    await orchestrator.waitForLine(new RegExp(`^${TIME} job ${id} submitted$`));
    await orchestrator.waitForLine(new RegExp(`^${TIME} job ${id} ended$`));
    await worker.waitForLine(new RegExp(`^${TIME} job ${id} started \\(attempt 1\\)$`));
    await worker.waitForLine(new RegExp(`^${TIME} job ${id} progressed \\d+(\\.\\d+)?% .* \\(attempt 1\\)$`));
    await worker.waitForLine(new RegExp(`^${TIME} job ${id} attempt 1 finished in \\d+\\.\\d s$`));
  }, 90_000);

  it('prints a failed attempt as one line with its type and message, without the stack', async () => {
    const id = await submit('fail', { message: 'the prompt is empty', retryable: false });
    expect((await ended(id)).status).toBe('FAILED');
    await worker.waitForLine(
      new RegExp(`^${TIME} job ${id} attempt 1 failed in \\d+\\.\\d s: JobError: the prompt is empty$`),
    );
    await orchestrator.waitForLine(new RegExp(`^${TIME} job ${id} ended FAILED: .*the prompt is empty$`));
    // The stack is in the job's log instead.
    const log = (await (await fetch(`${apiUrl}/v1/jobs/${id}/logs`)).json()) as { lines: { line: string }[] };
    expect(log.lines.some(({ line }) => /^\s+at /.test(line))).toBe(true);
  }, 90_000);

  it('prints no line per successful request, one per failed request, and no JSON or stack anywhere', async () => {
    const missing = await fetch(`${apiUrl}/v1/jobs/sleep-nope`);
    expect(missing.status).toBe(404);
    await api.waitForLine(new RegExp(`^${TIME} GET /v1/jobs/sleep-nope → 404 \\(\\d+ ms\\)$`));
    for (const proc of [api, orchestrator, worker]) {
      expect(proc.output.filter((line) => line.startsWith('{'))).toEqual([]);
      expect(proc.output.filter((line) => /^\s+at /.test(line))).toEqual([]);
    }
    expect(api.output.filter((line) => /GET|POST/.test(line))).toEqual([expect.stringContaining('sleep-nope → 404')]);
  }, 60_000);
});
