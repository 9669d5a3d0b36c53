import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyToObject } from './history-file.js';
import { jobTypeCatalogId } from '../../contracts/job-types.js';
import type { JobView } from '../../contracts/job.js';
import echo from '../../examples/jobs/echo.js';
import fail from '../../examples/jobs/fail.js';
import mandelbrot from '../../examples/jobs/mandelbrot.js';
import sleep from '../../examples/jobs/sleep.js';
import tokens from '../../examples/jobs/tokens.js';
import { startStack, waitFor, type TestStack } from '../support/stack.js';
import { bundleWorkflows } from '../../workers/orchestrator.js';
import { resolveTemporalCli } from '../../scripts/temporal-cli.js';
import { startTemporalDevServer } from '../../scripts/temporal-dev-server.js';

/**
 * Records the histories of real jobs, once, against a real dev server, into test/replay/histories/ (committed).
 * The replay test runs them against today's workflow code: a change that would break running jobs fails it.
 * Re-record only to add a scenario; a recording made after a breaking change would hide the break.
 * `GPUFLOW_RECORD_SUFFIX=-x npm run replay:record` writes `<name>-x.json` beside the older recordings instead: the
 * histories of today's workflow code, kept before a change that must still replay them.
 */
const SUFFIX = process.env.GPUFLOW_RECORD_SUFFIX ?? '';
const HISTORIES_DIR = fileURLToPath(new URL('./histories/', import.meta.url));

const END_STATUSES = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);

interface Scenario {
  name: string;
  body: object;
  /** What to do while it runs (cancel it, say). */
  during?: (stack: TestStack, id: string) => Promise<void>;
  expectStatus: string;
}

const SCENARIOS: Scenario[] = [
  { name: 'completed-echo', body: { type: 'echo', input: { hello: 'world' } }, expectStatus: 'COMPLETED' },
  {
    name: 'completed-echo-webhook',
    body: { type: 'echo', input: { n: 1 }, webhook: 'http://127.0.0.1:9/hook' },
    expectStatus: 'COMPLETED',
  },
  {
    name: 'retried-then-failed',
    body: { type: 'fail', input: { message: 'boom', retryable: true }, policy: { maxAttempts: 2 } },
    expectStatus: 'FAILED',
  },
  {
    name: 'failed-non-retryable',
    body: { type: 'fail', input: { message: 'bad prompt', retryable: false } },
    expectStatus: 'FAILED',
  },
  // The worker rejects an input that fails the job type's schema: ValidationError, not retried.
  { name: 'failed-validation', body: { type: 'fail', input: { message: 1 } }, expectStatus: 'FAILED' },
  {
    name: 'cancelled-sleep',
    body: { type: 'sleep', input: { seconds: 60 } },
    during: async (stack, id) => {
      await until(stack, id, (view) => view.status === 'IN_PROGRESS' && view.progress !== null);
      await stack.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    },
    expectStatus: 'CANCELLED',
  },
  {
    name: 'timed-out-sleep',
    body: { type: 'sleep', input: { seconds: 60 }, policy: { executionTimeoutMs: 2000, maxAttempts: 1 } },
    expectStatus: 'TIMED_OUT',
  },
  {
    name: 'streamed-tokens',
    body: { type: 'tokens', input: { text: 'one two three four five', delayMs: 100 } },
    expectStatus: 'COMPLETED',
  },
  {
    name: 'artifact-mandelbrot',
    body: { type: 'mandelbrot', input: { width: 32, height: 16, iterations: 50 } },
    expectStatus: 'COMPLETED',
  },
];

async function view(stack: TestStack, id: string): Promise<JobView> {
  return (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
}

const until = (stack: TestStack, id: string, done: (view: JobView) => boolean) =>
  waitFor(() => view(stack, id), done, 60_000);

async function main(): Promise<void> {
  const cliPath = resolveTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH || undefined });
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-record-'));
  const [server, bundle] = await Promise.all([startTemporalDevServer({ cliPath, uiPort: null }), bundleWorkflows()]);
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);
  const stack = await startStack({ address: server.address, workflowBundlePath });
  try {
    await stack.startJobWorker({ jobs: [echo, fail, sleep, tokens, mandelbrot], capacity: 4 });
    mkdirSync(HISTORIES_DIR, { recursive: true });
    const recorded = await Promise.all(
      SCENARIOS.map(async (scenario) => {
        const response = await stack.app.inject({
          method: 'POST',
          url: '/v1/jobs',
          payload: { dedup: false, ...scenario.body },
        });
        if (response.statusCode !== 201) throw new Error(`${scenario.name}: submit answered ${response.body}`);
        const { id } = response.json<JobView>();
        await scenario.during?.(stack, id);
        const end = await until(stack, id, (job) => END_STATUSES.has(job.status));
        if (end.status !== scenario.expectStatus) {
          throw new Error(`${scenario.name}: ended ${end.status}, expected ${scenario.expectStatus}`);
        }
        return { name: scenario.name, workflowId: id };
      }),
    );
    recorded.push({ name: 'job-type-catalog', workflowId: jobTypeCatalogId(stack.controlTaskQueue) });
    for (const { name, workflowId } of recorded) {
      const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
      const file = { workflowId, history: historyToObject(history) };
      writeFileSync(join(HISTORIES_DIR, `${name}${SUFFIX}.json`), `${JSON.stringify(file, null, 1)}\n`);
      process.stdout.write(`${name}: ${history.events?.length ?? 0} events\n`);
    }
  } finally {
    await stack.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
