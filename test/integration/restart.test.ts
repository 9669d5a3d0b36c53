import { afterAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import echoJob from '../../examples/jobs/echo.js';
import { startStack, uniqueSuffix, waitFor, withSuffix, type TestStack } from '../support/stack.js';

/** Workers are disposable: state lives in Temporal, so a restart of every worker loses nothing. */
describe('restarting the workers', () => {
  const echo = withSuffix(echoJob, uniqueSuffix());
  const stacks: TestStack[] = [];
  afterAll(async () => {
    for (const stack of stacks) await stack.stop().catch(() => undefined);
  });

  const view = async (stack: TestStack, id: string) =>
    (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
  const submit = async (stack: TestStack, input: unknown) =>
    (await stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: echo.type, input } })).json<JobView>();

  it('keeps completed jobs readable and runs jobs submitted while no worker was up', async () => {
    const first = await startStack();
    stacks.push(first);
    await first.startJobWorker({ jobs: [echo] });
    const completed = await submit(first, { before: 'restart' });
    await waitFor(
      () => view(first, completed.id),
      (v) => v.status === 'COMPLETED',
    );
    await first.stop();

    // A fresh API and orchestrator but no job worker: a job submitted now only waits.
    const second = await startStack({ controlTaskQueue: first.controlTaskQueue });
    stacks.push(second);
    const waiting = await submit(second, { during: 'restart' });
    expect(waiting.status).toBe('IN_QUEUE');

    const readable = await view(second, completed.id);
    expect(readable).toMatchObject({ status: 'COMPLETED', output: { before: 'restart' }, attempt: 1 });

    await second.startJobWorker({ jobs: [echo] });
    const done = await waitFor(
      () => view(second, waiting.id),
      (v) => v.status === 'COMPLETED',
    );
    expect(done.output).toEqual({ during: 'restart' });
  });
});
