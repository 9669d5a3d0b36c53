import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobView } from '../../contracts/job.js';
import { jobTypeCatalogId } from '../../contracts/job-types.js';
import { defineJob } from '../../sdk/define-job.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

/**
 * What the Temporal UI shows, read back through the Temporal API (`describe`, the history): each job's workflow
 * has a summary and Markdown details saying what it is, its attempt's activity a summary, and the job type catalog
 * says it is not a job.
 */
describe('Temporal UI summaries', () => {
  const suffix = uniqueSuffix();
  const type = `ui-echo-${suffix}`;
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack();
    await stack.startJobWorker({ jobs: [defineJob({ type, input: z.json(), handler: (input) => input })] });
  });
  afterAll(() => stack?.stop());

  it("gives a job's workflow a summary and details, and its attempt's activity a summary", async () => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type, input: { prompt: 'a cat on a mat', steps: 20 }, policy: { maxAttempts: 2, priority: 1 } },
    });
    expect(response.statusCode, response.body).toBe(201);
    const { id } = response.json<JobView>();
    const handle = stack.client.workflow.getHandle(id);
    await handle.result();
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe(`${type} job: {"prompt":"a cat on a mat","steps":20}`);
    const details = await description.staticDetails();
    expect(details).toContain(`**gpuflow job** \`${id}\``);
    expect(details).toContain(`- **Type**: \`${type}\` (task queue \`jobs.${type}\`)`);
    expect(details).toContain('- **Input**: `{"prompt":"a cat on a mat","steps":20}`');
    expect(details).toContain('- **Policy**: up to 2 attempts, 10 min per attempt, TTL 1 d, lease 30 s, priority 1');

    const converter = stack.client.options.loadedDataConverter.payloadConverter;
    const history = await handle.fetchHistory();
    const scheduled = history.events?.find((event) => event.activityTaskScheduledEventAttributes);
    const summary = scheduled?.userMetadata?.summary;
    expect(summary && converter.fromPayload(summary)).toBe(`${type} handler on jobs.${type} (up to 2 attempts)`);
  });

  it('says in the UI that the job type catalog is not a job', async () => {
    const handle = stack.client.workflow.getHandle(jobTypeCatalogId(stack.controlTaskQueue));
    // The worker started it in the background (signal-with-start): wait until it exists.
    const description = await waitFor(
      () => handle.describe().catch(() => undefined),
      (found) => found !== undefined,
      30_000,
    );
    if (!description) throw new Error('no job type catalog');
    expect(await description.staticSummary()).toBe(
      'gpuflow job type catalog: internal, not a job (lists the job types seen)',
    );
    expect(await description.staticDetails()).toContain('not a job');
  });
});
