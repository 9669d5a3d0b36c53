import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { isPublicRoute } from '../../api/plugins/auth.js';
import { freePort } from '../../scripts/temporal-dev-server.js';

const ADMIN_KEY = 'admin-key-0123456789';
const SUBMIT_KEY = 'submit-key-0123456789';

/** A request path for a route pattern: `/v1/jobs/:id` → `/v1/jobs/x`, `/docs/static/*` → `/docs/static/x`. */
const pathOf = (url: string): string => url.replace(/:[^/]+/g, 'x').replace(/\*$/, 'x');

/**
 * Deny by default. Every route that exists, found by an onRoute hook rather than a list kept here, answers 401
 * without a key unless it is on the allow-list; routes mounted after the auth plugin loaded, under prefixes that do
 * not exist yet, are covered too.
 */
describe('auth allow-list', () => {
  let app: FastifyInstance;
  let connection: Connection;
  const routes: { method: HTTPMethods; url: string }[] = [];

  beforeAll(async () => {
    connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 });
    const client = new Client({ connection, namespace: 'default' });
    app = await buildApp({
      client,
      namespace: 'default',
      temporalTimeoutMs: 1500,
      apiKeys: [
        { key: ADMIN_KEY, role: 'admin' },
        { key: SUBMIT_KEY, role: 'submit' },
      ],
      onRoute: (route) => {
        for (const method of [route.method].flat()) routes.push({ method, url: route.url });
      },
    });
    // Faces that come later, mounted after the plugin loaded, at the root and inside an encapsulated plugin.
    app.get('/v1/later', async () => 'up 1');
    app.post('/later/:endpoint/run', { config: { roles: ['submit', 'admin'] } }, async () => ({ id: 'x' }));
    await app.register(async (child) => {
      // Not `:id`: a route with a job id there is tenant-checked against Temporal (api/plugins/tenant-scope.ts).
      child.get('/api/runs/:run', async () => ({ run: 'x' }));
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await connection?.close();
  });

  it('sees every route, including the ones mounted after the plugin', () => {
    const urls = routes.map((route) => route.url);
    expect(urls).toEqual(
      expect.arrayContaining([
        '/v1/jobs',
        '/v1/jobs/:id',
        '/metrics',
        '/v1/later',
        '/runpod/v2/:endpoint/run',
        '/later/:endpoint/run',
        '/api/runs/:run',
      ]),
    );
    expect(urls.filter((url) => !isPublicRoute(url)).length).toBeGreaterThan(10);
  });

  it('answers 401 without a key on every route outside the allow-list', async () => {
    const open: string[] = [];
    for (const { method, url } of routes) {
      if (isPublicRoute(url, method)) continue;
      const res = await app.inject({ method, url: pathOf(url) });
      if (res.statusCode !== 401) open.push(`${method} ${url}: ${res.statusCode}`);
      else if (method !== 'HEAD') expect(res.json()).toMatchObject({ code: 'GPUFLOW_ERR_UNAUTHORIZED' });
    }
    expect(open).toEqual([]);
  });

  it('answers the allow-listed routes without a key', async () => {
    for (const url of ['/healthz', '/docs', '/docs/json', '/docs/static/index.html']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBeLessThan(400);
    }
    // Readiness answers too (503 here: no Temporal server behind this app).
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'unavailable' });
  });

  it('needs a key on unknown paths too, so that nobody learns which routes exist', async () => {
    expect((await app.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/nope', headers: { authorization: ADMIN_KEY } })).statusCode).toBe(
      404,
    );
  });

  it('takes the key as "Bearer <key>" or bare, as RunPod clients send it', async () => {
    for (const authorization of [`Bearer ${SUBMIT_KEY}`, `bearer  ${SUBMIT_KEY}`, SUBMIT_KEY]) {
      const res = await app.inject({ method: 'GET', url: '/v1/later', headers: { authorization } });
      expect(res.statusCode, authorization).toBe(200);
    }
    for (const authorization of [`Basic ${SUBMIT_KEY}`, `Bearer ${SUBMIT_KEY} extra`, `${SUBMIT_KEY}x`]) {
      const res = await app.inject({ method: 'GET', url: '/v1/later', headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
    }
  });

  it('checks the roles a route declares, and lets any valid key through where it declares none', async () => {
    const submit = { authorization: `Bearer ${SUBMIT_KEY}` };
    const stats = await app.inject({ method: 'GET', url: '/v1/queues', headers: submit });
    expect(stats.statusCode).toBe(403);
    expect(stats.json()).toMatchObject({ message: 'this route needs an API key with the admin role' });
    const run = await app.inject({ method: 'POST', url: '/later/e/run', headers: submit });
    expect(run.statusCode).toBe(200);
    const api = await app.inject({ method: 'GET', url: '/api/runs/x', headers: submit });
    expect(api.statusCode).toBe(200);
  });

  it('refuses at registration a roles list that would read as "anyone"', async () => {
    const client = new Client({ connection, namespace: 'default' });
    const other = await buildApp({ client, namespace: 'default', apiKeys: [{ key: ADMIN_KEY, role: 'admin' }] });
    try {
      expect(() => other.get('/open', { config: { roles: [] } }, async () => 'open')).toThrow(/config.roles/);
      expect(() => other.get('/typo', { config: { roles: ['root' as 'admin'] } }, async () => 'open')).toThrow(
        /config.roles/,
      );
    } finally {
      await other.close();
    }
  });
});
