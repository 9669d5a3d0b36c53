import SwaggerParser from '@apidevtools/swagger-parser';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { freePort } from '../../scripts/temporal-dev-server.js';

const JOB_ROUTES = [
  '/v1/jobs',
  '/v1/jobs/check',
  '/v1/jobs/{id}',
  '/v1/jobs/{id}/cancel',
  '/v1/jobs/{id}/retry',
  '/v1/jobs/{id}/stream',
];

/** The served OpenAPI document, as a client generator sees it. */
describe('the OpenAPI document', () => {
  let app: FastifyInstance;
  let connection: Connection;
  let served: string;

  beforeAll(async () => {
    connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 });
    const client = new Client({ connection, namespace: 'default' });
    app = await buildApp({ client, namespace: 'default' });
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    served = res.body;
  });
  afterAll(async () => {
    await app?.close();
    await connection?.close();
  });

  it('defines every schema it references', () => {
    const doc = JSON.parse(served) as { components?: { schemas?: Record<string, unknown> } };
    const refs = new Set([...served.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]));
    expect(refs.size).toBeGreaterThan(0);
    for (const ref of refs) expect(doc.components?.schemas, `$ref ${ref}`).toHaveProperty([ref!]);
  });

  it('is valid OpenAPI (swagger-parser, references resolved)', async () => {
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(JSON.parse(served) as never)).resolves.toBeTruthy();
  });

  it('generates a TypeScript client that names the job routes (openapi-typescript, offline)', async () => {
    const types = astToString(await openapiTS(JSON.parse(served) as never));
    for (const route of JOB_ROUTES) expect(types).toContain(`"${route}": {`);
    expect(types).toMatch(/JsonValue/);
  });
});
