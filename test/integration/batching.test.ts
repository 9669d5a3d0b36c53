import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../sdk/define-job.js';
import { JobError } from '../../sdk/job-error.js';
import { createJobWorker } from '../../workers/job-worker.js';
import { batchingScenarios, type Ran } from '../support/batching-scenarios.js';
import { NAMESPACE, startStack, uniqueSuffix, type TestStack } from '../support/stack.js';

describe('dynamic batching on a real Temporal server (TS worker)', () => {
  const suffix = uniqueSuffix();
  let calls = 0;
  const Input = z.object({ n: z.number().int() });
  const ran = (n: number, call: number, size: number): Ran => ({ n, call, size });

  // A long wait so that a burst submitted together lands in few batches even on a loaded machine.
  const burst = defineJob({
    type: `batch-burst-${suffix}`,
    input: Input,
    batch: { maxSize: 8, maxWaitMs: 1500 },
    handler(inputs) {
      const call = ++calls;
      return inputs.map(({ n }) => ran(n, call, inputs.length));
    },
  });
  const failing = defineJob({
    type: `batch-fail-${suffix}`,
    input: Input,
    batch: { maxSize: 8, maxWaitMs: 1500 },
    handler(inputs, ctx) {
      const call = ++calls;
      return inputs.map(({ n }, i) => {
        if (n === 13) return new JobError('unlucky item', { retryable: false, type: 'Unlucky' });
        // Fails its first attempt only: retried alone, under its own policy.
        if (n === 7 && ctx.items[i]!.attempt === 1) return new Error('flaky item');
        return ran(n, call, inputs.length);
      });
    },
  });
  const aborted: string[] = [];
  const slow = defineJob({
    type: `batch-slow-${suffix}`,
    input: Input,
    batch: { maxSize: 8, maxWaitMs: 1500 },
    async handler(inputs, ctx) {
      const call = ++calls;
      ctx.items.forEach((item, i) => {
        item.progress(10, `in a batch of ${inputs.length}`);
        item.signal.addEventListener('abort', () => aborted.push(item.jobId));
        item.log('item', i, 'of', inputs.length);
      });
      await sleep(6000, undefined, { signal: ctx.signal });
      return inputs.map(({ n }) => ran(n, call, inputs.length));
    },
  });
  const lone = defineJob({
    type: `batch-lone-${suffix}`,
    input: Input,
    batch: { maxSize: 8, maxWaitMs: 400 },
    handler(inputs) {
      const call = ++calls;
      return inputs.map(({ n }) => ran(n, call, inputs.length));
    },
  });
  const unbatched = defineJob({
    type: `unbatched-${suffix}`,
    input: Input,
    handler: ({ n }) => ran(n, 0, 1),
  });
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack();
    await stack.startJobWorker({ jobs: [burst, failing, slow, lone, unbatched], capacity: 16, print: () => undefined });
  });
  afterAll(async () => stack?.stop());

  batchingScenarios(
    () => stack,
    {
      burst: burst.type,
      failing: failing.type,
      slow: slow.type,
      lone: lone.type,
      unbatched: unbatched.type,
    },
    {
      cancelSeen: (jobId) => {
        expect(aborted).toEqual([jobId]);
        return Promise.resolve();
      },
    },
  );

  it('refuses a worker whose capacity could never fill a batch', async () => {
    await expect(
      createJobWorker({ connection: stack.connection, namespace: NAMESPACE, jobs: [burst], capacity: 4 }),
    ).rejects.toThrow(
      `worker capacity 4 can never fill a batch of ${burst.type} (batch.maxSize 8): every item of a batch holds one`,
    );
  });
});
