import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { freePort } from '../../scripts/temporal-dev-server.js';

/**
 * Routes without a Temporal server: everything here is answered before (or instead of) a call to Temporal.
 * The client points at a port where nothing listens, which is also what an outage looks like.
 */
describe('API routes without Temporal', () => {
  let app: FastifyInstance;
  let keyed: FastifyInstance;
  let connection: Connection;
  const ADMIN_KEY = 'admin-key-0123456789';

  beforeAll(async () => {
    connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 });
    const client = new Client({ connection, namespace: 'default' });
    app = await buildApp({ client, namespace: 'default', temporalTimeoutMs: 1500 });
    keyed = await buildApp({ client, namespace: 'default', apiKeys: [{ key: ADMIN_KEY, role: 'admin' }] });
  });
  afterAll(async () => {
    await app?.close();
    await keyed?.close();
    await connection?.close();
  });

  it('answers liveness without Temporal, and readiness 503 while Temporal is unreachable', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'unavailable', reason: 'Temporal cannot be reached' });
  });

  it.each([
    [{ type: 'echo' }, 'input: required: any JSON value'],
    [{ type: 'Echo', input: 1 }, 'type: must start with a-z'],
    [
      { type: 'echo', input: 1, policy: { ttlMs: 'soon' } },
      'policy.ttlMs: Invalid input: expected number, received string',
    ],
    [{ type: 'echo', input: 1, extra: true }, 'Unrecognized key: "extra"'],
    ['{"type":"echo","input":{"big":[1,1e999]}}', 'input.big.1: numbers must be finite'],
  ])('rejects the body %j with a 400 naming the field', async (payload, message) => {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, code: 'GPUFLOW_ERR_VALIDATION', error: 'Bad Request' });
    expect(res.json<{ message: string }>().message).toContain(message);
  });

  it('rejects malformed JSON, a non-JSON content type and an empty body', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { 'content-type': 'application/json' },
      payload: '{"type":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'GPUFLOW_ERR_BAD_JSON' });

    const text = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { 'content-type': 'text/plain' },
      payload: 'hi',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ code: 'GPUFLOW_ERR_UNSUPPORTED_MEDIA_TYPE' });

    const empty = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { 'content-type': 'application/json' },
    });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({
      code: 'GPUFLOW_ERR_VALIDATION',
      message: 'body: Invalid input: expected object, received null',
    });

    const poisoned = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { 'content-type': 'application/json' },
      payload: '{"type":"echo","input":{"__proto__":{"admin":true}}}',
    });
    expect(poisoned.statusCode).toBe(400);
    expect(poisoned.json()).toMatchObject({ code: 'GPUFLOW_ERR_BAD_JSON' });
  });

  it('answers 413 with a code for a body over the limit (20 MiB by default)', async () => {
    const payload = { type: 'echo', input: 'x'.repeat(20 * 1024 * 1024) };
    const res = await app.inject({ method: 'POST', url: '/v1/jobs', payload });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({
      statusCode: 413,
      code: 'GPUFLOW_ERR_PAYLOAD_TOO_LARGE',
      message: 'the body is larger than 20971520 bytes',
      error: 'Payload Too Large',
    });
  });

  it('answers 404 with a code for unknown routes', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nothing?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      statusCode: 404,
      code: 'GPUFLOW_ERR_ROUTE_NOT_FOUND',
      error: 'Not Found',
      message: 'no route GET /v1/nothing',
    });
  });

  it('answers 503 without internals when Temporal is unreachable', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/jobs/echo-0123' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      statusCode: 503,
      code: 'GPUFLOW_ERR_TEMPORAL_UNAVAILABLE',
      error: 'Service Unavailable',
      message: 'the job store (Temporal) cannot be reached; try again',
    });
  });

  it('with keys configured, needs a valid key on /v1 but not on health or docs', async () => {
    for (const authorization of [
      undefined,
      'Bearer wrong-key-0123456789',
      `Basic ${ADMIN_KEY}`,
      `Bearer ${ADMIN_KEY}x`,
    ]) {
      const res = await keyed.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { type: 'echo' },
        headers: authorization ? { authorization } : {},
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'GPUFLOW_ERR_UNAUTHORIZED' });
    }
    // Percent-encoding the path reaches the same route, so it needs the same key.
    for (const url of ['/%761/jobs', '/v%31/jobs', '/%76%31/jobs/check']) {
      const res = await keyed.inject({ method: 'POST', url, payload: { type: 'echo', input: 1 } });
      expect(res.statusCode).toBe(401);
    }
    expect((await keyed.inject({ method: 'GET', url: '/%761/jobs/echo-1' })).statusCode).toBe(401);
    // With the right key the request gets as far as validation.
    const ok = await keyed.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'echo' },
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(ok.statusCode).toBe(400);
    expect((await keyed.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await keyed.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
  });

  it('serves an OpenAPI document of the job routes', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{
      openapi: string;
      paths: Record<string, unknown>;
    }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/jobs', '/v1/jobs/check', '/v1/jobs/{id}', '/v1/jobs/{id}/cancel']),
    );
  });
});
