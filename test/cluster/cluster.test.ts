import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { readSse } from '../support/sse.js';
import { startClusterStack, type ClusterStack } from './stack.js';

interface JobView {
  id: string;
  type: string;
  status: string;
  attempt: number;
  progress: { percent: number; message?: string } | null;
  output?: unknown;
  workerId: string | null;
  deduplicated?: boolean;
}

const TERMINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];

async function call(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as JobView & Record<string, unknown> };
}

const submit = (base: string, body: unknown) => call(base, 'POST', '/v1/jobs', body);
const view = async (base: string, id: string, waitMs?: number) =>
  (await call(base, 'GET', `/v1/jobs/${id}${waitMs ? `?wait=${waitMs}` : ''}`)).body;

/** Polls a job's view through `base` until `done` holds. */
async function until(base: string, id: string, done: (job: JobView) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last: JobView | undefined;
  while (Date.now() < deadline) {
    last = await view(base, id);
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`job ${id}: condition not met in ${timeoutMs} ms; last view ${JSON.stringify(last)}`);
}

/**
 * The core scenarios against a real Temporal cluster (temporal-server on PostgreSQL) with gpuflow as separate
 * processes: two API replicas, two job workers, one orchestrator. In order: the replica and the worker that are
 * killed stay dead for what follows.
 */
