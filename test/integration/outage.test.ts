import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import type { JobView } from '../../contracts/job.js';
import { defineJob } from '../../sdk/define-job.js';
import { freePort, startTemporalDevServer, type DevServer } from '../../scripts/temporal-dev-server.js';
import { startStack, uniqueSuffix, waitFor } from '../support/stack.js';

/**
 * The SDK retries reporting an activity's completion for about 10 s (sdk-core's client retry: 100 ms doubling by
 * 1.7 up to 5 s, at most 10 s elapsed), then drops it. A server down longer than that while handlers finish must
 * not make them run again once the lease of their attempt runs out.
 */
const OUTAGE_MS = 20_000;
const JOBS = 6;

describe('a Temporal outage while handlers finish', () => {
  const suffix = uniqueSuffix();
  const type = `counted-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-outage-'));
  const runsDir = mkdtempSync(join(dir, 'runs-'));
  // Counts its runs in a file per job, then finishes a few seconds later: while the server is down.
  const counted = defineJob({
    type,
    input: z.object({ n: z.number(), seconds: z.number() }),
    async handler(input, ctx) {
      appendFileSync(join(runsDir, ctx.jobId), `${ctx.attempt}\n`);
      await sleepMs(input.seconds * 1000, undefined, { signal: ctx.signal });
      return { n: input.n };
    },
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('completes every job with exactly one handler run each', async () => {
    const port = await freePort();
    const dbFilename = join(dir, 'temporal.db');
    const serve = () => startTemporalDevServer({ cliPath: inject('temporalCliPath'), port, uiPort: null, dbFilename });
    let server: DevServer = await serve();
    const stack = await startStack({ address: server.address });
    try {
      await stack.startJobWorker({ jobs: [counted], capacity: JOBS });
      const submitted: JobView[] = [];
      for (let n = 0; n < JOBS; n += 1) {
        const response = await stack.app.inject({
          method: 'POST',
          url: '/v1/jobs',
          payload: { type, dedup: false, input: { n, seconds: 3 }, policy: { heartbeatTimeoutMs: 5000 } },
        });
        expect(response.statusCode).toBe(201);
        submitted.push(response.json<JobView>());
      }
      const view = async (id: string) =>
        (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
      for (const job of submitted)
        await waitFor(
          () => view(job.id),
          (v) => v.status === 'IN_PROGRESS',
        );

      // Down before any handler ends, and for longer than the SDK keeps reporting their completions.
      await server.stop();
      await sleepMs(OUTAGE_MS);
      server = await serve();

      for (const [n, job] of submitted.entries()) {
        const done = await waitFor(
          () => view(job.id),
          (v) => v.status === 'COMPLETED' || v.status === 'FAILED',
          90_000,
        );
        expect(done).toMatchObject({ status: 'COMPLETED', output: { n } });
      }
      const runs = submitted.map((job) => readFileSync(join(runsDir, job.id), 'utf8').trim().split('\n').length);
      expect(runs).toEqual(submitted.map(() => 1));
    } finally {
      await stack.stop();
      await server.stop();
    }
  }, 240_000);
});
