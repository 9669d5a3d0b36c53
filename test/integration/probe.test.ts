import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import type { JobDefinition } from '../../sdk/define-job.js';
import { freePort, startTemporalDevServer, type DevServer } from '../../scripts/temporal-dev-server.js';
import { runGpuflow, type GpuflowProcess } from '../support/processes.js';
import { countedJobModule, probeRow, reportProbe, type ProbeRow } from '../support/probe.js';
import { startStack, uniqueSuffix, type TestStack } from '../support/stack.js';

/**
 * The durability probe as a regression suite: jobs under one fault per scenario, counted at the end. Every job
 * must complete, and no handler may finish twice. `npm test` runs it small; `npm run probe -- --jobs 300` full.
 */
const JOBS = Number(process.env.GPUFLOW_PROBE_JOBS ?? '') || 12;
const STORM_COPIES = 50;
/** How long one scenario may take to settle once its fault is over: generous, and more for more jobs. */
const SETTLE_MS = 60_000 + JOBS * 200;
const JOB_MS = 3000;

describe('durability probe', () => {
  const suffix = uniqueSuffix();
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-probe-'));
  const rows: ProbeRow[] = [];
  const processes: GpuflowProcess[] = [];

  afterAll(() => {
    for (const worker of processes) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    console.log(
      `\ndurability probe, ${JOBS} jobs per scenario\n${reportProbe(rows, process.env.GPUFLOW_PROBE_REPORT)}\n`,
    );
    rmSync(dir, { recursive: true, force: true });
  });
  beforeAll(() => {
    expect(JOBS).toBeGreaterThan(0);
  });

  const counted = async (scenario: string) => {
    const type = `probe-${scenario}-${suffix}`;
    const { modulePath, runsDir } = countedJobModule(dir, type);
    const job = (await import(modulePath)) as { default: JobDefinition };
    return { type, modulePath, runsDir, job: job.default };
  };
  const submit = async (stack: TestStack, body: object) => {
    for (;;) {
      const response = await stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: body });
      if (response.statusCode === 200 || response.statusCode === 201) return response.json<JobView>();
      // A client retries what the server could not take (a 5xx while Temporal is away).
      if (response.statusCode < 500) throw new Error(`submit answered ${response.statusCode}: ${response.body}`);
      await sleepMs(200);
    }
  };
  const submitAll = (stack: TestStack, type: string, count: number, policy: object = {}) =>
    Promise.all(
      Array.from({ length: count }, (_, n) =>
        submit(stack, {
          type,
          dedup: false,
          input: { n, ms: JOB_MS },
          policy: { heartbeatTimeoutMs: 3000, ...policy },
        }),
      ),
    );
  const statusOf = async (stack: TestStack, id: string): Promise<string> => {
    const response = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` });
    return response.statusCode === 200 ? response.json<JobView>().status : `HTTP ${response.statusCode}`;
  };
  /** Each job's status once all have ended, or when the scenario's time is up. */
  const settle = async (stack: TestStack, ids: readonly string[]): Promise<Map<string, string>> => {
    const statuses = new Map(ids.map((id) => [id, 'UNKNOWN']));
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const open = [...statuses].filter(
        ([, status]) => !['COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED'].includes(status),
      );
      if (open.length === 0 || Date.now() > deadline) return statuses;
      for (const [id] of open) statuses.set(id, await statusOf(stack, id));
      await sleepMs(250);
    }
  };
  const waitRunning = async (stack: TestStack, ids: readonly string[], atLeast: number) => {
    const deadline = Date.now() + SETTLE_MS;
    while (Date.now() < deadline) {
      const statuses = await Promise.all(ids.map((id) => statusOf(stack, id)));
      if (statuses.filter((status) => status === 'IN_PROGRESS').length >= atLeast) return;
      await sleepMs(100);
    }
    throw new Error(`fewer than ${atLeast} jobs started in time`);
  };
  const record = (row: ProbeRow) => {
    rows.push(row);
    expect(row).toEqual({ ...row, completed: row.submitted, failed: 0, lost: 0, ranTwice: 0 });
  };

  it(
    'a duplicate storm creates each job once and runs it once',
    async () => {
      const { type, runsDir, job } = await counted('storm');
      const stack = await startStack();
      try {
        await stack.startJobWorker({ jobs: [job], capacity: JOBS });
        const inputs = Math.max(1, Math.ceil(JOBS / 10));
        const views = await Promise.all(
          Array.from({ length: inputs * STORM_COPIES }, (_, i) =>
            submit(stack, { type, input: { n: i % inputs, ms: 500 } }),
          ),
        );
        const ids = [...new Set(views.map((view) => view.id))];
        expect(ids).toHaveLength(inputs);
        record(probeRow('duplicate storm', await settle(stack, ids), runsDir));
      } finally {
        await stack.stop();
      }
    },
    SETTLE_MS * 2,
  );

  it(
    'a SIGKILLed worker: its jobs run again elsewhere and finish once',
    async () => {
      const { type, modulePath, runsDir } = await counted('sigkill');
      const stack = await startStack();
      const startWorker = async (name: string) => {
        const worker = runGpuflow(
          ['worker', modulePath, '--identity', `${name}-${suffix}`, '--capacity', String(JOBS)],
          {
            TEMPORAL_ADDRESS: inject('temporalAddress'),
          },
        );
        processes.push(worker);
        await worker.waitForLine(new RegExp(`serving ${type}`));
        return worker;
      };
      try {
        const doomed = await startWorker('doomed');
        const ids = (await submitAll(stack, type, JOBS)).map((view) => view.id);
        await waitRunning(stack, ids, JOBS);
        doomed.child.kill('SIGKILL');
        expect(await doomed.exited).toBe('SIGKILL');
        await startWorker('rescuer');
        record(probeRow('worker SIGKILL', await settle(stack, ids), runsDir));
      } finally {
        await stack.stop();
      }
    },
    SETTLE_MS * 2,
  );

  /** Jobs running while their server goes away for `downMs` and comes back on its SQLite file. */
  const serverFault = async (scenario: string, name: string, downMs: number) => {
    const { type, runsDir, job } = await counted(scenario);
    const port = await freePort();
    const dbFilename = join(dir, `${scenario}.db`);
    const serve = () => startTemporalDevServer({ cliPath: inject('temporalCliPath'), port, uiPort: null, dbFilename });
    let server: DevServer = await serve();
    const stack = await startStack({ address: server.address });
    try {
      await stack.startJobWorker({ jobs: [job], capacity: JOBS });
      const ids = (await submitAll(stack, type, JOBS)).map((view) => view.id);
      await waitRunning(stack, ids, JOBS);
      await server.stop();
      await sleepMs(downMs);
      server = await serve();
      record(probeRow(name, await settle(stack, ids), runsDir));
    } finally {
      await stack.stop();
      await server.stop();
    }
  };

  /** The API as its own process, killed with `signal` while clients submit and wait, then started again. */
  const apiFault = async (scenario: string, name: string, signal: NodeJS.Signals) => {
    const { type, runsDir, job } = await counted(scenario);
    // The API process schedules on the default control queue: this stack's orchestrator serves it.
    const stack = await startStack({ controlTaskQueue: 'gpuflow-control' });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const startApi = async () => {
      const api = runGpuflow(['api'], { TEMPORAL_ADDRESS: inject('temporalAddress'), GPUFLOW_API_PORT: String(port) });
      processes.push(api);
      await api.waitForLine(/Server listening/);
      return api;
    };
    /** A client that retries whatever did not get an answer (the connection refused or reset, a 5xx). */
    const call = async (path: string, body?: object): Promise<JobView> => {
      for (;;) {
        try {
          const response = await fetch(`${base}${path}`, {
            method: body ? 'POST' : 'GET',
            ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
          });
          if (response.ok) return (await response.json()) as JobView;
          if (response.status < 500) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
        } catch (err) {
          if (err instanceof Error && / answered /.test(err.message)) throw err;
        }
        await sleepMs(200);
      }
    };
    try {
      await stack.startJobWorker({ jobs: [job], capacity: JOBS });
      let api = await startApi();
      let submitted = 0;
      const clients = Array.from({ length: JOBS }, async (_, n) => {
        await sleepMs(n * 100);
        // The key makes a retried submission safe: it answers with the job the lost answer was about.
        const view = await call('/v1/jobs', {
          type,
          idempotencyKey: `${scenario}-${suffix}-${n}`,
          input: { n, ms: JOB_MS },
        });
        submitted += 1;
        let status = view.status;
        while (!['COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED'].includes(status)) {
          status = (await call(`/v1/jobs/${view.id}?wait=2000`)).status;
        }
        return [view.id, status] as const;
      });
      const deadline = Date.now() + SETTLE_MS;
      while (submitted < JOBS / 2 && Date.now() < deadline) await sleepMs(20);
      api.child.kill(signal);
      await api.exited;
      api = await startApi();
      const statuses = new Map(await Promise.all(clients));
      record(probeRow(name, statuses, runsDir, JOBS));
      api.child.kill('SIGTERM');
      await api.exited;
    } finally {
      await stack.stop();
    }
  };

  it('an API SIGTERM', () => apiFault('api-sigterm', 'API SIGTERM', 'SIGTERM'), SETTLE_MS * 2);
  it('an API SIGKILL', () => apiFault('api-sigkill', 'API SIGKILL', 'SIGKILL'), SETTLE_MS * 2);

  it('a Temporal restart', () => serverFault('restart', 'Temporal restart', 1000), SETTLE_MS * 2);

  // Longer than the SDK's ~10 s of retrying a completion: handlers finish while nobody can hear of it.
  it('a Temporal outage of 15 s', () => serverFault('outage', 'Temporal outage 15 s', 15_000), SETTLE_MS * 2);
});
