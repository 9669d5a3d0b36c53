import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tokensJob from '../../examples/jobs/tokens.js';
import type { JobView } from '../../contracts/job.js';
import { readSse } from '../support/sse.js';
import { NAMESPACE, startStack, uniqueSuffix, withSuffix, type TestStack } from '../support/stack.js';

/** What a newcomer tripped on in a job's view and stream (issue 15's small items). */
describe("a job's view and stream, as a newcomer reads them", () => {
  const suffix = uniqueSuffix();
  const tokens = withSuffix(tokensJob, suffix);
  const ui = 'http://127.0.0.1:18233';
  let stack: TestStack;
  let base: string;

  beforeAll(async () => {
    stack = await startStack({ api: { temporalUiUrl: ui } });
    base = await stack.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => stack?.stop());

  const submit = async (type: string, input: unknown) => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type, input, dedup: false },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<JobView>();
  };

  it('counts the job just submitted in queue.backlogCount, and links to its page in the Temporal UI', async () => {
    const job = await submit(`no-worker-${suffix}`, { n: 1 });
    expect(job.status).toBe('IN_QUEUE');
    // Temporal's own figure is cached for seconds and reads 0 right after a submit: this job is waiting all the same.
    expect(job.queue).toEqual({ workers: 0, backlogCount: 1, paused: false });
    const { runId } = await stack.client.workflow.getHandle(job.id).describe();
    expect(job.temporalUiUrl).toBe(`${ui}/namespaces/${NAMESPACE}/workflows/${job.id}/${runId}/history`);
    await stack.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel` });
  });

  it('sends the IN_PROGRESS status event before the first chunk over SSE', async () => {
    // Queued until a worker starts: the stream opens on IN_QUEUE, then chunks come fast (no delay between words).
    const job = await submit(tokens.type, { text: 'one two three four five six', delayMs: 0 });
    const events = readSse(`${base}/v1/jobs/${job.id}/stream`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    await stack.startJobWorker({ jobs: [tokens] });
    const received = await events;
    const order = received.filter((e) => e.event !== 'progress').map((e) => [e.event, (e.data as JobView).status]);
    expect(order[0]).toEqual(['status', 'IN_QUEUE']);
    const firstChunk = order.findIndex(([event]) => event === 'chunk');
    expect(firstChunk).toBeGreaterThan(0);
    expect(order.slice(1, firstChunk)).toContainEqual(['status', 'IN_PROGRESS']);
    expect(received.filter((e) => e.event === 'chunk')).toHaveLength(6);
  });
});
