import type { HTTPMethods, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobList, Stats } from '../../contracts/admin.js';
import { jobIdFor } from '../../contracts/ids.js';
import type { JobView } from '../../contracts/job.js';
import echoJob from '../../examples/jobs/echo.js';
import { startStack, uniqueSuffix, waitFor, withSuffix, type TestStack } from '../support/stack.js';

const KEYS = {
  acme: 'acme-key-0123456789abcdef',
  globex: 'globex-key-0123456789abcdef',
  plain: 'plain-key-0123456789abcdef',
  admin: 'admin-key-0123456789abcdef',
  capped: 'capped-key-0123456789abcdef',
  limited: 'limited-key-0123456789abcdef',
  burst: 'burst-key-0123456789abcdef',
} as const;
type Caller = keyof typeof KEYS | 'none';

/**
 * A request path for a route pattern with the job in `:id` (and its type as RunPod's `:endpoint`):
 * `/v1/jobs/:id/artifacts/:name` → `/v1/jobs/<id>/artifacts/x`.
 */
const pathOf = (url: string, job: { id: string; type: string }): string =>
  url
    .replace(':id', job.id)
    .replace(':endpoint', job.type)
    .replace(/:[^/]+/g, 'x');

/** The answer with the job id taken out: what a caller could tell two answers apart by. */
const shapeOf = (res: LightMyRequestResponse, jobId: string) => ({
  statusCode: res.statusCode,
  body: res.body.replaceAll(jobId, '<id>'),
});

