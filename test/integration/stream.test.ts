import { setTimeout as sleepMs } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobView, StreamChunk } from '../../contracts/job.js';
import tokensJob from '../../examples/jobs/tokens.js';
import { defineJob } from '../../sdk/define-job.js';
import { readSse, type ReceivedEvent } from '../support/sse.js';
import { startStack, uniqueSuffix, waitFor, withSuffix, type TestStack } from '../support/stack.js';

describe('streaming jobs', () => {
  const suffix = uniqueSuffix();
  const tokens = withSuffix(tokensJob, suffix);
  const finallyRan = new Set<string>();
  // Yields until cancelled; its finally must run when the job is cancelled.
  const endless = defineJob({
    type: `endless-${suffix}`,
    input: z.object({}),
    async *handler(_input, ctx) {
      try {
        for (let i = 0; ; i += 1) {
          yield i;
          await sleepMs(100, undefined, { signal: ctx.signal });
        }
      } finally {
        finallyRan.add(ctx.jobId);
      }
    },
  });
  // Many chunks as fast as it can: the stream must batch them.
  const burst = defineJob({
    type: `burst-${suffix}`,
    input: z.object({ count: z.number().int() }),
    async *handler({ count }) {
      for (let i = 1; i <= count; i += 1) yield { i };
      await Promise.resolve();
      return { yielded: count };
    },
  });
  let stack: TestStack;
  let base: string;

  beforeAll(async () => {
    stack = await startStack();
    await stack.startJobWorker({ jobs: [tokens, endless, burst], capacity: 4 });
    base = await stack.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => stack?.stop());

  const submit = async (type: string, input: unknown) =>
    (
      await stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type, input, dedup: false } })
    ).json<JobView>();
  const poll = async (id: string, after: number) =>
    (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}/stream?after=${after}` })).json<{
      chunks: StreamChunk[];
      status: string;
      done: boolean;
    }>();
  const chunksOf = (events: ReceivedEvent[]) =>
    events.filter((e) => e.event === 'chunk').map((e) => e.data as StreamChunk);

  it('streams chunks over SSE while the job runs, then done with the aggregated output', async () => {
    const words = 'the quick brown fox jumps over the lazy dog'.split(' ');
    const job = await submit(tokens.type, { text: words.join(' '), delayMs: 300 });
    const events = await readSse(`${base}/v1/jobs/${job.id}/stream`);

    const chunks = chunksOf(events);
    expect(chunks).toEqual(words.map((word, i) => ({ seq: i + 1, attempt: 1, data: word })));
    expect(events.filter((e) => e.event === 'chunk').map((e) => e.id)).toEqual(words.map((_w, i) => String(i + 1)));
    expect(events.some((e) => e.event === 'progress')).toBe(true);
    expect(events.map((e) => e.event)).toContain('status');
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(done.data).toMatchObject({ id: job.id, status: 'COMPLETED', output: words });
    // Live, not all at the end: the first chunk came well before the job ended (9 words, 300 ms apart).
    const firstChunk = events.find((e) => e.event === 'chunk')!;
    expect(done.at - firstChunk.at).toBeGreaterThan(500);
  });

  it('gives a late client the chunks so far, then the live ones, and resumes after Last-Event-ID', async () => {
    const words = Array.from({ length: 12 }, (_v, i) => `w${i}`);
    const job = await submit(tokens.type, { text: words.join(' '), delayMs: 200 });
    await waitFor(
      () => poll(job.id, 0),
      (p) => p.chunks.length >= 3,
    );
    const late = await readSse(`${base}/v1/jobs/${job.id}/stream`);
    expect(chunksOf(late).map((c) => c.data)).toEqual(words);
    expect(late.at(-1)?.event).toBe('done');

    const resumed = await readSse(`${base}/v1/jobs/${job.id}/stream`, { 'last-event-id': '10' });
    expect(chunksOf(resumed)).toEqual([
      { seq: 11, attempt: 1, data: 'w10' },
      { seq: 12, attempt: 1, data: 'w11' },
    ]);
  });

  it('serves the same chunks as JSON polling with ?after', async () => {
    const job = await submit(tokens.type, { text: 'one two three four five', delayMs: 10 });
    const final = await waitFor(
      () => poll(job.id, 0),
      (p) => p.done,
    );
    expect(final.status).toBe('COMPLETED');
    expect(final.chunks.map((c) => c.data)).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(await poll(job.id, 3)).toEqual({
      chunks: [
        { seq: 4, attempt: 1, data: 'four' },
        { seq: 5, attempt: 1, data: 'five' },
      ],
      status: 'COMPLETED',
      done: true,
    });
    const missing = await stack.app.inject({ method: 'GET', url: `/v1/jobs/nope-${suffix}/stream?after=0` });
    expect(missing.statusCode).toBe(404);
    const missingSse = await fetch(`${base}/v1/jobs/nope-${suffix}/stream`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(missingSse.status).toBe(404);
    expect(await missingSse.json()).toMatchObject({ code: 'GPUFLOW_ERR_JOB_NOT_FOUND' });
  });

  it('batches a burst of chunks into few signals, in order, and outputs the return value', async () => {
    const job = await submit(burst.type, { count: 2000 });
    const done = await waitFor(
      () => stack.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}` }).then((r) => r.json<JobView>()),
      (v) => v.status === 'COMPLETED',
    );
    expect(done.output).toEqual({ yielded: 2000 });
    const { chunks } = await poll(job.id, 0);
    expect(chunks).toHaveLength(2000);
    expect(chunks.every((chunk, i) => chunk.seq === i + 1 && (chunk.data as { i: number }).i === i + 1)).toBe(true);
    let signals = 0;
    const history = await stack.client.workflow.getHandle(job.id).fetchHistory();
    for (const event of history.events ?? []) {
      if (event.workflowExecutionSignaledEventAttributes?.signalName === 'streamChunks') signals += 1;
    }
    expect(signals).toBeGreaterThanOrEqual(1);
    expect(signals).toBeLessThanOrEqual(5);
  });

  it('stops a cancelled stream: the generator’s finally runs and the SSE stream ends with done', async () => {
    const job = await submit(endless.type, {});
    const reading = readSse(`${base}/v1/jobs/${job.id}/stream`);
    await waitFor(
      () => poll(job.id, 0),
      (p) => p.chunks.length >= 3,
    );
    await stack.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel` });
    const events = await reading;
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'CANCELLED' } });
    expect(finallyRan.has(job.id)).toBe(true);
    const seqs = chunksOf(events).map((c) => c.seq);
    expect(seqs).toEqual(seqs.map((_s, i) => i + 1));
  });
});
