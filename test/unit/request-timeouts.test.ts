import { connect, type AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { loadEnv } from '../../config/env.js';
import { freePort } from '../../scripts/temporal-dev-server.js';

const REQUEST_TIMEOUT_MS = 1000;

/** Sends a request whose body trickles in a byte every `everyMs`; resolves with what came back and when it closed. */
function trickle(port: number, everyMs: number): Promise<{ closedAfterMs: number; response: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port });
    let response = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write('POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n');
      socket.write('Content-Length: 1000\r\n\r\n{');
      timer = setInterval(() => socket.write(' '), everyMs);
    });
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: Date.now() - started, response });
    });
  });
}

describe('request timeouts on a real socket', () => {
  let app: FastifyInstance;
  let connection: Connection;
  let port: number;

  beforeAll(async () => {
    connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 });
    const client = new Client({ connection, namespace: 'default' });
    app = await buildApp({ client, namespace: 'default', requestTimeoutMs: REQUEST_TIMEOUT_MS });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app?.close();
    await connection?.close();
  });

  it('answers 408 and closes a body that trickles in slower than the request timeout', async () => {
    const { closedAfterMs, response } = await trickle(port, 200);
    expect(response).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    // Node checks on a timer of a quarter of the timeout: generous for a loaded machine.
    expect(closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS * 5);
  });

  it('has bounded defaults, set from the environment', () => {
    const env = loadEnv({});
    expect(env.GPUFLOW_API_REQUEST_TIMEOUT_MS).toBe(60_000);
    // Above the longest ?wait, which sends nothing while it waits.
    expect(env.GPUFLOW_API_CONNECTION_TIMEOUT_MS).toBeGreaterThan(300_000);
    expect(env.GPUFLOW_API_KEEP_ALIVE_TIMEOUT_MS).toBe(72_000);
    expect(loadEnv({ GPUFLOW_API_REQUEST_TIMEOUT_MS: '5000' }).GPUFLOW_API_REQUEST_TIMEOUT_MS).toBe(5000);
  });
});
