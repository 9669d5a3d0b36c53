import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jobIdFor } from '../../contracts/ids.js';
import { SubmitJobSchema } from '../../contracts/job.js';
import { describeIssues } from '../../contracts/errors.js';
import { isTerminal } from '../../contracts/status.js';

const parse = (body: unknown) => SubmitJobSchema.parse(body);

describe('SubmitJobSchema', () => {
  it('fills in the documented defaults', () => {
    expect(parse({ type: 'echo', input: null })).toEqual({
      type: 'echo',
      input: null,
      dedup: true,
      policy: {
        executionTimeoutMs: 600_000,
        ttlMs: 86_400_000,
        maxAttempts: 3,
        heartbeatTimeoutMs: 30_000,
        priority: 3,
      },
    });
  });

  it.each([
    [{ type: 'Echo', input: 1 }, /^type: must start with a-z/],
    [{ type: 'echo' }, /^input: required: any JSON value$/],
    [{ type: 'echo', input: 1, policy: { maxAttempts: 0 } }, /^policy\.maxAttempts: Too small/],
    [{ type: 'echo', input: 1, policy: { executionTimeoutMs: 999 } }, /^policy\.executionTimeoutMs: Too small/],
    [{ type: 'echo', input: 1, policy: { priority: 6 } }, /^policy\.priority: Too big/],
    [{ type: 'echo', input: 1, policy: { retries: 2 } }, /^policy: Unrecognized key: "retries"/],
    [{ type: 'echo', input: 1, webhok: 'x' }, /Unrecognized key: "webhok"/],
    [{ type: 'echo', input: 1, idempotencyKey: '' }, /^idempotencyKey: Too small/],
    [{ type: 'a'.repeat(64), input: 1 }, /^type: /],
  ])('rejects %j with a message that names the field', (body, message) => {
    const result = SubmitJobSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(describeIssues(result.error!.issues)).toMatch(message);
  });
});

describe('jobIdFor', () => {
  it('is <type>-<first 32 hex of sha256 over the RFC 8785 canonical JSON of {type, input}>', () => {
    const canonical = '{"input":{"a":1,"b":[true,null,"x"]},"type":"echo"}';
    const expected = createHash('sha256').update(canonical).digest('hex').slice(0, 32);
    expect(jobIdFor(parse({ type: 'echo', input: { b: [true, null, 'x'], a: 1 } }))).toBe(`echo-${expected}`);
  });

  it('does not depend on key order at any depth, and does depend on every value', () => {
    const a = jobIdFor(parse({ type: 'echo', input: { x: { p: 1, q: 2 }, y: [1, 2] } }));
    const b = jobIdFor(parse({ input: { y: [1, 2], x: { q: 2, p: 1 } }, type: 'echo' }));
    const c = jobIdFor(parse({ type: 'echo', input: { x: { p: 1, q: 2 }, y: [2, 1] } }));
    const d = jobIdFor(parse({ type: 'sleep', input: { x: { p: 1, q: 2 }, y: [1, 2] } }));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(d).not.toBe(a);
  });

  it('ignores the policy: the same work under another policy is the same job', () => {
    expect(jobIdFor(parse({ type: 'echo', input: 1, policy: { priority: 1 } }))).toBe(
      jobIdFor(parse({ type: 'echo', input: 1 })),
    );
  });

  it('uses the idempotency key instead of the input when one is given', () => {
    const key = 'order-42';
    const expected = createHash('sha256').update(key).digest('hex').slice(0, 32);
    expect(jobIdFor(parse({ type: 'echo', input: 1, idempotencyKey: key }))).toBe(`echo-k-${expected}`);
    expect(jobIdFor(parse({ type: 'echo', input: 2, idempotencyKey: key }))).toBe(`echo-k-${expected}`);
  });

  it('hashes the tenant with the input or the key outside the default tenant, and nothing more inside it', () => {
    const job = parse({ type: 'echo', input: { b: 1, a: 2 } });
    const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);
    expect(jobIdFor(job, 'default')).toBe(jobIdFor(job));
    expect(jobIdFor(job, 'acme')).toBe(`echo-${sha('{"input":{"a":2,"b":1},"tenant":"acme","type":"echo"}')}`);
    expect(jobIdFor(job, 'acme')).not.toBe(jobIdFor(job, 'globex'));
    const keyed = parse({ type: 'echo', input: 1, idempotencyKey: 'order-42' });
    expect(jobIdFor(keyed, 'default')).toBe(`echo-k-${sha('order-42')}`);
    expect(jobIdFor(keyed, 'acme')).toBe(`echo-k-${sha('{"idempotencyKey":"order-42","tenant":"acme"}')}`);
  });

  it('makes a fresh uuid v7 id for every submission with dedup off', () => {
    const first = jobIdFor(parse({ type: 'echo', input: 1, dedup: false }));
    const second = jobIdFor(parse({ type: 'echo', input: 1, dedup: false }));
    expect(first).toMatch(/^echo-[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second).not.toBe(first);
  });
});

describe('statuses', () => {
  it('knows which are terminal', () => {
    expect(['IN_QUEUE', 'IN_PROGRESS'].map((s) => isTerminal(s as never))).toEqual([false, false]);
    expect(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'].every((s) => isTerminal(s as never))).toBe(true);
  });
});
