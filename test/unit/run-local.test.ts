import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob, JobError } from '../../sdk/index.js';
import { runLocal } from '../../workers/run-local.js';

/** `runLocal` from `gpuflow/testing`: what a handler's own unit test sees of one run. */
describe('runLocal', () => {
  it('collects progress, log lines, checkpoints and artifacts, with setup run first', async () => {
    const job = defineJob({
      type: 'report',
      input: z.object({ n: z.number() }),
      setup: () => ({ model: 'm1' }),
      async handler({ n }, ctx) {
        ctx.progress(150, 'over the top');
        ctx.log('n is', n, { twice: n * 2 });
        ctx.checkpoint({ done: n });
        const artifact = await ctx.artifact('out.txt', 'héllo', 'text/plain');
        return { model: ctx.resources.model, size: artifact.size, resumed: ctx.resumeFrom, job: ctx.jobId };
      },
    });
    const printed: string[] = [];
    const result = await runLocal(job, { n: 2 }, { resumeFrom: { done: 1 }, print: (line) => printed.push(line) });
    expect(result).toMatchObject({
      ok: true,
      error: undefined,
      output: { model: 'm1', size: 6, resumed: { done: 1 }, job: 'local_test' },
      progress: [{ percent: 100, message: 'over the top' }],
      logs: ['n is 2 {"twice":4}'],
      checkpoints: [{ done: 2 }],
    });
    expect(result.artifacts.get('out.txt')).toEqual({ data: 'héllo', contentType: 'text/plain' });
    expect(printed).toContain('artifact: out.txt (6 bytes, text/plain)');
  });

  it('returns a stream’s chunks, and all of them as the output when aggregated', async () => {
    const stream = {
      type: 'tokens',
      input: z.object({}),
      async *handler() {
        yield 'a';
        yield 'b';
        return 'done';
      },
    };
    expect(await runLocal(defineJob(stream), {})).toMatchObject({ ok: true, chunks: ['a', 'b'], output: 'done' });
    expect(await runLocal(defineJob({ ...stream, aggregateStream: true }), {})).toMatchObject({ output: ['a', 'b'] });
  });

  it('runs a batched type as a batch of one, its item’s progress reported', async () => {
    const job = defineJob({
      type: 'embed',
      input: z.object({ text: z.string() }),
      batch: { maxSize: 8, maxWaitMs: 20 },
      handler(inputs, ctx) {
        ctx.items.forEach((item) => item.progress(50, `in a batch of ${inputs.length}`));
        return inputs.map((input) => ({ length: input.text.length }));
      },
    });
    expect(await runLocal(job, { text: 'abc' })).toMatchObject({
      ok: true,
      output: { length: 3 },
      progress: [{ percent: 50, message: 'in a batch of 1' }],
    });
  });

  it('reports a bad input, a JobError and any other throw as a worker would, without throwing', async () => {
    const job = defineJob({
      type: 'picky',
      input: z.object({ mode: z.enum(['job-error', 'crash']) }),
      handler({ mode }) {
        if (mode === 'job-error') throw new JobError('no such image', { type: 'NotFound', retryable: false });
        throw new RangeError('out of memory');
      },
    });
    expect((await runLocal(job, { mode: 'nope' })).error).toMatchObject({ type: 'ValidationError', retryable: false });
    expect((await runLocal(job, { mode: 'job-error' })).error).toEqual({
      type: 'NotFound',
      message: 'no such image',
      retryable: false,
    });
    expect(await runLocal(job, { mode: 'crash' })).toMatchObject({
      ok: false,
      error: { type: 'RangeError', message: 'out of memory', retryable: true },
    });
  });
});
