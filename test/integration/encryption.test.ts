import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from '../../api/app.js';
import type { JobView } from '../../contracts/job.js';
import { webhookWorkflowId } from '../../contracts/webhook.js';
import { defineJob } from '../../sdk/define-job.js';
import { encryptionDataConverter, type EncryptionKey } from '../../storage/encryption-codec.js';
import { NAMESPACE, startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef';
const SUBMIT_KEY = 'submit-key-0123456789abcdef';
const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const UI_ORIGIN = 'http://localhost:8233';

/** With GPUFLOW_ENCRYPTION_KEYS, Temporal stores no input, output, progress or webhook URL in plaintext. */
describe('payload encryption', () => {
  const suffix = uniqueSuffix();
  const type = `secretive-${suffix}`;
  const secrets = {
    input: `input-plaintext-${suffix}`,
    output: `output-plaintext-${suffix}`,
    progress: `progress-plaintext-${suffix}`,
    webhookToken: `webhook-token-${suffix}`,
  };
  const oldKey: EncryptionKey = { id: 'k1', key: randomBytes(32) };
  const newKey: EncryptionKey = { id: 'k2', key: randomBytes(32) };
  const job = defineJob({
    type,
    input: z.object({ secret: z.string() }),
    async handler(input, ctx) {
      ctx.progress(50, secrets.progress);
      await sleepMs(1500, undefined, { signal: ctx.signal });
      return { echoed: input.secret, made: secrets.output };
    },
  });
  let stack: TestStack;
  let receiver: Server;
  let received = 0;
  let jobId = '';

  beforeAll(async () => {
    receiver = createServer((_req, res) => {
      received += 1;
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    stack = await startStack({
      dataConverter: encryptionDataConverter([oldKey]),
      codecCorsOrigins: [UI_ORIGIN],
      apiKeys: [
        { key: ADMIN_KEY, role: 'admin' },
        { key: SUBMIT_KEY, role: 'submit' },
      ],
    });
    await stack.startJobWorker({ jobs: [job] });
  });
  afterAll(async () => {
    await stack?.stop();
    receiver?.close();
  });

  const historyBytes = async (workflowId: string): Promise<Buffer> => {
    const events: proto.temporal.api.history.v1.IHistoryEvent[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await stack.client.workflowService.getWorkflowExecutionHistory({
        namespace: NAMESPACE,
        execution: { workflowId },
        nextPageToken,
      });
      events.push(...(page.history?.events ?? []));
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return Buffer.from(proto.temporal.api.history.v1.History.encode({ events }).finish());
  };

  it('keeps input, output, progress and the webhook URL out of the history, and the API still shows them', async () => {
    const { port } = receiver.address() as { port: number };
    const webhook = `http://127.0.0.1:${port}/hook?token=${secrets.webhookToken}`;
    const submitted = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization: `Bearer ${SUBMIT_KEY}` },
      payload: { type, input: { secret: secrets.input }, webhook },
    });
    expect(submitted.statusCode).toBe(201);
    jobId = submitted.json<JobView>().id;
    const view = async () =>
      (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}`, headers: admin })).json<JobView>();

    // The progress comes from the pending activity's heartbeat details, encrypted too.
    const running = await waitFor(view, (v) => v.progress?.message === secrets.progress || v.status === 'COMPLETED');
    expect(running.progress).toMatchObject({ percent: 50, message: secrets.progress });
    const done = await waitFor(view, (v) => v.status === 'COMPLETED');
    expect(done.output).toEqual({ echoed: secrets.input, made: secrets.output });
    await waitFor(
      () => Promise.resolve(received),
      (count) => count > 0,
    );

    const runId = (await stack.client.workflow.getHandle(jobId).describe()).runId;
    for (const workflowId of [jobId, webhookWorkflowId(jobId, runId)]) {
      const history = await historyBytes(workflowId);
      expect(history.byteLength).toBeGreaterThan(0);
      for (const secret of Object.values(secrets))
        expect(history.includes(secret), `${secret} in ${workflowId}`).toBe(false);
      expect(history.includes('binary/encrypted')).toBe(true);
    }
  });

  it('decodes for an admin key through the codec endpoint, and for no one else', async () => {
    const { history } = await stack.client.workflowService.getWorkflowExecutionHistory({
      namespace: NAMESPACE,
      execution: { workflowId: jobId },
      maximumPageSize: 1,
    });
    const stored = history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
    const body = {
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(stored.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
          data: b64(stored.data),
        },
      ],
    };
    expect(Buffer.from(body.payloads[0]!.metadata['encryption-key-id']!, 'base64').toString()).toBe('k1');

    const decode = (headers: Record<string, string>) =>
      stack.app.inject({
        method: 'POST',
        url: '/v1/codec/decode',
        headers: { origin: UI_ORIGIN, ...headers },
        payload: body,
      });
    expect((await decode({})).statusCode).toBe(401);
    expect((await decode({ authorization: `Bearer ${SUBMIT_KEY}` })).statusCode).toBe(403);
    const decoded = await decode(admin);
    expect(decoded.statusCode).toBe(200);
    const [plain] = decoded.json<{ payloads: { metadata: Record<string, string>; data: string }[] }>().payloads;
    expect(Buffer.from(plain!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(Buffer.from(plain!.data, 'base64').toString()).toContain(secrets.input);

    // And back: what it encodes, it decodes.
    const encoded = await stack.app.inject({
      method: 'POST',
      url: '/v1/codec/encode',
      headers: admin,
      payload: { payloads: [plain] },
    });
    expect(encoded.statusCode).toBe(200);
    const again = await decode({ ...admin, 'content-type': 'application/json' });
    expect(again.json()).toEqual(decoded.json());
  });

  it("answers the Web UI's CORS preflight for its origin", async () => {
    const preflight = await stack.app.inject({
      method: 'OPTIONS',
      url: '/v1/codec/decode',
      headers: {
        origin: UI_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-namespace',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
    expect(String(preflight.headers['access-control-allow-headers'])).toMatch(/Authorization/);
    const stranger = await stack.app.inject({
      method: 'OPTIONS',
      url: '/v1/codec/decode',
      headers: { origin: 'http://evil.example' },
    });
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('still reads jobs written with the old key after a rotation that keeps it in the ring', async () => {
    const rotated = new Client({
      connection: stack.client.connection,
      namespace: NAMESPACE,
      dataConverter: encryptionDataConverter([newKey, oldKey]),
    });
    const app = await buildApp({
      client: rotated,
      namespace: NAMESPACE,
      controlTaskQueue: stack.controlTaskQueue,
      blobs: stack.blobs,
    });
    try {
      const view = (await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}` })).json<JobView>();
      expect(view).toMatchObject({ status: 'COMPLETED', output: { echoed: secrets.input, made: secrets.output } });
    } finally {
      await app.close();
    }
  });
});