describe('tenants, rate limits and in-flight caps on a real Temporal server', () => {
  const suffix = uniqueSuffix();
  const echo = withSuffix(echoJob, suffix);
  // No worker serves this type: its jobs stay in flight until cancelled.
  const orphan = `orphan-${suffix}`;
  const jobRoutes: { method: HTTPMethods; url: string }[] = [];
  let stack: TestStack;
  let acmeJob: JobView;

  const request = (caller: Caller, method: HTTPMethods, url: string, payload?: object) =>
    stack.app.inject({
      method,
      url,
      ...(payload ? { payload } : {}),
      headers: caller === 'none' ? {} : { authorization: `Bearer ${KEYS[caller]}` },
    });
  const submit = (caller: Caller, type: string, input: unknown, extra: object = {}) =>
    request(caller, 'POST', '/v1/jobs', { type, input, ...extra });

  beforeAll(async () => {
    stack = await startStack({
      apiKeys: [
        { key: KEYS.acme, role: 'submit', tenant: 'acme' },
        { key: KEYS.globex, role: 'submit', tenant: 'globex' },
        { key: KEYS.plain, role: 'submit' },
        { key: KEYS.admin, role: 'admin' },
        { key: KEYS.capped, role: 'submit', tenant: 'capped' },
        { key: KEYS.limited, role: 'submit', tenant: 'limited' },
        { key: KEYS.burst, role: 'submit', tenant: 'burst' },
      ],
      api: {
        rateLimits: { byRole: {}, byTenant: { limited: { max: 3, windowMs: 60_000 } } },
        maxJobsInFlight: { capped: 2, burst: 3 },
        inFlightCacheMs: 300,
        onRoute: (route) => {
          // Every route that names a job, whichever face registered it (the RunPod routes too, once mounted).
          if (!/\/:id(\/|$)/.test(route.url)) return;
          for (const method of [route.method].flat()) if (method !== 'HEAD') jobRoutes.push({ method, url: route.url });
        },
      },
    });
    await stack.startJobWorker({ jobs: [echo], capacity: 4 });
    const res = await submit('acme', echo.type, { secret: suffix }, {});
    expect(res.statusCode, res.body).toBe(201);
    acmeJob = res.json<JobView>();
    await waitFor(
      async () => (await request('acme', 'GET', `/v1/jobs/${acmeJob.id}`)).json<JobView>(),
      (view) => view.status === 'COMPLETED',
    );
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('finds the job routes to check from the routes registered', () => {
    const urls = jobRoutes.map((route) => `${route.method} ${route.url}`);
    expect(urls).toEqual(
      expect.arrayContaining([
        'GET /v1/jobs/:id',
        'POST /v1/jobs/:id/cancel',
        'POST /v1/jobs/:id/retry',
        'GET /v1/jobs/:id/stream',
        'GET /v1/jobs/:id/artifacts/:name',
        'GET /v1/jobs/:id/logs',
        'GET /runpod/v2/:endpoint/status/:id',
        'GET /runpod/v2/:endpoint/status-sync/:id',
        'GET /runpod/v2/:endpoint/stream/:id',
        'POST /runpod/v2/:endpoint/cancel/:id',
        'POST /runpod/v2/:endpoint/retry/:id',
      ]),
    );
  });

  it('answers every job route × own tenant, other tenant, admin, no key', async () => {
    const missing = `${echo.type}-${'0'.repeat(32)}`;
    const problems: string[] = [];
    for (const { method, url } of jobRoutes) {
      const path = pathOf(url, acmeJob);
      const own = await request('acme', method, path);
      const admin = await request('admin', method, path);
      const anonymous = await request('none', method, path);
      const absent = await request('globex', method, pathOf(url, { id: missing, type: echo.type }));
      const label = `${method} ${url}`;
      // Own tenant and admin reach the job: whatever the route answers, it is not "no such job".
      for (const [who, res] of [
        ['own', own],
        ['admin', admin],
      ] as const) {
        if (res.statusCode >= 500 || res.body.includes('GPUFLOW_ERR_JOB_NOT_FOUND')) {
          problems.push(`${label} ${who}: ${res.statusCode} ${res.body}`);
        }
      }
      expect(admin.statusCode, label).toBe(own.statusCode);
      expect(anonymous.statusCode, label).toBe(401);
      // Another tenant, and the default tenant, cannot tell the job from one that does not exist.
      for (const caller of ['globex', 'plain'] as const) {
        const other = await request(caller, method, path);
        expect(other.statusCode, `${label} ${caller}`).toBe(404);
        expect(shapeOf(other, acmeJob.id), `${label} ${caller}`).toEqual(shapeOf(absent, missing));
      }
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('keeps tenants apart in dedup, and the default tenant keeps the ids it always had', async () => {
    const input = { shared: suffix };
    const acme = await submit('acme', echo.type, input);
    const globex = await submit('globex', echo.type, input);
    const plain = await submit('plain', echo.type, input);
    expect([acme.statusCode, globex.statusCode, plain.statusCode]).toEqual([201, 201, 201]);
    const ids = [acme, globex, plain].map((res) => res.json<JobView>().id);
    expect(new Set(ids).size).toBe(3);
    // The default tenant hashes {type, input} as before tenants existed.
    expect(ids[2]).toBe(jobIdFor({ type: echo.type, input, dedup: true }));
    expect((await submit('acme', echo.type, input)).json()).toMatchObject({ id: ids[0], deduplicated: true });
    // Idempotency keys are per tenant too.
    const keyed = { idempotencyKey: `k-${suffix}` };
    const first = await submit('acme', echo.type, { n: 1 }, keyed);
    const second = await submit('globex', echo.type, { n: 2 }, keyed);
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(first.json<JobView>().id).not.toBe(second.json<JobView>().id);
    // `check` looks in the caller's tenant only.
    const check = await request('globex', 'POST', '/v1/jobs/check', { type: echo.type, input: { secret: suffix } });
    expect(check.json()).toEqual({ exists: false });
    const own = await request('acme', 'POST', '/v1/jobs/check', { type: echo.type, input: { secret: suffix } });
    expect(own.json()).toMatchObject({ exists: true, id: acmeJob.id });
  });

  it('lists and counts a tenant’s own jobs; an admin sees every tenant’s, or one', async () => {
    const listed = async (caller: Caller, query = '') => {
      const res = await request(caller, 'GET', `/v1/jobs?type=${echo.type}&limit=100${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json<JobList>().jobs.map((job) => job.id);
    };
    const mine = await waitFor(
      () => listed('acme'),
      (ids) => ids.includes(acmeJob.id) && ids.length === 3,
    );
    const theirs = await waitFor(
      () => listed('globex'),
      (ids) => ids.length === 2,
    );
    expect(theirs.some((id) => mine.includes(id))).toBe(false);
    const all = await waitFor(
      () => listed('admin'),
      (ids) => ids.length === 6,
    );
    expect(all).toEqual(expect.arrayContaining([...mine, ...theirs]));
    expect(new Set(await listed('admin', '&tenant=acme'))).toEqual(new Set(mine));
    // A submit key's `tenant` parameter does not widen what it sees.
    expect(new Set(await listed('globex', '&tenant=acme'))).toEqual(new Set(theirs));
    const totalOf = (stats: Stats): number =>
      Object.values(stats.byType[echo.type] ?? {}).reduce((sum, count) => sum + count, 0);
    const stats = await waitFor(
      async () => (await request('globex', 'GET', '/v1/stats')).json<Stats>(),
      (counts) => totalOf(counts) === 2,
    );
    expect(totalOf(stats)).toBe(2);
  });

  it('scopes the RunPod routes: runs in the caller’s tenant, health counts its jobs only', async () => {
    const run = await request('globex', 'POST', `/runpod/v2/${echo.type}/run`, { input: { runpod: suffix } });
    expect(run.statusCode, run.body).toBe(200);
    const { id } = run.json<{ id: string }>();
    expect((await request('acme', 'GET', `/runpod/v2/${echo.type}/status/${id}`)).statusCode).toBe(404);
    expect((await request('globex', 'GET', `/v1/jobs/${id}`)).statusCode).toBe(200);
    type Health = { jobs: { completed: number; failed: number; inProgress: number; inQueue: number } };
    const jobsOf = async (caller: Caller): Promise<number> => {
      const { jobs } = (await request(caller, 'GET', `/runpod/v2/${echo.type}/health`)).json<Health>();
      return jobs.completed + jobs.failed + jobs.inProgress + jobs.inQueue;
    };
    // globex: the two jobs of the dedup test and this one; the default tenant: its one job of the dedup test.
    await waitFor(
      () => jobsOf('globex'),
      (count) => count === 3,
    );
    expect(await jobsOf('plain')).toBe(1);
    await request('admin', 'POST', `/v1/jobs/${id}/cancel`);
  });

  it('refuses a submission over the tenant’s cap on jobs in flight with a clear 429', async () => {
    const started: string[] = [];
    for (const n of [1, 2]) {
      const res = await submit('capped', orphan, { n });
      expect(res.statusCode, res.body).toBe(201);
      started.push(res.json<JobView>().id);
    }
    const over = await submit('capped', orphan, { n: 3 });
    expect(over.statusCode).toBe(429);
    expect(over.json()).toEqual({
      statusCode: 429,
      code: 'GPUFLOW_ERR_TOO_MANY_JOBS',
      error: 'Too Many Requests',
      message: 'tenant "capped" may have at most 2 jobs queued or running at once and has 2: wait for some to end',
    });
    // A resubmission of a job in flight is that job, not a new one: no cap applies.
    expect((await submit('capped', orphan, { n: 1 })).statusCode).toBe(200);
    // Other tenants are not held back.
    expect((await submit('acme', orphan, { n: 3 })).statusCode).toBe(201);
    // Once one ends, visibility says so within a moment and the next submission goes through.
    expect((await request('capped', 'POST', `/v1/jobs/${started[0]}/cancel`)).statusCode).toBe(200);
    const admitted = await waitFor(
      () => submit('capped', orphan, { n: 3 }),
      (res) => res.statusCode !== 429,
      15_000,
    );
    expect(admitted.statusCode).toBe(201);
    for (const id of [started[1], admitted.json<JobView>().id]) {
      await request('admin', 'POST', `/v1/jobs/${id}/cancel`);
    }
  }, 60_000);

  it('admits exactly the cap from a burst of concurrent submissions to one replica', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, n) => submit('burst', orphan, { n }, { dedup: false })),
    );
    const codes = answers.map((res) => res.statusCode).sort();
    expect(codes).toEqual([201, 201, 201, 429, 429, 429, 429, 429]);
    for (const res of answers.filter((answer) => answer.statusCode === 201)) {
      await request('admin', 'POST', `/v1/jobs/${res.json<JobView>().id}/cancel`);
    }
  }, 60_000);

  it('rate-limits a key by its tenant’s budget: a 429 with Retry-After and GPUFLOW_ERR_RATE_LIMITED', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await request('limited', 'GET', `/v1/jobs/${acmeJob.id}`));
    expect(answers.slice(0, 3).map((res) => res.statusCode)).toEqual([404, 404, 404]);
    const limited = answers[3]!;
    expect(limited.statusCode).toBe(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.json()).toEqual({
      statusCode: 429,
      code: 'GPUFLOW_ERR_RATE_LIMITED',
      error: 'Too Many Requests',
      message: `rate limited: at most 3 requests per 1 min for this key; retry in ${retryAfter} s`,
    });
    // The RunPod routes answer RunPod's shape.
    const runpod = await request('limited', 'GET', `/runpod/v2/${echo.type}/status/${acmeJob.id}`);
    expect(runpod.statusCode).toBe(429);
    expect(Number(runpod.headers['retry-after'])).toBeGreaterThan(0);
    expect(Object.keys(runpod.json<object>())).toEqual(['error']);
    expect(runpod.json<{ error: string }>().error).toMatch(/^rate limited: at most 3 requests per 1 min/);
    // Keys without a budget, and other keys, go on.
    expect((await request('acme', 'GET', `/v1/jobs/${acmeJob.id}`)).statusCode).toBe(200);
  });
});
