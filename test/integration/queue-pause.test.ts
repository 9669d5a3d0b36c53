import { afterAll, describe, expect, it } from 'vitest';
import type { JobQueue, Queues } from '../../contracts/admin.js';
import type { JobView } from '../../contracts/job.js';
import echoJob from '../../examples/jobs/echo.js';
import { startStack, uniqueSuffix, waitFor, withSuffix, type TestStack } from '../support/stack.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Pause and resume a job type: kept by Temporal, so it holds across restarts of the API and the workers. */
describe('pausing a job type', () => {
  const echo = withSuffix(echoJob, uniqueSuffix());
  const stacks: TestStack[] = [];
  afterAll(async () => {
    for (const stack of stacks) await stack.stop().catch(() => undefined);
  });

  const view = async (stack: TestStack, id: string) =>
    (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();

  it('holds its jobs IN_QUEUE across a restart of the API and the worker, and runs them once resumed', async () => {
    const first = await startStack();
    stacks.push(first);
    await first.startJobWorker({ jobs: [echo] });

    const paused = await first.app.inject({
      method: 'POST',
      url: `/v1/queues/${echo.type}/pause`,
      payload: { reason: 'incident 42' },
    });
    expect(paused.statusCode).toBe(200);
    expect(paused.json<JobQueue>()).toMatchObject({ type: echo.type, paused: { reason: 'incident 42' } });

    const submitted = (
      await first.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: echo.type, input: { held: true } } })
    ).json<JobView>();
    // A worker polls the type all along, and still gets nothing.
    await sleep(4000);
    const held = await view(first, submitted.id);
    expect(held).toMatchObject({ status: 'IN_QUEUE', attempt: 0, queue: { paused: true } });
    expect(held.queue?.workers).toBeGreaterThan(0);
    await first.stop();

    // A fresh API, orchestrator and worker: nothing in memory says "paused", Temporal does.
    const second = await startStack({ controlTaskQueue: first.controlTaskQueue });
    stacks.push(second);
    await second.startJobWorker({ jobs: [echo] });
    await sleep(4000);
    expect(await view(second, submitted.id)).toMatchObject({ status: 'IN_QUEUE', queue: { paused: true } });
    const queues = (await second.app.inject({ method: 'GET', url: '/v1/queues' })).json<Queues>();
    expect(queues.queues.find((queue) => queue.type === echo.type)?.paused).toMatchObject({ reason: 'incident 42' });

    const resumed = await second.app.inject({ method: 'POST', url: `/v1/queues/${echo.type}/resume` });
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json<JobQueue>().paused).toBeNull();
    // A worker whose one slot already polls learns of it when its long poll is answered: measured ~30 s on 1.32.
    const done = await waitFor(
      () => view(second, submitted.id),
      (v) => v.status === 'COMPLETED',
      120_000,
    );
    expect(done.output).toEqual({ held: true });
  }, 240_000);

  it('is admin only and checks the type', async () => {
    const stack = await startStack({
      apiKeys: [
        { key: 'k-submit', role: 'submit' },
        { key: 'k-admin', role: 'admin' },
      ],
    });
    stacks.push(stack);
    const asSubmitter = await stack.app.inject({
      method: 'POST',
      url: `/v1/queues/${echo.type}/pause`,
      headers: { authorization: 'Bearer k-submit' },
    });
    expect(asSubmitter.statusCode).toBe(403);
    const badType = await stack.app.inject({
      method: 'POST',
      url: '/v1/queues/Not_A_Type/pause',
      headers: { authorization: 'Bearer k-admin' },
    });
    expect(badType.statusCode).toBe(400);
  });
});
