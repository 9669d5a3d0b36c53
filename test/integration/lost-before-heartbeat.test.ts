import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { runGpuflow, type GpuflowProcess } from '../support/processes.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

/**
 * A silent job's first heartbeat goes out a third of its lease after the start: a worker killed before then leaves
 * nothing on the pending activity. The job's view still names the attempt it lost, from the run's history.
 */
describe('a worker lost before its first heartbeat', () => {
  const suffix = uniqueSuffix();
  const type = `silent-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-silent-'));
  const modulePath = join(dir, 'silent-job.mts');
  writeFileSync(
    modulePath,
    `import { setTimeout as sleep } from 'node:timers/promises';
import { z } from ${JSON.stringify(join(PROJECT_ROOT, 'node_modules/zod/index.js'))};
import { defineJob } from ${JSON.stringify(join(PROJECT_ROOT, 'sdk/index.ts'))};
export default defineJob({
  type: ${JSON.stringify(type)},
  input: z.object({}),
  async handler(_input, ctx) { await sleep(600_000, undefined, { signal: ctx.signal }); return null; },
});
`,
  );
  let worker: GpuflowProcess | undefined;
  let stack: TestStack;
  const view = async (id: string) => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    if (worker?.child.exitCode === null) worker.child.kill('SIGKILL');
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends FAILED WorkerLost, naming the attempt, its worker and its start', async () => {
    const identity = `silent-worker-${suffix}`;
    worker = runGpuflow(['worker', modulePath, '--identity', identity], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
    });
    await worker.waitForLine(new RegExp(`serving ${type}`));
    // A 9 s lease: the first renewal is due 3 s after the start.
    const policy = { maxAttempts: 1, heartbeatTimeoutMs: 9000 };
    const submitted = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type, input: {}, dedup: false, policy },
    });
    const job = submitted.json<JobView>();
    const running = await waitFor(
      () => view(job.id),
      (v) => v.status === 'IN_PROGRESS',
    );
    worker.child.kill('SIGKILL');
    expect(await worker.exited).toBe('SIGKILL');
    // Nothing was heartbeated: the pending activity holds no details.
    const described = await stack.client.workflow.getHandle(job.id).describe();
    expect(described.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads ?? []).toHaveLength(0);

    const lost = await waitFor(
      () => view(job.id),
      (v) => v.status === 'FAILED',
      40_000,
    );
    expect(lost).toMatchObject({ attempt: 1, workerId: identity, startedAt: running.startedAt });
    expect(lost.error).toMatchObject({ type: 'WorkerLost' });
    expect(lost.executionTimeMs).toBeGreaterThanOrEqual(9000);
  }, 90_000);
});
