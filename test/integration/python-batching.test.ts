import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resolvePython } from '../../scripts/python-env.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { batchingScenarios } from '../support/batching-scenarios.js';
import { runProcess, type GpuflowProcess } from '../support/processes.js';
import { startStack, uniqueSuffix, type TestStack } from '../support/stack.js';

/** The same batching scenarios against a real `gpuflow-worker` process (the Python SDK). */
describe('dynamic batching on a real Temporal server (Python worker)', () => {
  const suffix = uniqueSuffix();
  const t = (name: string) => `${name}-${suffix}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'gpuflow-py-batch-'));
  const handlers = join(dataDir, 'handlers.py');
  let stack: TestStack;
  let worker: GpuflowProcess;
  const python = resolvePython();
  const env = () => ({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    GPUFLOW_DATA_DIR: dataDir,
    GPUFLOW_CONTROL_TASK_QUEUE: stack.controlTaskQueue,
    PYTHONPATH: join(PROJECT_ROOT, 'python', 'src'),
    PYTHONUNBUFFERED: '1',
  });

  beforeAll(async () => {
    writeFileSync(
      handlers,
      `import asyncio, itertools
from pydantic import BaseModel
import gpuflow

class Input(BaseModel):
    n: int

calls = itertools.count(1)
WAIT = gpuflow.Batch(max_size=8, max_wait_ms=1500)

def ran(n, call, size):
    return {"n": n, "call": call, "size": size}

@gpuflow.job("${t('batch-burst')}", input=Input, batch=WAIT)
def burst(inputs, ctx):
    call = next(calls)
    return [ran(i.n, call, len(inputs)) for i in inputs]

@gpuflow.job("${t('batch-fail')}", input=Input, batch=WAIT)
async def failing(inputs, ctx):
    call = next(calls)
    def one(i, item):
        if i.n == 13:
            return gpuflow.JobError("unlucky item", retryable=False, type="Unlucky")
        if i.n == 7 and item.attempt == 1:
            return RuntimeError("flaky item")
        return ran(i.n, call, len(inputs))
    return [one(i, item) for i, item in zip(inputs, ctx.items)]

@gpuflow.job("${t('batch-slow')}", input=Input, batch=WAIT)
async def slow(inputs, ctx):
    call = next(calls)
    for item in ctx.items:
        item.progress(10, f"in a batch of {len(inputs)}")
    seen = set()
    for _ in range(600):
        for item in ctx.items:
            if item.cancelled and item.job_id not in seen:
                seen.add(item.job_id)
                item.log("saw its own cancel")
        if ctx.cancelled:
            break
        await asyncio.sleep(0.01)
    return [ran(i.n, call, len(inputs)) for i in inputs]

@gpuflow.job("${t('batch-lone')}", input=Input, batch=gpuflow.Batch(max_size=8, max_wait_ms=400))
def lone(inputs, ctx):
    call = next(calls)
    return [ran(i.n, call, len(inputs)) for i in inputs]

@gpuflow.job("${t('unbatched')}", input=Input)
def unbatched(input, ctx):
    return ran(input.n, 0, 1)
`,
    );
    stack = await startStack();
    worker = runProcess(
      python,
      ['-m', 'gpuflow', 'worker', handlers, '--capacity', '16', '--identity', `py-batch-${suffix}`, '--grace', '5'],
      env(),
    );
    await worker.waitForLine(new RegExp(`serving .*${t('batch-burst')}`), 120_000);
  }, 240_000);
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  batchingScenarios(
    () => stack,
    {
      burst: t('batch-burst'),
      failing: t('batch-fail'),
      slow: t('batch-slow'),
      lone: t('batch-lone'),
      unbatched: t('unbatched'),
    },
    {
      cancelSeen: async (jobId) => {
        await worker.waitForLine(new RegExp(`${jobId}#1\\] saw its own cancel`), 10_000);
        expect(worker.output.join('\n')).not.toMatch(/saw its own cancel[\s\S]*saw its own cancel/);
      },
    },
  );

  it('refuses to start with a capacity that can never fill a batch', async () => {
    const refused = runProcess(python, ['-m', 'gpuflow', 'worker', handlers, '--capacity', '4'], env());
    expect(await refused.exited).not.toBe(0);
    expect(refused.output.join('\n')).toContain(
      `worker capacity 4 can never fill a batch of ${t('batch-burst')} (batch max_size 8)`,
    );
  }, 60_000);
});
