import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { jsonTextProblem, MAX_JSON_DEPTH } from '../../api/json-body.js';
import { freePort } from '../../scripts/temporal-dev-server.js';

const nested = (levels: number, leaf = '1'): string => '['.repeat(levels) + leaf + ']'.repeat(levels);

describe('jsonTextProblem', () => {
  it.each([
    ['plain', '{"a":[1,{"b":"x"}]}', undefined],
    ['a surrogate pair', '"\\ud83d\\ude00"', undefined],
    ['a pair in upper case', '"\\uD83D\\uDE00"', undefined],
    ['an escaped backslash before u', '"\\\\ud800"', undefined],
    ['brackets inside a string', `"${'['.repeat(500)}"`, undefined],
    ['a lone high surrogate', '"x\\ud800y"', /unpaired UTF-16 surrogate \(\\ud800 at character 2\)/],
    ['a high surrogate at the end', '"x\\ud800"', /unpaired/],
    ['a lone low surrogate', '"\\udc00"', /unpaired UTF-16 surrogate \(\\udc00/],
    ['two high surrogates', '"\\ud800\\ud800"', /unpaired/],
    ['a lone surrogate in a key', '{"\\ud800":1}', /unpaired/],
    ['nesting at the limit', nested(MAX_JSON_DEPTH), undefined],
    ['nesting past the limit', nested(MAX_JSON_DEPTH + 1), /nested deeper than 128 levels/],
  ])('%s', (_name, text, expected) => {
    const problem = jsonTextProblem(text);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });
});

/** Through the real app: everything here is refused by the body parser, before any call to Temporal. */
describe('request bodies the API refuses before parsing', () => {
  let app: FastifyInstance;
  let connection: Connection;

  beforeAll(async () => {
    connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 });
    const client = new Client({ connection, namespace: 'default' });
    app = await buildApp({ client, namespace: 'default', temporalTimeoutMs: 1500 });
  });
  afterAll(async () => {
    await app?.close();
    await connection?.close();
  });

  const post = (url: string, payload: string | Buffer) =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });

  it('answers 400 naming the limit for an input nested deeper than the limit (not a stack overflow)', async () => {
    for (const levels of [MAX_JSON_DEPTH, 2000, 100_000]) {
      const res = await post('/v1/jobs', `{"type":"echo","input":${nested(levels)}}`);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        statusCode: 400,
        code: 'GPUFLOW_ERR_VALIDATION',
        error: 'Bad Request',
        message: 'body: nested deeper than 128 levels of arrays and objects',
      });
    }
  });

  it('answers 400 for a lone surrogate, with dedup, without it, with a key and on /check alike', async () => {
    const bodies = [
      '{"type":"echo","input":"x\\ud800y"}',
      '{"type":"echo","input":"x\\ud800y","dedup":false}',
      '{"type":"echo","input":{"\\udfff":1},"idempotencyKey":"k1"}',
    ];
    for (const url of ['/v1/jobs', '/v1/jobs/check']) {
      for (const body of bodies) {
        const res = await post(url, body);
        expect(res.statusCode, `${url} ${body}`).toBe(400);
        expect(res.json()).toMatchObject({ code: 'GPUFLOW_ERR_VALIDATION', message: /unpaired UTF-16 surrogate/ });
      }
    }
  });

  it('answers 400 for a body that is not valid UTF-8 instead of replacing the bytes', async () => {
    for (const bad of [Buffer.from([0xff, 0xfe]), Buffer.from([0x80, 0x81])]) {
      const body = Buffer.concat([Buffer.from('{"type":"echo","input":"'), bad, Buffer.from('"}')]);
      const res = await post('/v1/jobs', body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        code: 'GPUFLOW_ERR_BAD_JSON',
        message: 'the body is not valid JSON: it is not valid UTF-8',
      });
    }
  });

  it('spends little event-loop time and memory on a 1,000,000-level body', async () => {
    const body = `{"type":"echo","input":${nested(1_000_000)}}`;
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const res = await post('/v1/jobs', body);
    const elapsedMs = performance.now() - started;
    delay.disable();
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    console.log(
      `1,000,000-level body (${(body.length / 2 ** 20).toFixed(1)} MiB): ${elapsedMs.toFixed(1)} ms, ` +
        `longest event-loop block ${(delay.max / 1e6).toFixed(1)} ms, heap +${heapGrowthMb.toFixed(1)} MiB`,
    );
    expect(res.statusCode).toBe(400);
    // Generous for a loaded machine: the refusal itself is a scan of the first ~130 characters.
    expect(elapsedMs).toBeLessThan(1000);
    expect(heapGrowthMb).toBeLessThan(64);
  });
});
