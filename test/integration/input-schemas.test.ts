import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import type { JobView } from '../../contracts/job.js';
import { jobTypeCatalogId, type JobTypeCatalogMemo } from '../../contracts/job-types.js';
import { defineJob } from '../../sdk/define-job.js';
import { resolvePython } from '../../scripts/python-env.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { runProcess, type GpuflowProcess } from '../support/processes.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

/**
 * Workers publish each job type's input JSON Schema (TS from zod, Python from pydantic) in the job type catalog;
 * the API then answers a submission that breaks it with a 400 naming the field, before any job exists.
 */
describe('input schemas published by workers', () => {
  const suffix = uniqueSuffix();
  const tsType = `schema-ts-${suffix}`;
  const pyType = `schema-py-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-schemas-'));
  let stack: TestStack;
  let python: GpuflowProcess;

  beforeAll(async () => {
    stack = await startStack({ api: { inputSchemasRefreshMs: 200 } });
    await stack.startJobWorker({
      jobs: [
        defineJob({
          type: tsType,
          input: z.object({ steps: z.number().int().min(1), prompt: z.string(), seed: z.number().default(7) }),
          handler: (input) => ({ steps: input.steps, seed: input.seed }),
        }),
      ],
    });
    const handlers = join(dir, 'handlers.py');
    writeFileSync(
      handlers,
      `from pydantic import BaseModel
import gpuflow

class Size(BaseModel):
    width: int
    label: str = "x"

@gpuflow.job("${pyType}", input=Size)
def size(input: Size, ctx: gpuflow.Context):
    return {"width": input.width}
`,
    );
    python = runProcess(resolvePython(), ['-m', 'gpuflow', 'worker', handlers, '--grace', '5'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      GPUFLOW_DATA_DIR: dir,
      GPUFLOW_CONTROL_TASK_QUEUE: stack.controlTaskQueue,
      PYTHONPATH: join(PROJECT_ROOT, 'python', 'src'),
      PYTHONUNBUFFERED: '1',
    });
    await python.waitForLine(new RegExp(`serving .*${pyType}`), 120_000);
  }, 240_000);
  afterAll(async () => {
    if (python && python.child.exitCode === null) {
      python.child.kill('SIGTERM');
      await python.exited;
    }
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const submit = (type: string, input: unknown) =>
    stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type, input, dedup: false } });
  const ended = (id: string) =>
    waitFor(
      async () => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>(),
      (view) => !['IN_QUEUE', 'IN_PROGRESS'].includes(view.status),
      60_000,
    );
  /**
   * Until the API has read the published schema (it reads it in the background): an empty input is then refused.
   * Deduplicated, so the probes before that make one job at most.
   */
  const untilChecked = (type: string) =>
    waitFor(
      async () =>
        (await stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type, input: {} } })).statusCode,
      (status) => status === 400,
      30_000,
    );

  it('both workers publish their JSON Schema in the job type catalog', async () => {
    const handle = stack.client.workflow.getHandle(jobTypeCatalogId(stack.controlTaskQueue));
    const memo = await waitFor(
      async () => ((await handle.describe()).memo ?? {}) as Partial<JobTypeCatalogMemo>,
      (m) => m.inputSchemas?.[tsType] !== undefined && m.inputSchemas[pyType] !== undefined,
      30_000,
    );
    expect(memo.inputSchemas?.[tsType]).toMatchObject({
      type: 'object',
      properties: { steps: { type: 'integer', minimum: 1 }, prompt: { type: 'string' } },
      required: ['steps', 'prompt'],
    });
    expect(memo.inputSchemas?.[pyType]).toMatchObject({
      type: 'object',
      properties: { width: { type: 'integer' } },
      required: ['width'],
    });
  });

  it('answers 400 naming the field for an input that breaks the TS job schema; a good one runs', async () => {
    await untilChecked(tsType);
    const bad = await submit(tsType, { steps: 'many', prompt: 'a cat' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ code: string }>().code).toBe('GPUFLOW_ERR_VALIDATION');
    expect(bad.json<{ message: string }>().message).toMatch(/^input\.steps: /);
    const missing = await submit(tsType, { steps: 2 });
    expect(missing.statusCode).toBe(400);
    expect(missing.json<{ message: string }>().message).toBe('input.prompt: required');
    // `seed` has a default: optional for the submitter, as zod's input side says.
    const good = await submit(tsType, { steps: 2, prompt: 'a cat' });
    expect(good.statusCode, good.body).toBe(201);
    const done = await ended(good.json<JobView>().id);
    expect(done.status).toBe('COMPLETED');
    expect(done.output).toEqual({ steps: 2, seed: 7 });
  }, 90_000);

  it('answers 400 naming the field for an input that breaks the pydantic model; a good one runs', async () => {
    await untilChecked(pyType);
    const bad = await submit(pyType, { width: 'wide' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ message: string }>().message).toMatch(/^input\.width: /);
    const good = await submit(pyType, { width: 640 });
    expect(good.statusCode, good.body).toBe(201);
    const done = await ended(good.json<JobView>().id);
    expect(done.status).toBe('COMPLETED');
    expect(done.output).toEqual({ width: 640 });
  }, 90_000);

  it('accepts any input for a type whose schema nobody has published, as before', async () => {
    const response = await submit(`schema-none-${suffix}`, { anything: ['goes'] });
    expect(response.statusCode, response.body).toBe(201);
    const view = response.json<JobView>();
    expect(view.status).toBe('IN_QUEUE');
    await stack.app.inject({ method: 'POST', url: `/v1/jobs/${view.id}/cancel` });
  });
});
