import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunJobInput } from '../../contracts/run-job.js';
import echoJob from '../../examples/jobs/echo.js';
import failJob from '../../examples/jobs/fail.js';
import sleepJob from '../../examples/jobs/sleep.js';
import tokensJob from '../../examples/jobs/tokens.js';
import { resolvePython } from '../../scripts/python-env.js';
import { defineJob } from '../../sdk/define-job.js';
import { startStack, uniqueSuffix, waitFor, withSuffix, type TestStack } from '../support/stack.js';

const run = promisify(execFile);
const DRIVER = fileURLToPath(new URL('./runpod-clients.py', import.meta.url));
const KEY = 'runpod-client-key-0123456789';

type Json = Record<string, unknown>;
const anyNumber = expect.any(Number) as unknown;
const anyString = expect.any(String) as unknown;

describe('RunPod clients against /runpod/v2', () => {
  const suffix = uniqueSuffix();
  const echo = withSuffix(echoJob, suffix);
  const tokens = withSuffix(tokensJob, suffix);
  const sleep = withSuffix(sleepJob, suffix);
  const fail = withSuffix(failJob, suffix);
  // What a native handler got: RunPod's s3Config travels inside the input, under `$runpod`.
  const inputs = defineJob({ type: `inputs-${suffix}`, input: z.json(), handler: (input) => ({ got: input }) });
  /** No worker serves it: its jobs stay queued. */
  const idle = `idle-${suffix}`;
  const endpoints = { echo: echo.type, tokens: tokens.type, sleep: sleep.type, idle, fail: fail.type };
  let stack: TestStack;
  let base: string;
  let python: string;
  let hooks: { url: string; seen: { headers: IncomingHttpHeaders; body: string }[]; server: Server };

  beforeAll(async () => {
    python = resolvePython();
    stack = await startStack({ apiKeys: [{ key: KEY, role: 'submit' }] });
    await stack.startJobWorker({ jobs: [echo, tokens, sleep, fail, inputs], capacity: 6 });
    base = `${await stack.app.listen({ port: 0, host: '127.0.0.1' })}/runpod/v2`;
    const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
    hooks = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, seen, server };
  });
  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolveClose) => hooks?.server.close(resolveClose));
  });

  const http = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}/${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const driver = async (scenario: 'sync' | 'async'): Promise<Json> => {
    const { stdout } = await run(python, [DRIVER, scenario, base, KEY, JSON.stringify(endpoints)], {
      timeout: 240_000,
      env: { ...process.env, RUNPOD_ENDPOINT_BASE_URL: base, HOME: process.env.HOME ?? '/tmp' },
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Json;
  };

  it('serves every route to runpod.Endpoint', { timeout: 300_000 }, async () => {
    const out = await driver('sync');
    expect(out.run).toMatchObject({ status: expect.stringMatching(/^(IN_QUEUE|IN_PROGRESS|COMPLETED)$/) as unknown });
    expect(out.output).toEqual({ message: 'hi' });
    expect(out.run_sync).toEqual({ message: 'sync' });
    expect(out.stream).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(out.stream_status).toBe('COMPLETED');
    // While running: integer ms, the worker, and the last progress as `output`.
    expect(out.in_progress).toMatchObject({
      status: 'IN_PROGRESS',
      delayTime: anyNumber,
      executionTime: anyNumber,
      workerId: anyString,
      output: { percent: anyNumber, message: expect.stringMatching(/^slept \d+ of 30 s$/) as unknown },
    });
    const running = out.in_progress as { delayTime: number; executionTime: number };
    expect(Number.isInteger(running.delayTime) && Number.isInteger(running.executionTime)).toBe(true);
    expect(out.cancelled_running).toBe('CANCELLED');
    expect(out.queued_status).toBe('IN_QUEUE');
    expect(out.cancel_queued).toMatchObject({ status: 'CANCELLED' });
    expect(out.cancelled_queued).toBe('CANCELLED');
    expect(out.purged).toBe(2);
    expect(out.purge_answer).toMatchObject({ status: 'completed' });
    expect(out.purged_status).toEqual(['CANCELLED', 'CANCELLED']);
    expect(out.health).toEqual({
      jobs: { completed: anyNumber, failed: 0, inProgress: 0, inQueue: 0, retried: 0 },
      workers: { idle: 1, running: 0, initializing: 0, ready: 1, throttled: 0, unhealthy: 0 },
    });
    expect((out.health as { jobs: { completed: number } }).jobs.completed).toBeGreaterThanOrEqual(2);
    expect(out.unknown).toMatchObject({ raised: 'HTTPError', message: expect.stringContaining('404') as unknown });
    expect(out.bad_key).toMatchObject({ raised: 'RuntimeError', message: expect.stringContaining('401') as unknown });
  });

  it('serves every route to runpod.AsyncioEndpoint', { timeout: 300_000 }, async () => {
    const out = await driver('async');
    expect(out.output).toEqual({ message: 'async' });
    expect(out.stream).toEqual(['alpha', 'beta', 'gamma']);
    expect(out.cancel_running).toMatchObject({ status: 'CANCELLED' });
    expect(out.queued_status).toBe('IN_QUEUE');
    expect(out.cancel_queued).toMatchObject({ status: 'CANCELLED' });
    expect(out.purged).toBe(1);
    expect(out.health).toMatchObject({ jobs: { completed: anyNumber }, workers: { idle: 1 } });
    // The async SDK checks no HTTP status: a 404's body has no "status".
    expect(out.unknown).toEqual({ raised: 'KeyError' });
  });

  it('answers runsync with the current status when the wait runs out, then the job completes', async () => {
    const started = Date.now();
    const sync = await http('POST', `${sleep.type}/runsync?wait=1000`, { input: { seconds: 4 } });
    expect(Date.now() - started).toBeLessThan(3500);
    expect(sync.status).toBe(200);
    expect(sync.body.status).toMatch(/^(IN_QUEUE|IN_PROGRESS)$/);
    const done = await http('GET', `${sleep.type}/status-sync/${String(sync.body.id)}?wait=30000`);
    expect(done.body).toEqual({
      id: sync.body.id,
      status: 'COMPLETED',
      delayTime: anyNumber,
      executionTime: anyNumber,
      workerId: anyString,
      output: { slept: 4, resumedFrom: 0 },
    });
    expect(done.body.executionTime).toBeGreaterThanOrEqual(3500);
    // A short job: runsync answers the final view at once.
    const quick = await http('POST', `${echo.type}/runsync`, { input: { n: 1 } });
    expect(quick.body).toMatchObject({ status: 'COMPLETED', output: { n: 1 } });
  });

  it('maps policy, s3Config and webhook, makes a new job per /run, and dedups only when asked', async () => {
    const s3Config = { accessId: 'a', accessSecret: 's', bucketName: 'b', endpointUrl: 'http://127.0.0.1:9' };
    const sent = await http('POST', `${inputs.type}/run`, {
      input: { prompt: 'p' },
      policy: { executionTimeout: 7000, ttl: 60_000, lowPriority: true },
      s3Config,
      webhook: hooks.url,
    });
    expect(sent).toEqual({ status: 200, body: { id: anyString, status: 'IN_QUEUE' } });
    const id = String(sent.body.id);
    const history = await stack.client.workflow.getHandle(id).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const args = stack.client.options.loadedDataConverter.payloadConverter.fromPayload<RunJobInput>(payload!);
    expect(args.policy).toMatchObject({ executionTimeoutMs: 7000, ttlMs: 60_000, priority: 5 });
    const done = await http('GET', `${inputs.type}/status-sync/${id}?wait=30000`);
    expect(done.body.output).toEqual({ got: { prompt: 'p', $runpod: { s3Config } } });
    const hook = await waitFor(
      async () => hooks.seen.find((delivery) => delivery.body.includes(id)),
      (found) => found !== undefined,
    );
    expect(hook!.headers['webhook-signature']).toMatch(/^v1,/);

    const twice = [
      await http('POST', `${echo.type}/run`, { input: 7 }),
      await http('POST', `${echo.type}/run`, { input: 7 }),
    ];
    expect(twice[0]!.body.id).not.toBe(twice[1]!.body.id);
    const optIn = { input: 8, gpuflow: { dedup: true } };
    const deduped = [await http('POST', `${echo.type}/run`, optIn), await http('POST', `${echo.type}/run`, optIn)];
    expect(deduped[0]!.body.id).toBe(deduped[1]!.body.id);
    const keyed = { 'idempotency-key': `k-${suffix}` };
    const byKey = [
      await http('POST', `${echo.type}/run`, { input: 1 }, keyed),
      await http('POST', `${echo.type}/run`, { input: 1, gpuflow: { idempotencyKey: `k-${suffix}` } }),
    ];
    expect(byKey[0]!.body.id).toBe(byKey[1]!.body.id);
    // A key reused with another input is refused, as on /v1.
    expect((await http('POST', `${echo.type}/run`, { input: 2 }, keyed)).status).toBe(409);
  });

  it('gives each stream chunk to one /stream call, across readers, then [] with the final status', async () => {
    const text = Array.from({ length: 12 }, (_, i) => `w${i}`).join(' ');
    const { body } = await http('POST', `${tokens.type}/run`, { input: { text, delayMs: 150 } });
    const reader = async () => {
      const got: unknown[] = [];
      for (;;) {
        const answer = await http('GET', `${tokens.type}/stream/${String(body.id)}`);
        expect(Array.isArray(answer.body.stream)).toBe(true);
        const stream = answer.body.stream as { output: unknown }[];
        got.push(...stream.map((chunk) => chunk.output));
        if (answer.body.status === 'COMPLETED' && stream.length === 0) return got;
      }
    };
    const [first, second] = await Promise.all([reader(), reader()]);
    expect([...first, ...second].sort()).toEqual(text.split(' ').sort());
    const after = await http('GET', `${tokens.type}/stream/${String(body.id)}`);
    expect(after.body).toEqual({ id: body.id, status: 'COMPLETED', stream: [] });
  });

  it('shows a failed job’s error as sent, and retries it', async () => {
    const { body } = await http('POST', `${fail.type}/run`, { input: { message: 'bad seed', retryable: false } });
    const failed = await http('GET', `${fail.type}/status-sync/${String(body.id)}?wait=30000`);
    expect(failed.body).toMatchObject({ status: 'FAILED', error: 'bad seed', workerId: anyString });
    const retried = await http('POST', `${fail.type}/retry/${String(body.id)}`);
    expect(retried).toEqual({
      status: 200,
      body: { id: body.id, status: expect.stringMatching(/^IN_(QUEUE|PROGRESS)$/) as unknown },
    });
    const again = await http('GET', `${fail.type}/status-sync/${String(body.id)}?wait=30000`);
    expect(again.body).toMatchObject({ status: 'FAILED', error: 'bad seed' });
    const health = await http('GET', `${fail.type}/health`);
    expect(health.body.jobs).toMatchObject({ failed: 1, retried: 1 });
    // A completed job is the result, not retryable.
    const ok = await http('POST', `${echo.type}/runsync`, { input: 'x' });
    expect((await http('POST', `${echo.type}/retry/${String(ok.body.id)}`)).status).toBe(409);
  });

  it('answers errors with RunPod’s codes: 401, 404, 400; accepts the raw key and empty JSON bodies', async () => {
    const noKey = await fetch(`${base}/${echo.type}/health`);
    expect(noKey.status).toBe(401);
    const raw = await fetch(`${base}/${echo.type}/health`, { headers: { authorization: KEY } });
    expect(raw.status).toBe(200);
    expect((await http('GET', `${echo.type}/status/${echo.type}-nope`)).status).toBe(404);
    // Another endpoint's job is not found here.
    const other = await http('POST', `${echo.type}/runsync`, { input: 'other' });
    expect((await http('GET', `${sleep.type}/status/${String(other.body.id)}`)).status).toBe(404);
    expect((await http('GET', `Not_A_Type/health`)).status).toBe(404);
    const noInput = await http('POST', `${echo.type}/run`, { webhook: hooks.url });
    expect(noInput.status).toBe(400);
    expect(noInput.body).toMatchObject({ statusCode: 400, message: expect.stringContaining('input') as unknown });
    const emptyBody = await fetch(`${base}/${idle}/purge-queue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    });
    expect(emptyBody.status).toBe(200);
    expect(await emptyBody.json()).toEqual({ removed: anyNumber, status: 'completed' });
  });
});
