import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobLogLineSchema, jobLogKey } from '../../protocol/logs.js';
import { uniqueSuffix, waitFor } from '../support/stack.js';
import {
  ADMIN_KEY,
  OTHER_SUBMIT_KEY,
  OTHER_TENANT_KEY,
  RATE_KEY,
  RUNNER_KEY,
  SUBMIT_KEY,
  startRunpackStack,
  type Answer,
  type RunpackHarness,
} from '../support/runpack.js';

let harness: RunpackHarness;
/** The first test's job, for the tenant check. */
let firstJobId = '';

beforeAll(async () => {
  harness = await startRunpackStack();
}, 120_000);

afterAll(async () => {
  await harness?.stop();
});

describe('Runpack face: clients and runners over HTTP', () => {
  it('check, submit, check: a runner registers, polls, claims, heartbeats with progress and console output, completes; a duplicate is the cached result', async () => {
    const { stack, api, startRunner, runpackJob, gpuflowJob } = harness;
    const type = `rp_echo_${uniqueSuffix()}`;
    const request = { job_type: type, input_params: { text: 'hello', n: 1 } };
    expect((await api('POST', '/api/jobs/check', SUBMIT_KEY, request)).body).toEqual({ exists: false });
    const submitted = await api('POST', '/api/jobs/submit', SUBMIT_KEY, request);
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({ status: 'pending', job_type: type });
    const id = submitted.body.job_id;
    expect((await api('POST', '/api/jobs/check', SUBMIT_KEY, request)).body).toMatchObject({
      exists: true,
      job_id: id,
      status: 'pending',
    });

    const runner = startRunner('runner-one', [type], { RUNNER_STEPS: '3', RUNNER_STEP_MS: '600' });
    // What a client polling the job sees on its way: pending, then in_progress with the runner's progress.
    const seen: Answer[] = [];
    const done = (
      await waitFor(
        () => runpackJob(id),
        (job) => (seen.push(job.body), job.body.status === 'completed'),
        60_000,
      )
    ).body;
    expect(seen.map((job) => job.status)).toContain('in_progress');
    expect(seen.find((job) => job.status === 'in_progress' && job.progress_current >= 1)).toMatchObject({
      progress_total: 3,
      runner_id: runner.events[0]?.runner_id,
    });
    expect(done).toMatchObject({ attempts: 1, output_data: { echo: request.input_params, runner: 'runner-one' } });
    expect(done.console_output).toContain('runner-one: step 1/3 of ' + type);
    expect(done.console_output).toContain('runner-one: done');
    await waitFor(
      async () => runner.events.at(-1)?.event,
      (event) => event === 'exit',
    );
    const events = runner.events.map(
      (event) => `${event.event as string}:${(event.status as number | undefined) ?? ''}`,
    );
    expect(events).toEqual([
      'registered:201',
      'available:',
      'claim:200',
      'heartbeat:200',
      'heartbeat:200',
      'heartbeat:200',
      'complete:200',
      'exit:',
    ]);

    // The console output is the job's log, at the job-logs layout (logs/<jobId>/<attempt>.jsonl, one line each).
    const blob = await stack.blobs.get(jobLogKey(id, 1));
    const lines = Buffer.from(blob?.body ?? new Uint8Array())
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JobLogLineSchema.parse(JSON.parse(line)));
    expect(lines.map((line) => [line.attempt, line.line])).toEqual([
      [1, `runner-one: step 1/3 of ${type}`],
      [1, `runner-one: step 2/3 of ${type}`],
      [1, `runner-one: step 3/3 of ${type}`],
      [1, 'runner-one: done'],
    ]);
    firstJobId = id;

    // The same job on gpuflow's own faces.
    const view = await gpuflowJob(id);
    expect(view).toMatchObject({ status: 'COMPLETED', type: type.replaceAll('_', '-') });
    expect(view.workerId).toBe(runner.events[0]?.runner_id);
    const runpod = await api('GET', `/runpod/v2/${view.type}/status/${id}`, SUBMIT_KEY);
    expect(runpod.body).toMatchObject({ id, status: 'COMPLETED' });

    const duplicate = await api('POST', '/api/jobs/submit', SUBMIT_KEY, request);
    expect(duplicate.status).toBe(200);
    expect(duplicate.body).toMatchObject({
      job_id: id,
      status: 'completed',
      cached: true,
      output_data: done.output_data,
    });
  }, 90_000);

  it("a runner's error ends the job failed with its message, not retried; check says so", async () => {
    const { api, startRunner, gpuflowJob, untilStatus } = harness;
    const type = `rp_fail_${uniqueSuffix()}`;
    const request = { job_type: type, input_params: { bad: true } };
    const { job_id: id } = (await api('POST', '/api/jobs/submit', OTHER_SUBMIT_KEY, request)).body;
    startRunner('runner-err', [type], { RUNNER_MODE: 'error', RUNNER_STEPS: '1', RUNNER_STEP_MS: '50' });
    const failed = await untilStatus(id, 'failed');
    expect(failed).toMatchObject({ error_message: 'cannot do {"bad":true}', attempts: 1 });
    expect(failed.console_output).toContain('runner-err: giving up');
    const check = await api('POST', '/api/jobs/check', OTHER_SUBMIT_KEY, request);
    expect(check.body).toMatchObject({ exists: true, status: 'failed', error_message: 'cannot do {"bad":true}' });
    const view = await gpuflowJob(id);
    expect(view).toMatchObject({ status: 'FAILED', error: { type: 'RunpackRunnerError', retryable: false } });
  }, 90_000);

  it('a Runpack runner runs a job submitted through /v1/jobs', async () => {
    const { api, startRunner, untilStatus } = harness;
    const type = `rp-native-${uniqueSuffix()}`;
    const submitted = await api('POST', '/v1/jobs', SUBMIT_KEY, { type, input: { from: 'v1' } });
    startRunner('runner-v1', [type.replaceAll('-', '_')], { RUNNER_STEPS: '1', RUNNER_STEP_MS: '50' });
    const done = await untilStatus(submitted.body.id, 'completed');
    expect(done.output_data).toEqual({ echo: { from: 'v1' }, runner: 'runner-v1' });
  }, 90_000);

  it('each key reaches only its own routes', async () => {
    const { api } = harness;
    const job = { job_type: 'rp_keys', input_params: {} };
    const runnerHeaders = { 'x-runner-id': 'runner-keys' };
    const matrix: [string, string, unknown, Record<string, number>][] = [
      ['POST', '/api/jobs/check', job, { [SUBMIT_KEY]: 200, [RUNNER_KEY]: 403, [ADMIN_KEY]: 200 }],
      ['POST', '/api/runner/register', { name: 'k' }, { [SUBMIT_KEY]: 403, [RUNNER_KEY]: 201, [ADMIN_KEY]: 201 }],
      ['GET', '/api/runner/jobs/available?types[]=rp_keys', undefined, { [SUBMIT_KEY]: 403, [RUNNER_KEY]: 200 }],
      ['GET', '/api/admin/stats', undefined, { [SUBMIT_KEY]: 403, [RUNNER_KEY]: 200, [ADMIN_KEY]: 200 }],
      ['GET', '/api/admin/runners', undefined, { [SUBMIT_KEY]: 403, [RUNNER_KEY]: 200, [ADMIN_KEY]: 200 }],
    ];
    for (const [method, path, body, byKey] of matrix) {
      for (const [key, status] of Object.entries(byKey)) {
        expect([method, path, key, (await api(method, path, key, body, runnerHeaders)).status]).toEqual([
          method,
          path,
          key,
          status,
        ]);
      }
      expect((await api(method, path, 'not-a-key-at-all-0123', body, runnerHeaders)).status).toBe(401);
    }
    // Another tenant's job is a 404, as one that does not exist.
    expect((await api('GET', `/api/jobs/${firstJobId}`, OTHER_TENANT_KEY)).status).toBe(404);
    expect((await api('GET', `/api/jobs/${firstJobId}`, SUBMIT_KEY)).status).toBe(200);
  }, 60_000);

  it('answers 413 over a size limit and 429 with Retry-After over an operation budget', async () => {
    const { api } = harness;
    const big = await api('POST', '/api/jobs/submit', SUBMIT_KEY, {
      job_type: 'rp_big',
      input_params: { s: 'x'.repeat(5000) },
    });
    expect(big).toMatchObject({ status: 413, body: { code: 'GPUFLOW_ERR_FIELD_TOO_LARGE' } });
    expect(big.body.message).toMatch(/^input_params is \d+ bytes, over the limit of 4096 bytes$/);
    const console = await api(
      'POST',
      '/api/runner/jobs/x~AAAA/heartbeat',
      RUNNER_KEY,
      { console_output: 'y'.repeat(3000) },
      { 'x-runner-id': 'runner-big' },
    );
    expect(console).toMatchObject({ status: 413, body: { code: 'GPUFLOW_ERR_FIELD_TOO_LARGE' } });
    const key = RATE_KEY;
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push(await api('POST', '/api/jobs/check', key, { job_type: 'rp_rate', input_params: {} }));
    expect(statuses.map((answer) => answer.status)).toEqual([200, 200, 200, 429]);
    expect(statuses[3]?.body).toMatchObject({ code: 'GPUFLOW_ERR_RATE_LIMITED' });
    expect(Number(statuses[3]?.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another operation keeps its own budget.
    expect((await api('GET', '/api/admin/stats', key)).status).toBe(200);
  }, 60_000);

  it('lists jobs, runners and stats for the admin', async () => {
    const { api } = harness;
    await waitFor(
      () => api('GET', '/api/admin/jobs?status=completed&limit=50', ADMIN_KEY),
      (answer) => answer.body.jobs.length >= 2,
    );
    const completed = await api('GET', '/api/admin/jobs?status=completed&limit=50', ADMIN_KEY);
    expect(completed.body.jobs.every((job: { status: string }) => job.status === 'completed')).toBe(true);
    const failed = await api('GET', '/api/admin/jobs?status=failed', RUNNER_KEY);
    expect(failed.body.jobs.map((job: { error_message: string }) => job.error_message)).toContain(
      'cannot do {"bad":true}',
    );
    const limited = await api('GET', '/api/admin/jobs?limit=2', ADMIN_KEY);
    expect(limited.body.jobs).toHaveLength(2);
    const runners = await api('GET', '/api/admin/runners', ADMIN_KEY);
    expect(runners.body.runners.map((runner: { name: string }) => runner.name)).toEqual(
      expect.arrayContaining(['runner-one', 'runner-err', 'runner-v1']),
    );
    expect(runners.body.runners.find((runner: { name: string }) => runner.name === 'runner-one')).toMatchObject({
      capabilities: [expect.stringMatching(/^rp_echo_/)],
      current_jobs: 0,
    });
    const stats = await api('GET', '/api/admin/stats', ADMIN_KEY);
    const counts = stats.body as unknown as { jobs: Record<string, number>; runners: Record<string, number> };
    expect(counts.jobs.completed).toBeGreaterThanOrEqual(2);
    expect(counts.jobs.failed).toBeGreaterThanOrEqual(1);
    expect(counts.jobs.total).toBeGreaterThanOrEqual((counts.jobs.completed ?? 0) + (counts.jobs.failed ?? 0));
    expect(counts.runners.total).toBe(runners.body.runners.length);
  }, 60_000);
});
