import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import { JobLogLineSchema, jobLogKey } from '../../protocol/logs.js';
import { resolvePython } from '../../scripts/python-env.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

const SUBMIT_KEY = 'runpack-submit-key-0123456789';
const OTHER_SUBMIT_KEY = 'runpack-submit-key-other-0123';
const RUNNER_KEY = 'runpack-runner-key-0123456789';
const ADMIN_KEY = 'runpack-admin-key-01234567890';
/** Used by the 429 test alone: budgets are per key. */
const RATE_KEY = 'runpack-rate-key-012345678901';
const OTHER_TENANT_KEY = 'runpack-tenant-key-0123456789';
const RUNNER = fileURLToPath(new URL('../fixtures/runpack_runner.py', import.meta.url));
const THRESHOLD_MS = 3000;
const CLAIM_WINDOW_MS = 1500;

let stack: TestStack;
let base: string;
let python: string;
/** The first test's job, for the tenant check. */
let firstJobId = '';
const children = new Set<ChildProcess>();

beforeAll(async () => {
  python = resolvePython();
  stack = await startStack({
    apiKeys: [
      { key: SUBMIT_KEY, role: 'submit' },
      { key: OTHER_SUBMIT_KEY, role: 'submit' },
      { key: RUNNER_KEY, role: 'worker' },
      { key: ADMIN_KEY, role: 'admin' },
      { key: RATE_KEY, role: 'admin' },
      { key: OTHER_TENANT_KEY, role: 'submit', tenant: 'other' },
    ],
    gateway: { holdMs: 5000 },
    api: {
      runpack: {
        heartbeatThresholdMs: THRESHOLD_MS,
        claimWindowMs: CLAIM_WINDOW_MS,
        availableWaitMs: 1000,
        rateLimits: { check: { max: 3, windowMs: 60_000 } },
        maxInputBytes: 4096,
        maxOutputBytes: 65_536,
        maxConsoleBytes: 2048,
      },
    },
  });
  base = await stack.app.listen({ host: '127.0.0.1', port: 0 });
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await stack?.stop();
});

type Runner = ChildProcess & { events: Record<string, unknown>[] };

/** The seed-only runner (test/fixtures/runpack_runner.py, urllib only) as a process of its own. */
function startRunner(name: string, types: string[], env: Record<string, string> = {}): Runner {
  const child = spawn(python, [RUNNER], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      RUNPACK_URL: base,
      RUNNER_API_KEY: RUNNER_KEY,
      RUNNER_NAME: name,
      RUNNER_TYPES: types.join(','),
      ...env,
    },
  }) as Runner;
  child.events = [];
  let rest = '';
  child.stdout?.on('data', (data: Buffer) => {
    const lines = (rest + data.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line) child.events.push(JSON.parse(line) as Record<string, unknown>);
  });
  children.add(child);
  return child;
}

/** Any answer of the Runpack routes, read as loosely as a Runpack client reads it. */
interface Answer {
  [field: string]: unknown;
  job_id: string;
  job_type: string;
  status: string;
  code: string;
  message: string;
  runner_id: string;
  name: string;
  error_message: string;
  console_output: string;
  progress_current: number;
  output_data: unknown;
  id: string;
  jobs: Answer[];
  runners: Answer[];
}

async function api(method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : null) as Answer,
  };
}

const runpackJob = (id: string) => api('GET', `/api/jobs/${id}`, SUBMIT_KEY);
const gpuflowJob = async (id: string) => (await api('GET', `/v1/jobs/${id}`, SUBMIT_KEY)).body as unknown as JobView;

async function untilStatus(id: string, status: string, timeoutMs = 60_000): Promise<Answer> {
  return (
    await waitFor(
      () => runpackJob(id),
      (job) => job.body.status === status,
      timeoutMs,
    )
  ).body;
}

