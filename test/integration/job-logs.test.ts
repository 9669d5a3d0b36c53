import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobLogsResponse } from '../../contracts/job-logs.js';
import type { JobView } from '../../contracts/job.js';
import { defineJob } from '../../sdk/define-job.js';
import { runGpuflow } from '../support/processes.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

/** `ctx.log` lines kept in the blob store per attempt, served by `GET /v1/jobs/:id/logs` and `gpuflow logs`. */
describe('job logs', () => {
  const suffix = uniqueSuffix();
  const flaky = defineJob({
    type: `flaky-${suffix}`,
    input: z.object({ tag: z.string() }),
    handler: ({ tag }, ctx) => {
      ctx.log(`starting ${tag} attempt ${ctx.attempt}`);
      if (ctx.attempt === 1) throw new RangeError(`the first attempt of ${tag} always breaks`);
      ctx.log('second time lucky');
      return { tag };
    },
  });
  const ticker = defineJob({
    type: `ticker-${suffix}`,
    input: z.object({ ticks: z.number().int(), everyMs: z.number().int() }),
    handler: async ({ ticks, everyMs }, ctx) => {
      for (let i = 1; i <= ticks; i += 1) {
        ctx.log(`tick ${i}`);
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
      return { ticks };
    },
  });
  const chatty = defineJob({
    type: `chatty-${suffix}`,
    input: z.object({ lines: z.number().int() }),
    handler: ({ lines }, ctx) => {
      for (let i = 0; i < lines; i += 1) ctx.log(`chatty line ${i} ${'x'.repeat(40)}`);
      return { lines };
    },
  });
  let stack: TestStack;
  let apiUrl: string;

  beforeAll(async () => {
    stack = await startStack();
    await stack.startJobWorker({ jobs: [flaky, ticker], capacity: 4, print: () => undefined });
    await stack.startJobWorker({ jobs: [chatty], maxJobLogBytes: 8 * 1024, print: () => undefined });
    apiUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  }, 60_000);
  afterAll(async () => stack?.stop());

  const submit = async (type: string, input: unknown, policy: object = {}) => {
    const res = await stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type, input, policy } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<JobView>().id;
  };
  const ended = (id: string) =>
    waitFor(
      async () => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>(),
      (view) => !['IN_QUEUE', 'IN_PROGRESS'].includes(view.status),
      60_000,
    );
  const logs = async (id: string, after = 0) => {
    const res = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}/logs?after=${after}` });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<JobLogsResponse>();
  };

  it('keeps every attempt’s lines after the job ended, the failed one’s error and stack among them', async () => {
    const id = await submit(flaky.type, { tag: 'a' });
    expect((await ended(id)).status).toBe('COMPLETED');
    const page = await logs(id);
    expect(page.done).toBe(true);
    expect(page.next).toBe(page.lines.length);
    const texts = page.lines.map(({ attempt, line }) => `${attempt} ${line}`);
    expect(texts[0]).toBe('1 starting a attempt 1');
    expect(texts[1]).toBe('1 attempt failed: RangeError: the first attempt of a always breaks');
    // The stack trace goes to the job's log, one frame per line, naming the handler's file.
    const frames = page.lines.filter(({ attempt, line }) => attempt === 1 && /^\s+at /.test(line));
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.some(({ line }) => line.includes('job-logs.test.ts'))).toBe(true);
    expect(texts.slice(-2)).toEqual(['2 starting a attempt 2', '2 second time lucky']);
    for (const { at } of page.lines) expect(at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const rest = await logs(id, page.lines.length - 1);
    expect(rest).toEqual({ lines: [page.lines.at(-1)], next: page.lines.length, done: true });
    expect(await logs(id, page.lines.length + 5)).toEqual({ lines: [], next: page.lines.length + 5, done: true });
  });

  it('answers 404 for an unknown job and 400 for a bad after', async () => {
    const missing = await stack.app.inject({ method: 'GET', url: `/v1/jobs/flaky-nope-${suffix}/logs` });
    expect(missing.statusCode).toBe(404);
    const id = await submit(flaky.type, { tag: 'b' });
    const bad = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}/logs?after=-1` });
    expect(bad.statusCode).toBe(400);
  });

  it('gpuflow logs --follow prints a running job’s lines as they come, and exits when it ends', async () => {
    const id = await submit(ticker.type, { ticks: 16, everyMs: 500 });
    const follow = runGpuflow(['logs', id, '--follow'], { GPUFLOW_API_URL: apiUrl });
    await follow.waitForLine(/\[attempt 1\] tick 2$/, 30_000);
    // Still running while the first lines are already on the screen.
    const midway = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` });
    expect(midway.json<JobView>().status).toBe('IN_PROGRESS');
    expect(await follow.exited).toBe(0);
    const printed = follow.output.filter((line) => line.includes('tick'));
    expect(printed).toHaveLength(16);
    printed.forEach((line, index) =>
      expect(line).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\[attempt 1\\] tick ${index + 1}$`)),
    );
    // Without --follow: what is there now, once.
    const once = runGpuflow(['logs', id], { GPUFLOW_API_URL: apiUrl });
    expect(await once.exited).toBe(0);
    expect(once.output.filter((line) => line.includes('tick'))).toHaveLength(16);
  }, 60_000);

  it('bounds an attempt’s log: the first and the newest lines, and how many were dropped between them', async () => {
    const id = await submit(chatty.type, { lines: 5000 });
    expect((await ended(id)).status).toBe('COMPLETED');
    const texts = (await logs(id)).lines.map(({ line }) => line);
    expect(texts[0]).toMatch(/^chatty line 0 /);
    expect(texts.at(-1)).toMatch(/^chatty line 4999 /);
    const marker = texts.find((line) => line.includes('lines dropped'));
    expect(marker).toMatch(/^… \d+ lines dropped \(log over 8192 bytes\)$/);
    expect(texts.length).toBeLessThan(200);
    const blob = await stack.blobs.stat(`logs/${id}/1.jsonl`);
    expect(blob?.size).toBeLessThanOrEqual(8192);
  });
});
