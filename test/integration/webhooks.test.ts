import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookActivities } from '../../activities/deliver-webhook.js';
import { buildApp } from '../../api/app.js';
import { JobReader } from '../../jobs/job-reader.js';
import type { JobView } from '../../contracts/job.js';
import { webhookWorkflowId, type WebhookDeliveryResult } from '../../contracts/webhook.js';
import echoJob from '../../examples/jobs/echo.js';
import failJob from '../../examples/jobs/fail.js';
import sleepJob from '../../examples/jobs/sleep.js';
import {
  NAMESPACE,
  TEST_WEBHOOK_SECRET,
  startStack,
  uniqueSuffix,
  waitFor,
  withSuffix,
  type TestStack,
} from '../support/stack.js';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
}

/**
 * A webhook receiver on 127.0.0.1: records every request by path, and answers each path with the statuses queued
 * for it (then 200).
 */
async function startReceiver() {
  const deliveries = new Map<string, Delivery[]>();
  const answers = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const status = answers.get(path)?.shift() ?? 200;
      const seen = deliveries.get(path) ?? [];
      seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      deliveries.set(path, seen);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    answer: (path: string, statuses: number[]) => answers.set(path, statuses),
    deliveries: (path: string) => deliveries.get(path) ?? [],
    waitFor: (path: string, count: number, timeoutMs = 30_000) =>
      waitFor(
        async () => deliveries.get(path) ?? [],
        (seen) => seen.length >= count,
        timeoutMs,
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The payload of a delivery, verified with the receiver's side of Standard Webhooks (throws when it does not verify). */
function verified(delivery: Delivery): JobView {
  const headers = {
    'webhook-id': String(delivery.headers['webhook-id']),
    'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
    'webhook-signature': String(delivery.headers['webhook-signature']),
  };
  return new Webhook(TEST_WEBHOOK_SECRET).verify(delivery.body, headers) as JobView;
}

describe('webhooks', () => {
  const suffix = uniqueSuffix();
  const echo = withSuffix(echoJob, suffix);
  const fail = withSuffix(failJob, suffix);
  const sleep = withSuffix(sleepJob, suffix);
  let stack: TestStack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    stack = await startStack();
    await stack.startJobWorker({ jobs: [echo, fail, sleep], capacity: 4 });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const submit = (body: object) =>
    stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: { dedup: false, ...body } });
  const view = async (id: string) => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
  const runIdOf = async (id: string) => (await stack.client.workflow.getHandle(id).describe()).runId;

  it('POSTs the view of a COMPLETED job, signed per Standard Webhooks', async () => {
    const path = `/completed-${suffix}`;
    const submitted = await submit({ type: echo.type, input: { hello: 'webhook' }, webhook: receiver.url(path) });
    expect(submitted.statusCode).toBe(201);
    const job = submitted.json<JobView>();
    const [delivery] = await receiver.waitFor(path, 1);

    const payload = verified(delivery!);
    expect(payload).toMatchObject({ id: job.id, status: 'COMPLETED', output: { hello: 'webhook' }, attempt: 1 });
    // The same document GET /v1/jobs/:id answers.
    expect(payload).toEqual(await view(job.id));
    expect(delivery!.headers['content-type']).toBe('application/json');
    expect(delivery!.headers['webhook-id']).toBe(`${job.id}.${await runIdOf(job.id)}`);
    expect(Number(delivery!.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -2);
    expect(delivery!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // A signature that does not match the body is refused: the check above could fail.
    expect(() => verified({ ...delivery!, body: delivery!.body.replace('webhook', 'forged') })).toThrow();
    expect(receiver.deliveries(path)).toHaveLength(1);
  });

  it('delivers a FAILED job with its error, and a CANCELLED job', async () => {
    const failedPath = `/failed-${suffix}`;
    const failed = (
      await submit({
        type: fail.type,
        input: { message: 'no GPU', retryable: false },
        webhook: receiver.url(failedPath),
      })
    ).json<JobView>();
    const cancelledPath = `/cancelled-${suffix}`;
    const running = (
      await submit({ type: sleep.type, input: { seconds: 60 }, webhook: receiver.url(cancelledPath) })
    ).json<JobView>();
    await waitFor(
      () => view(running.id),
      (v) => v.status === 'IN_PROGRESS',
    );
    await stack.app.inject({ method: 'POST', url: `/v1/jobs/${running.id}/cancel` });

    const [failedDelivery] = await receiver.waitFor(failedPath, 1);
    expect(verified(failedDelivery!)).toMatchObject({
      id: failed.id,
      status: 'FAILED',
      error: { type: 'JobError', message: 'no GPU', retryable: false },
    });
    const [cancelledDelivery] = await receiver.waitFor(cancelledPath, 1);
    expect(verified(cancelledDelivery!)).toMatchObject({ id: running.id, status: 'CANCELLED' });
    expect((await view(running.id)).status).toBe('CANCELLED');
  });

  it('retries a receiver that answers 500 with the same webhook-id, and the job stays COMPLETED', async () => {
    const path = `/flaky-${suffix}`;
    receiver.answer(path, [500, 500]);
    const job = (
      await submit({ type: echo.type, input: { flaky: true }, webhook: receiver.url(path) })
    ).json<JobView>();
    // The first try failed: the job is COMPLETED already, whatever happens to its webhook.
    await receiver.waitFor(path, 1);
    expect(await view(job.id)).toMatchObject({ status: 'COMPLETED', output: { flaky: true } });

    const deliveries = await receiver.waitFor(path, 3);
    expect(deliveries.map((d) => d.status)).toEqual([500, 500, 200]);
    expect(new Set(deliveries.map((d) => d.headers['webhook-id'])).size).toBe(1);
    for (const delivery of deliveries) expect(verified(delivery).status).toBe('COMPLETED');

    const runId = await runIdOf(job.id);
    // The delivery is a workflow of its own, which the job's workflow did not wait for.
    const delivery = stack.client.workflow.getHandle(webhookWorkflowId(job.id, runId));
    expect((await delivery.result()) as WebhookDeliveryResult).toEqual({ delivered: true, status: 200 });
    // It is no job: the job routes do not see it.
    const asJob = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${webhookWorkflowId(job.id, runId)}` });
    expect(asJob.statusCode).toBe(404);
    const description = await stack.client.workflow.getHandle(job.id).describe();
    expect(description.status.name).toBe('COMPLETED');
    expect((await view(job.id)).status).toBe('COMPLETED');
    expect(receiver.deliveries(path)).toHaveLength(3);
  });

  it('answers 400 for a URL that is not http(s), a private address not allowed, and webhooks not enabled', async () => {
    const ftp = await submit({ type: echo.type, input: 1, webhook: 'ftp://example.com/hook' });
    expect(ftp.statusCode).toBe(400);
    expect(ftp.json()).toMatchObject({
      code: 'GPUFLOW_ERR_VALIDATION',
      message: 'webhook: must be an http or https URL',
    });

    const lan = await submit({ type: echo.type, input: 2, webhook: 'http://10.0.0.5/hook' });
    expect(lan.statusCode).toBe(400);
    expect(lan.json()).toMatchObject({
      code: 'GPUFLOW_ERR_WEBHOOK_FORBIDDEN',
      message: 'webhook: 10.0.0.5 is a private address not allowed by GPUFLOW_WEBHOOK_ALLOW_PRIVATE',
    });
    const metadata = await submit({ type: echo.type, input: 3, webhook: 'http://169.254.169.254/latest' });
    expect(metadata.json()).toMatchObject({ code: 'GPUFLOW_ERR_WEBHOOK_FORBIDDEN' });
    expect(metadata.json<{ message: string }>().message).toMatch(/cloud metadata/);

    // Loopback is allowed in this stack (like under `gpuflow dev`); with no allow list it is not.
    const strict = await buildApp({ client: stack.client, namespace: NAMESPACE, webhooks: {} });
    const unconfigured = await buildApp({ client: stack.client, namespace: NAMESPACE });
    try {
      const loopback = await strict.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { type: echo.type, input: 4, webhook: receiver.url('/never') },
      });
      expect(loopback.statusCode).toBe(400);
      expect(loopback.json<{ message: string }>().message).toMatch(/^webhook: 127\.0\.0\.1 is a loopback address/);

      const off = await unconfigured.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { type: echo.type, input: 5, webhook: 'https://hooks.example.com/x' },
      });
      expect(off.statusCode).toBe(400);
      expect(off.json()).toMatchObject({ code: 'GPUFLOW_ERR_WEBHOOK_NOT_CONFIGURED' });
    } finally {
      await strict.close();
      await unconfigured.close();
    }
    expect(receiver.deliveries('/never')).toHaveLength(0);
  });

  it('refuses, unretried, to send to a host name that resolves to a private address', async () => {
    const job = (await submit({ type: echo.type, input: { dns: true } })).json<JobView>();
    await waitFor(
      () => view(job.id),
      (v) => v.status === 'COMPLETED',
    );
    const runId = await runIdOf(job.id);
    const jobs = new JobReader({ client: stack.client });
    // One public address and one inside: a rebinding answer like this one must not get through.
    const activities = createWebhookActivities({
      client: stack.client,
      viewOf: (jobId, run) => jobs.viewOfRun(jobId, run),
      secret: TEST_WEBHOOK_SECRET,
      allowPrivate: [],
      resolveHost: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '10.1.2.3', family: 4 },
      ],
    });
    const quiet = new DefaultLogger('ERROR');
    const attempt = new MockActivityEnvironment({}, { logger: quiet }).run(activities.deliverWebhook, {
      jobId: job.id,
      runId,
      url: 'http://hooks.example.com/gpuflow',
    });
    await expect(attempt).rejects.toBeInstanceOf(ApplicationFailure);
    await expect(attempt).rejects.toMatchObject({
      type: 'WebhookForbidden',
      nonRetryable: true,
      message: expect.stringMatching(/hooks\.example\.com resolves to 10\.1\.2\.3 is a private address/) as unknown,
    });
  });
});
