import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { AttemptFactsSchema, ExecuteJobResultSchema } from '../../protocol/activity.js';
import { ArtifactSchema, BlobRefSchema, isBlobRef } from '../../protocol/blobs.js';
import { AttemptFailureDetailsSchema } from '../../protocol/failures.js';
import { HeartbeatDetailsSchema, ProgressSchema } from '../../protocol/heartbeat.js';
import {
  readArtifacts,
  readAttemptFacts,
  readAttemptFailed,
  readAttemptFailureDetails,
  readExecuteJobResult,
  readHeartbeatDetails,
  readProgress,
} from '../../protocol/readers.js';
import { AttemptFailedSchema } from '../../protocol/signals.js';
import { bundleWorkflows } from '../../workers/orchestrator.js';

/** Values a buggy or hand-written worker in another language might put anywhere. */
const ODD_VALUES: unknown[] = [
  null,
  undefined,
  0,
  -1,
  1.5,
  101,
  '',
  'x',
  'x'.repeat(257),
  'x'.repeat(2001),
  true,
  {},
  [],
  [{}],
  ['line'],
  Array.from({ length: 21 }, () => 'line'),
  '2026-12-07T01:02:03Z',
  '2026-12-07T01:02:03.123456Z',
  '2026-12-07T01:02Z',
  '2026-02-30T01:02:03Z',
  '2026-12-07T01:02:03+01:00',
  '2026-12-07 01:02:03Z',
  Number.MAX_SAFE_INTEGER + 2,
  { name: 'a.png', size: 1, contentType: 'image/png' },
  { percent: 50, message: null },
];

const FACTS = {
  attempt: 2,
  workerId: 'gpu-1',
  scheduledAt: '2026-12-07T01:02:03.456Z',
  startedAt: '2024-02-29T23:59:59Z',
};
const ARTIFACT = { name: 'out.png', size: 10, contentType: 'image/png' };

/** Each valid sample, and every variant with one key set to each odd value, removed, or joined by a stranger key. */
function variants(samples: Record<string, unknown>[]): unknown[] {
  const all: unknown[] = [...ODD_VALUES];
  for (const sample of samples) {
    all.push(sample, { ...sample, stranger: 1 });
    for (const key of Object.keys(sample)) {
      const without = { ...sample };
      delete without[key];
      all.push(without);
      for (const odd of ODD_VALUES) all.push({ ...sample, [key]: odd });
    }
  }
  return all;
}

function agrees<T>(schema: z.ZodType<T>, read: (value: unknown) => T | undefined, samples: Record<string, unknown>[]) {
  for (const value of variants(samples)) {
    const parsed = schema.safeParse(value);
    const label = JSON.stringify(value)?.slice(0, 200);
    expect(read(value), label).toEqual(parsed.success ? parsed.data : undefined);
  }
}

describe('the workflow readers agree with the protocol schemas', () => {
  it('attempt facts', () => agrees(AttemptFactsSchema, readAttemptFacts, [FACTS]));

  it('progress', () =>
    agrees(ProgressSchema, readProgress, [
      { percent: 12.5, message: 'x' },
      { percent: 0, message: null },
    ]));

  it('artifacts', () => {
    agrees(ArtifactSchema, (value) => readArtifacts([value])?.[0], [ARTIFACT]);
    expect(readArtifacts([ARTIFACT, { ...ARTIFACT, name: '../etc/passwd' }])).toBeUndefined();
    expect(
      readArtifacts(
        Array.from({ length: 3 }, () => ARTIFACT),
        2,
      ),
    ).toBeUndefined();
  });

  it('an attempt result', () =>
    agrees(ExecuteJobResultSchema, readExecuteJobResult, [
      { output: { a: [1, 'b'] }, artifacts: [ARTIFACT], attemptFacts: FACTS, handlerTimeMs: 0.21 },
      { output: null, artifacts: [] },
    ]));

  it("a failure's or cancel's details", () =>
    agrees(AttemptFailureDetailsSchema, readAttemptFailureDetails, [
      {
        artifacts: [ARTIFACT],
        attempt: 1,
        checkpoint: { step: 3 },
        attemptFacts: FACTS,
        progress: { percent: 5, message: 'a' },
      },
      { progress: null },
      {},
    ]));

  it('heartbeat details', () =>
    agrees(HeartbeatDetailsSchema, readHeartbeatDetails, [
      {
        progress: { percent: 5, message: null },
        log: ['a', 'b'],
        checkpoint: 7,
        artifacts: [ARTIFACT],
        workerId: 'runner-1',
        attemptFacts: FACTS,
      },
      { progress: null, log: [] },
    ]));

  it('the attemptFailed signal', () => agrees(AttemptFailedSchema, readAttemptFailed, [{ attempt: 3 }]));

  it('blob references', () => {
    const ref = { $gpuflowBlob: { key: 'outputs/j/r.json', size: 3, sha256: 'a'.repeat(64) } };
    for (const value of [
      ...variants([ref]),
      ...variants([ref.$gpuflowBlob]).map(($gpuflowBlob) => ({ $gpuflowBlob })),
    ]) {
      expect(isBlobRef(value), JSON.stringify(value)?.slice(0, 200)).toBe(BlobRefSchema.safeParse(value).success);
    }
  });
});

describe('the workflow bundle', () => {
  // Temporal's TS SDK evaluates the bundle's modules once per workflow: zod there costs every job its own copy.
  it('holds no zod, so that no job builds schemas', async () => {
    const bundle = await bundleWorkflows();
    expect(bundle.code).toContain('protocol/readers.ts');
    expect(bundle.code).not.toMatch(/node_modules\/zod\//);
  }, 120_000);
});
