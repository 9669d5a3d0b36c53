import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBatcher } from '../../activities/batcher.js';
import type { BatchContext } from '../../sdk/batch.js';
import { defineJob, type JobContext } from '../../sdk/define-job.js';

function itemContext(jobId: string, controller = new AbortController()): JobContext {
  return {
    jobId,
    attempt: 1,
    workerId: 'w',
    resources: undefined,
    signal: controller.signal,
    resumeFrom: undefined,
    progress: () => undefined,
    log: () => undefined,
    checkpoint: () => undefined,
    artifact: () => Promise.reject(new Error('no store')),
  };
}

describe('the batcher', () => {
  it('splits what waits into batches of at most maxSize, run one at a time', async () => {
    const sizes: number[] = [];
    let running = 0;
    const job = defineJob({
      type: 'b',
      input: z.number(),
      batch: { maxSize: 3, maxWaitMs: 10 },
      async handler(inputs) {
        running += 1;
        expect(running).toBe(1);
        sizes.push(inputs.length);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        return inputs.map((n) => n * 2);
      },
    });
    const batcher = createBatcher(job, undefined, 'w');
    const outputs = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((n) => batcher.run(n, itemContext(`j${n}`))));
    expect(outputs).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('aborts the batch signal only once every item is aborted, and ends each aborted item at once', async () => {
    const controllers = [new AbortController(), new AbortController()];
    let batchSignal: AbortSignal | undefined;
    const job = defineJob({
      type: 'b',
      input: z.number(),
      batch: { maxSize: 2, maxWaitMs: 1000 },
      handler(inputs, ctx: BatchContext) {
        batchSignal = ctx.signal;
        return new Promise<number[]>((resolve) => ctx.signal.addEventListener('abort', () => resolve([0, 0])));
      },
    });
    const batcher = createBatcher(job, undefined, 'w');
    const runs = controllers.map((controller, i) => batcher.run(i, itemContext(`j${i}`, controller)));
    await new Promise((resolve) => setTimeout(resolve, 10));
    controllers[0]!.abort(new Error('CANCELLED'));
    await expect(runs[0]).rejects.toThrow('CANCELLED');
    expect(batchSignal?.aborted).toBe(false);
    controllers[1]!.abort(new Error('CANCELLED'));
    await expect(runs[1]).rejects.toThrow('CANCELLED');
    expect(batchSignal?.aborted).toBe(true);
  });

  it('fails every item when the handler throws or returns the wrong number of results', async () => {
    const job = (handler: (inputs: number[]) => number[]) =>
      createBatcher(defineJob({ type: 'b', input: z.number(), batch: { maxSize: 2, maxWaitMs: 20 }, handler }), 0, 'w');
    const thrower = job(() => {
      throw new Error('model crashed');
    });
    await expect(Promise.all([thrower.run(1, itemContext('a')), thrower.run(2, itemContext('b'))])).rejects.toThrow(
      'model crashed',
    );
    const short = job(() => [1]);
    const results = await Promise.allSettled([short.run(1, itemContext('a')), short.run(2, itemContext('b'))]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toContain('returned 1 results for 2 inputs');
  });

  it('refuses a batch setting out of range when the job is defined', () => {
    expect(() =>
      defineJob({ type: 'b', input: z.number(), batch: { maxSize: 0, maxWaitMs: 5 }, handler: () => [] }),
    ).toThrow('defineJob: batch.maxSize must be an integer from 1 to 1024');
  });
});