describe('Runpack face: clients and runners over HTTP', () => {
  it('check, submit, check: a runner registers, polls, claims, heartbeats with progress and console output, completes; a duplicate is the cached result', async () => {
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
    const type = `rp-native-${uniqueSuffix()}`;
    const submitted = await api('POST', '/v1/jobs', SUBMIT_KEY, { type, input: { from: 'v1' } });
    startRunner('runner-v1', [type.replaceAll('-', '_')], { RUNNER_STEPS: '1', RUNNER_STEP_MS: '50' });
    const done = await untilStatus(submitted.body.id, 'completed');
    expect(done.output_data).toEqual({ echo: { from: 'v1' }, runner: 'runner-v1' });
  }, 90_000);

  it('a runner SIGKILLed mid-job loses it after the threshold: the job goes to another runner, and a late report is refused', async () => {
    const type = `rp_kill_${uniqueSuffix()}`;
    const { job_id: id } = (
      await api('POST', '/api/jobs/submit', SUBMIT_KEY, { job_type: type, input_params: { k: 1 } })
    ).body;
    const doomed = startRunner('runner-doomed', [type], { RUNNER_STEPS: '100', RUNNER_STEP_MS: '300' });
    await waitFor(
      async () => doomed.events.some((event) => event.event === 'heartbeat'),
      (beating) => beating,
    );
    const claimedId = doomed.events.find((event) => event.event === 'claim')?.job_id as string;
    doomed.kill('SIGKILL');
    const killedAt = Date.now();
    const rescuer = startRunner('runner-rescuer', [type], { RUNNER_STEPS: '1', RUNNER_STEP_MS: '50' });
    const done = await untilStatus(id, 'completed');
    const rescuedAt = Date.now();
    expect(done).toMatchObject({ attempts: 2, output_data: { runner: 'runner-rescuer' } });
    expect(rescuedAt - killedAt).toBeGreaterThanOrEqual(THRESHOLD_MS);
    // The rescuer's job id is another attempt's: the killed runner's id names the attempt the gateway gave up on.
    const rescuedId = rescuer.events.find((event) => event.event === 'claim')?.job_id;
    expect(rescuedId).not.toBe(claimedId);
    const late = await api(
      'POST',
      `/api/runner/jobs/${claimedId}/complete`,
      RUNNER_KEY,
      { output_data: { late: true } },
      { 'x-runner-id': doomed.events[0]?.runner_id as string },
    );
    expect(late.status).toBe(409);
    expect((await runpackJob(id)).body.output_data).toEqual({ echo: { k: 1 }, runner: 'runner-rescuer' });
  }, 90_000);

  it('two runners race to claim one job: the first claim wins, the other gets 409 and the job runs once', async () => {
    const type = `rp_race_${uniqueSuffix()}`;
    const headers = async (name: string) => {
      const registered = await api('POST', '/api/runner/register', RUNNER_KEY, { name, capabilities: [type] });
      return { 'x-runner-id': registered.body.runner_id };
    };
    const [a, b] = [await headers('racer-a'), await headers('racer-b')];
    const { job_id: id } = (await api('POST', '/api/jobs/submit', SUBMIT_KEY, { job_type: type, input_params: {} }))
      .body;
    const available = (runner: Record<string, string>) =>
      api('GET', `/api/runner/jobs/available?types[]=${type}`, RUNNER_KEY, undefined, runner);
    const offered = await waitFor(
      () => available(a),
      (answer) => answer.body.jobs.length > 0,
    );
    const runnerJobId = offered.body.jobs[0]?.job_id ?? '';
    expect(offered.body.jobs[0]).toMatchObject({ job_type: type, status: 'pending', input_params: {} });
    // While the job is offered to A, B does not see it, and cannot claim it.
    expect((await available(b)).body.jobs).toEqual([]);
    const early = await api('POST', `/api/runner/jobs/${runnerJobId}/claim`, RUNNER_KEY, undefined, b);
    expect(early).toMatchObject({ status: 409, body: { code: 'GPUFLOW_ERR_NOT_YOUR_JOB' } });
    // A's offer lapses unclaimed: both claim at once, and exactly one of them gets it.
    await new Promise((resolve) => setTimeout(resolve, CLAIM_WINDOW_MS + 300));
    const claims = await Promise.all(
      [a, b].map((runner) => api('POST', `/api/runner/jobs/${runnerJobId}/claim`, RUNNER_KEY, undefined, runner)),
    );
    expect(claims.map((claim) => claim.status).sort()).toEqual([200, 409]);
    const winner = claims[0]?.status === 200 ? a : b;
    const loser = winner === a ? b : a;
    expect(claims.find((claim) => claim.status === 409)?.body.message).toMatch(/already claimed by another runner/);
    const beat = (runner: Record<string, string>) =>
      api('POST', `/api/runner/jobs/${runnerJobId}/heartbeat`, RUNNER_KEY, { progress_current: 1 }, runner);
    expect((await beat(loser)).status).toBe(409);
    expect((await beat(winner)).status).toBe(200);
    const complete = await api(
      'POST',
      `/api/runner/jobs/${runnerJobId}/complete`,
      RUNNER_KEY,
      { output_data: 1 },
      winner,
    );
    expect(complete.status).toBe(200);
    const view = await waitFor(
      () => gpuflowJob(id),
      (job) => job.status === 'COMPLETED',
    );
    expect(view).toMatchObject({ attempt: 1, output: 1, workerId: winner['x-runner-id'] });
  }, 90_000);

  it('each key reaches only its own routes', async () => {
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
    await waitFor(
      () => api('GET', '/api/admin/jobs?status=completed&limit=50', ADMIN_KEY),
      (answer) => answer.body.jobs.length >= 3,
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
      expect.arrayContaining(['runner-one', 'runner-err', 'runner-rescuer', 'racer-a']),
    );
    expect(runners.body.runners.find((runner: { name: string }) => runner.name === 'runner-one')).toMatchObject({
      capabilities: [expect.stringMatching(/^rp_echo_/)],
      current_jobs: 0,
    });
    const stats = await api('GET', '/api/admin/stats', ADMIN_KEY);
    const counts = stats.body as unknown as { jobs: Record<string, number>; runners: Record<string, number> };
    expect(counts.jobs.completed).toBeGreaterThanOrEqual(4);
    expect(counts.jobs.failed).toBeGreaterThanOrEqual(1);
    expect(counts.jobs.total).toBeGreaterThanOrEqual((counts.jobs.completed ?? 0) + (counts.jobs.failed ?? 0));
    expect(counts.runners.total).toBe(runners.body.runners.length);
  }, 60_000);
});