describe('gpuflow on a Temporal cluster', () => {
  let stack: ClusterStack;
  const run = randomUUID().slice(0, 8);

  beforeAll(async () => {
    stack = await startClusterStack(inject('clusterAddress'), inject('clusterNamespace'), inject('clusterDir'));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('runs a job submitted through replica A and read through replica B', async () => {
    const created = await submit(stack.apiA, { type: 'echo', input: { run, hello: 'cluster' } });
    expect(created.status).toBe(201);
    const done = await view(stack.apiB, created.body.id, 60_000);
    expect(done).toMatchObject({ id: created.body.id, status: 'COMPLETED', output: { run, hello: 'cluster' } });
    expect(['worker-1', 'worker-2']).toContain(done.workerId);
  });

  it('deduplicates a storm of identical submissions split over both replicas into one job', async () => {
    const body = { type: 'sleep', input: { seconds: 1 }, idempotencyKey: `storm-${run}` };
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_unused, i) => submit(i % 2 === 0 ? stack.apiA : stack.apiB, body)),
    );
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 200 && answer.body.deduplicated)).toHaveLength(19);
    const done = await view(stack.apiB, answers[0]!.body.id, 60_000);
    expect(done.status).toBe('COMPLETED');
    // After it completed, a resubmission through either replica is the cached result.
    const again = await submit(stack.apiA, body);
    expect(again).toMatchObject({ status: 200, body: { id: done.id, status: 'COMPLETED', deduplicated: true } });
  });

  it('shows the progress of a running job through the other replica', async () => {
    const created = await submit(stack.apiA, { type: 'sleep', input: { seconds: 4 }, dedup: false });
    const first = await until(stack.apiB, created.body.id, (job) => (job.progress?.percent ?? 0) > 0);
    expect(first.status).toBe('IN_PROGRESS');
    expect(first.progress?.message).toMatch(/^slept \d of 4 s$/);
    const later = await until(
      stack.apiA,
      created.body.id,
      (job) => (job.progress?.percent ?? 0) > first.progress!.percent || job.status === 'COMPLETED',
    );
    expect(later.status === 'COMPLETED' || later.progress!.percent > first.progress!.percent).toBe(true);
    expect(await view(stack.apiB, created.body.id, 60_000)).toMatchObject({
      status: 'COMPLETED',
      output: { slept: 4, resumedFrom: 0 },
    });
  });

  it('cancels a running job through the other replica', async () => {
    const created = await submit(stack.apiA, { type: 'sleep', input: { seconds: 120 }, dedup: false });
    await until(stack.apiB, created.body.id, (job) => job.status === 'IN_PROGRESS');
    const cancelled = await call(stack.apiB, 'POST', `/v1/jobs/${created.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    const started = Date.now();
    expect((await view(stack.apiA, created.body.id, 60_000)).status).toBe('CANCELLED');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('streams the chunks of a job submitted through the other replica, live and in order', async () => {
    const words = ['one', 'two', 'three', 'four', 'five'];
    const created = await submit(stack.apiA, { type: 'tokens', input: { text: words.join(' '), delayMs: 300 } });
    const events = await readSse(`${stack.apiB}/v1/jobs/${created.body.id}/stream`);
    const chunks = events.filter((event) => event.event === 'chunk').map((event) => event.data);
    expect(chunks).toEqual(words.map((word, i) => ({ seq: i + 1, attempt: 1, data: word })));
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'COMPLETED', output: words } });
  });

  it('loses nothing when replica A is SIGKILLed under load: clients fail over to B, every job completes once', async () => {
    const total = 60;
    const replicas = [stack.apiA, stack.apiB];
    let failovers = 0;
    /** A client with both replicas: a request that cannot reach one goes to the next, with the same body. */
    const submitWithFailover = async (body: unknown) => {
      for (let tries = 0; ; tries += 1) {
        try {
          return await submit(replicas[0]!, body);
        } catch (err) {
          if (tries > 20) throw err;
          if (replicas.length > 1 && replicas[0] === stack.apiA) replicas.shift();
          failovers += 1;
        }
      }
    };
    const inputs = Array.from({ length: total }, (_unused, n) => ({ run, n }));
    const ids: string[] = [];
    let next = 0;
    const client = async () => {
      while (next < inputs.length) {
        const input = inputs[next++]!;
        const answer = await submitWithFailover({ type: 'echo', input });
        expect([200, 201]).toContain(answer.status);
        ids.push(answer.body.id);
      }
    };
    const killed = (async () => {
      while (ids.length < total / 3) await new Promise((resolve) => setTimeout(resolve, 20));
      await stack.kill('api-a');
    })();
    await Promise.all([client(), client(), client(), client(), killed]);
    expect(stack.processes.get('api-a')!.child.signalCode).toBe('SIGKILL');
    expect(failovers).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(total);

    const views = await Promise.all(ids.map((id) => view(stack.apiB, id, 120_000)));
    expect(views.filter((job) => job.status === 'COMPLETED')).toHaveLength(total);
    expect(new Set(views.map((job) => JSON.stringify(job.output)))).toEqual(
      new Set(inputs.map((input) => JSON.stringify(input))),
    );
    // Counted on the cluster: exactly these jobs of this run, each completed once, none twice, none extra.
    const listed: JobView[] = [];
    let cursor: string | null = null;
    do {
      const page = (await call(stack.apiB, 'GET', `/v1/jobs?type=echo&limit=100${cursor ? `&cursor=${cursor}` : ''}`))
        .body as unknown as { jobs: JobView[]; nextCursor: string | null };
      listed.push(...page.jobs);
      cursor = page.nextCursor;
    } while (cursor);
    const ofThisScenario = listed.filter((job) => ids.includes(job.id));
    expect(ofThisScenario).toHaveLength(total);
    expect(ofThisScenario.every((job) => job.status === 'COMPLETED')).toBe(true);
  });

  it('finishes a job on the other worker when its worker is SIGKILLed mid-job', async () => {
    const created = await submit(stack.apiB, {
      type: 'sleep',
      input: { seconds: 6 },
      dedup: false,
      // A lost worker is noticed after the heartbeat timeout: short here, so the retry comes soon.
      policy: { heartbeatTimeoutMs: 3000 },
    });
    const running = await until(stack.apiB, created.body.id, (job) => (job.progress?.percent ?? 0) >= 30);
    const first = running.workerId!;
    expect(['worker-1', 'worker-2']).toContain(first);
    await stack.kill(first);
    const done = await until(stack.apiB, created.body.id, (job) => TERMINAL.includes(job.status), 120_000);
    expect(done).toMatchObject({
      status: 'COMPLETED',
      attempt: 2,
      workerId: first === 'worker-1' ? 'worker-2' : 'worker-1',
    });
    // The second attempt resumed from the checkpoint of the first.
    expect((done.output as { resumedFrom: number }).resumedFrom).toBeGreaterThan(0);
  });
});
