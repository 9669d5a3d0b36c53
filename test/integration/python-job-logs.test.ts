import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobLogsResponse } from '../../contracts/job-logs.js';
import type { JobView } from '../../contracts/job.js';
import { resolvePython } from '../../scripts/python-env.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { DirectoryBlobStore } from '../../storage/directory-blob-store.js';
import { runProcess, type GpuflowProcess } from '../support/processes.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

/** A `gpuflow-worker` (Python) keeps its jobs' logs in the layout the TS worker uses: the API reads them alike. */
describe('python job logs', () => {
  const suffix = uniqueSuffix();
  const type = `py-flaky-${suffix}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'gpuflow-py-logs-'));
  let stack: TestStack;
  let worker: GpuflowProcess;

  beforeAll(async () => {
    const handlers = join(dataDir, 'handlers.py');
    writeFileSync(
      handlers,
      `import gpuflow

@gpuflow.job("${type}")
def flaky(input, ctx):
    ctx.log("starting attempt", ctx.attempt)
    if ctx.attempt == 1:
        raise ValueError("the first attempt always breaks")
    ctx.log("second time lucky")
    return {"ok": True}
`,
    );
    stack = await startStack({ blobs: new DirectoryBlobStore(join(dataDir, 'blobs')) });
    worker = runProcess(resolvePython(), ['-m', 'gpuflow', 'worker', handlers, '--grace', '5'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      GPUFLOW_DATA_DIR: dataDir,
      GPUFLOW_CONTROL_TASK_QUEUE: stack.controlTaskQueue,
      PYTHONPATH: join(PROJECT_ROOT, 'python', 'src'),
      PYTHONUNBUFFERED: '1',
    });
    await worker.waitForLine(new RegExp(`serving .*${type}`), 120_000);
  }, 240_000);
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps both attempts’ lines, the failed one’s traceback among them, after the job ended', async () => {
    const submitted = await stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type, input: {} } });
    const { id } = submitted.json<JobView>();
    const done = await waitFor(
      async () => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>(),
      (view) => !['IN_QUEUE', 'IN_PROGRESS'].includes(view.status),
      60_000,
    );
    expect(done.status).toBe('COMPLETED');
    const page = (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}/logs` })).json<JobLogsResponse>();
    expect(page.done).toBe(true);
    const texts = page.lines.map(({ attempt, line }) => `${attempt} ${line}`);
    expect(texts[0]).toBe('1 starting attempt 1');
    expect(texts[1]).toBe('1 attempt failed: ValueError: the first attempt always breaks');
    expect(texts).toContain('1 Traceback (most recent call last):');
    expect(texts.some((text) => /^1 +File ".*handlers\.py", line \d+, in flaky$/.test(text))).toBe(true);
    expect(texts.slice(-2)).toEqual(['2 starting attempt 2', '2 second time lucky']);
    for (const { at } of page.lines) expect(at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const after = (
      await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}/logs?after=${texts.length - 1}` })
    ).json<JobLogsResponse>();
    expect(after.lines.map(({ line }) => line)).toEqual(['second time lucky']);
  }, 90_000);
});
