import { ApplicationFailure, Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobList, Stats } from '../../contracts/admin.js';
import { JobPolicySchema, type JobView, type StreamChunk } from '../../contracts/job.js';
import { JobReader } from '../../jobs/job-reader.js';
import { WorkerValues } from '../../jobs/worker-values.js';
import { EXECUTE_JOB_ACTIVITY } from '../../protocol/activity.js';
import { JobStatusKey, JobTypeKey } from '../../protocol/search-attributes.js';
import { jobTaskQueue } from '../../protocol/task-queues.js';
import { NAMESPACE, startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

const ARTIFACT = { name: 'kept.txt', size: 3, contentType: 'text/plain' };

/** A gate the test opens to let the hand-written worker go on to its next step. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/**
 * A worker written by hand, as a careless implementation in another language might be: it registers `executeJob`
 * on `jobs.<type>` and sends every value the protocol defines in a shape that does not fit.
 */
describe('values a worker produced in the wrong shape degrade the view, never a 500', () => {
  const suffix = uniqueSuffix();
  const type = `bad-${suffix}`;
  const gates = { second: gate(), finish: gate() };
  const warnings: { jobId: unknown; field: unknown }[] = [];
  let stack: TestStack;
  let worker: Worker;
  let running: Promise<void>;

  const get = async <T>(url: string): Promise<T> => {
    const res = await stack.app.inject({ method: 'GET', url });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<T>();
  };
  const view = (id: string) => get<JobView>(`/v1/jobs/${id}`);
  const submit = async (input: unknown): Promise<JobView> => {
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type, input, dedup: false, policy: { maxAttempts: 1 } },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<JobView>();
  };
  /** The raw first detail of the job's last heartbeat, as Temporal holds it. */
  const rawHeartbeat = async (id: string): Promise<unknown> => {
    const description = await stack.client.workflow.getHandle(id).describe();
    const payload = description.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
    return payload ? stack.client.options.loadedDataConverter.payloadConverter.fromPayload(payload) : undefined;
  };

  beforeAll(async () => {
    stack = await startStack();
    worker = await Worker.create({
      connection: stack.connection,
      namespace: NAMESPACE,
      taskQueue: jobTaskQueue(type),
      // Fresh heartbeats within a fraction of a second.
      maxHeartbeatThrottleInterval: '100ms',
      defaultHeartbeatThrottleInterval: '100ms',
      activities: {
        async [EXECUTE_JOB_ACTIVITY]({ input }: { input: { mode: string } }): Promise<unknown> {
          const context = Context.current();
          const execution = context.info.workflowExecution;
          if (!execution) throw new Error('an activity of a workflow has its execution');
          const job = stack.client.workflow.getHandle(execution.workflowId, execution.runId);
          if (input.mode === 'fail') {
            throw ApplicationFailure.create({
              type: 'HandWritten',
              message: 'failed with details of the wrong shape',
              nonRetryable: true,
              details: [{ artifacts: 'not a list' }, 42],
            });
          }
          await job.signal('attemptStarted', { attempt: 'first', workerId: 7 });
          await job.signal('streamChunks', { attempt: 'one', chunks: 'not a list' });
          await job.signal('streamChunks', { attempt: 1, chunks: ['kept'] });
          await job.signal('streamChunks', 'not even an object');
          // Progress with a percent as a string and a log that is a number; its artifacts fit.
          context.heartbeat({ progress: { percent: '40', message: 'working' }, log: 7, artifacts: [ARTIFACT] });
          await gates.second.wait;
          // Progress without a message, artifacts that are not a list.
          context.heartbeat({ progress: { percent: 50 }, log: [], artifacts: 'none' });
          await gates.finish.wait;
          // A result without its `artifacts`.
          return { output: { done: true } };
        },
      },
    });
    running = worker.run();
  });
  afterAll(async () => {
    gates.second.open();
    gates.finish.open();
    worker?.shutdown();
    await running;
    await stack?.stop();
  });

  it('shows a running job with bad heartbeats and signals, then its malformed end, on every route', async () => {
    const job = await submit({ mode: 'heartbeats' });
    // The first heartbeat: its progress is left out, its artifacts are listed.
    const first = await waitFor(
      () => view(job.id),
      (v) => v.artifacts.length === 1,
    );
    expect(first).toMatchObject({ status: 'IN_PROGRESS', progress: null, artifacts: [{ name: 'kept.txt', size: 3 }] });
    expect(first.attempt).toBe(1);
    // The listing, the counts and the stream answer too; the batches that do not fit are skipped.
    const list = await waitFor(
      () => get<JobList>('/v1/jobs?limit=50'),
      (page) => page.jobs.some((row) => row.id === job.id),
    );
    // Listings and counts read a running row's pending attempt too (no attempt-started signal since issue 13), so
    // the bad `attemptStarted` this worker sends changes nothing: the job is listed running.
    expect(list.jobs.find((row) => row.id === job.id)).toMatchObject({ type, status: 'IN_PROGRESS', progress: null });
    const stats = await get<Stats>('/v1/stats');
    expect(stats.byStatus).toMatchObject({ IN_QUEUE: 0, IN_PROGRESS: 1, COMPLETED: 0 });
    const polled = await get<{ chunks: StreamChunk[]; status: string }>(`/v1/jobs/${job.id}/stream?after=0`);
    expect(polled).toMatchObject({ chunks: [{ seq: 1, attempt: 1, data: 'kept' }], status: 'IN_PROGRESS' });

    gates.second.open();
    await waitFor(
      () => rawHeartbeat(job.id),
      (details) => (details as { artifacts?: unknown } | undefined)?.artifacts === 'none',
    );
    expect(await view(job.id)).toMatchObject({ status: 'IN_PROGRESS', progress: null, artifacts: [] });

    gates.finish.open();
    const failed = await waitFor(
      () => view(job.id),
      (v) => v.status === 'FAILED',
    );
    expect(failed.error).toMatchObject({ type: 'MalformedResult', retryable: false });
    const sse = await stack.app.inject({
      method: 'GET',
      url: `/v1/jobs/${job.id}/stream`,
      headers: { accept: 'text/event-stream' },
    });
    expect(sse.statusCode).toBe(200);
    expect(sse.body).toContain('event: chunk');
    expect(sse.body).toContain('event: done');

    // The webhook's body comes from the same read model, outside the API.
    const { runId } = await stack.client.workflow.getHandle(job.id).describe();
    const reader = new JobReader({ client: stack.client });
    expect(await reader.viewOfRun(job.id, runId)).toEqual({ ...failed, artifacts: [] });
  });

  it('shows a job failed with failure details of the wrong shape as FAILED with its error', async () => {
    const job = await submit({ mode: 'fail' });
    const failed = await waitFor(
      () => view(job.id),
      (v) => v.status === 'FAILED',
    );
    expect(failed).toMatchObject({
      artifacts: [],
      error: { type: 'HandWritten', message: 'failed with details of the wrong shape', retryable: false },
    });
  });

  it('reads a memo of the wrong shape field by field, and reports each bad field once', async () => {
    // A memo no gpuflow workflow writes, on a type no worker serves: the job stays queued.
    const jobId = `orphan-${suffix}-memo`;
    await stack.client.workflow.start('runJob', {
      workflowId: jobId,
      taskQueue: stack.controlTaskQueue,
      args: [{ jobId, type: `orphan-${suffix}`, input: null, policy: JobPolicySchema.parse({ maxAttempts: 1 }) }],
      memo: { attempt: 'two', workerId: 'w-1', artifacts: 'none', scheduledAt: 12 },
      typedSearchAttributes: [
        { key: JobTypeKey, value: `orphan-${suffix}` },
        { key: JobStatusKey, value: 'IN_QUEUE' },
      ],
    });
    const queued = await view(jobId);
    expect(queued).toMatchObject({ status: 'IN_QUEUE', attempt: 0, workerId: 'w-1', artifacts: [] });
    const list = await waitFor(
      () => get<JobList>('/v1/jobs?status=IN_QUEUE&limit=50'),
      (page) => page.jobs.some((row) => row.id === jobId),
    );
    expect(list.jobs.find((row) => row.id === jobId)).toMatchObject({ attempt: 0, workerId: 'w-1', artifacts: [] });

    const values = new WorkerValues((_message, facts) => warnings.push({ jobId: facts.jobId, field: facts.field }));
    const reader = new JobReader({ client: stack.client, values });
    await reader.current(jobId);
    await reader.current(jobId);
    const byField = (a: { field: unknown }, b: { field: unknown }) => String(a.field).localeCompare(String(b.field));
    expect(warnings.sort(byField)).toEqual([
      { jobId, field: 'memo.artifacts' },
      { jobId, field: 'memo.attempt' },
      { jobId, field: 'memo.scheduledAt' },
    ]);
    await stack.client.workflow.getHandle(jobId).terminate('test over');
  });
});
