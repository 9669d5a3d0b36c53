import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { decodeCursor, encodeCursor } from '../../api/services/job-cursor.js';
import { freePort } from '../../scripts/temporal-dev-server.js';

/** Operator routes without a Temporal server: roles, parameters and an outage are all answered without one. */
describe('operator routes without Temporal', () => {
  let open: FastifyInstance;
  let keyed: FastifyInstance;
  let connection: Connection;
  const SUBMIT_KEY = 'submit-key-0123456789';

  beforeAll(async () => {
    connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 });
    const client = new Client({ connection, namespace: 'default' });
    open = await buildApp({ client, namespace: 'default', temporalTimeoutMs: 1500 });
    keyed = await buildApp({ client, namespace: 'default', apiKeys: [{ key: SUBMIT_KEY, role: 'submit' }] });
  });
  afterAll(async () => {
    await open?.close();
    await keyed?.close();
    await connection?.close();
  });

  // Listings and counts are open to submit keys (scoped to their tenant: test/integration/tenants.test.ts).
  it.each(['/v1/queues'])('answers 403 on %s to a submit key, before Temporal', async (url) => {
    const res = await keyed.inject({ method: 'GET', url, headers: { authorization: `Bearer ${SUBMIT_KEY}` } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({
      statusCode: 403,
      code: 'GPUFLOW_ERR_FORBIDDEN',
      error: 'Forbidden',
      message: 'this route needs an API key with the admin role',
    });
  });

  it('lets everything through with no keys configured: a bad parameter is a 400, an outage a 503', async () => {
    const bad = await open.inject({ method: 'GET', url: '/v1/jobs?limit=500' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'GPUFLOW_ERR_VALIDATION' });
    const answers = await Promise.all(
      ['/v1/jobs', '/v1/stats', '/v1/queues'].map((url) => open.inject({ method: 'GET', url })),
    );
    for (const res of answers) {
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'GPUFLOW_ERR_TEMPORAL_UNAVAILABLE' });
    }
  }, 15_000);
});

describe('job listing cursors', () => {
  it('carry the page token of their own query only', () => {
    const token = Uint8Array.from([123, 34, 0, 255]);
    const cursor = encodeCursor("JobType = 'a'", token);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect([...decodeCursor("JobType = 'a'", cursor)]).toEqual([...token]);
    expect(() => decodeCursor("JobType = 'b'", cursor)).toThrow(/other filters/);
    expect(() => decodeCursor("JobType = 'a'", 'Zm9v')).toThrow(/not a nextCursor/);
  });
});
