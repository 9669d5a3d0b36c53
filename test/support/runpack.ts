import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { JobView } from '../../contracts/job.js';
import { resolvePython } from '../../scripts/python-env.js';
import { startStack, waitFor, type TestStack } from './stack.js';

export const SUBMIT_KEY = 'runpack-submit-key-0123456789';
export const OTHER_SUBMIT_KEY = 'runpack-submit-key-other-0123';
export const RUNNER_KEY = 'runpack-runner-key-0123456789';
export const ADMIN_KEY = 'runpack-admin-key-01234567890';
/** Used by the 429 test alone: budgets are per key. */
export const RATE_KEY = 'runpack-rate-key-012345678901';
export const OTHER_TENANT_KEY = 'runpack-tenant-key-0123456789';
const RUNNER = fileURLToPath(new URL('../fixtures/runpack_runner.py', import.meta.url));
export const THRESHOLD_MS = 3000;
export const CLAIM_WINDOW_MS = 1500;

export type Runner = ChildProcess & { events: Record<string, unknown>[] };

/** Any answer of the Runpack routes, read as loosely as a Runpack client reads it. */
export interface Answer {
  [field: string]: unknown;
  job_id: string;
  job_type: string;
  status: string;
  code: string;
  message: string;
  runner_id: string;
  name: string;
  error_message: string;
  console_output: string;
  progress_current: number;
  output_data: unknown;
  id: string;
  jobs: Answer[];
  runners: Answer[];
}

/**
 * A stack with the Runpack face (a 3 s heartbeat threshold, a 1.5 s claim window, small limits), listening on
 * 127.0.0.1, and the seed-only runner (test/fixtures/runpack_runner.py, urllib only) as processes of their own.
 */
export async function startRunpackStack() {
  const python = resolvePython();
  const stack: TestStack = await startStack({
    apiKeys: [
      { key: SUBMIT_KEY, role: 'submit' },
      { key: OTHER_SUBMIT_KEY, role: 'submit' },
      { key: RUNNER_KEY, role: 'worker' },
      { key: ADMIN_KEY, role: 'admin' },
      { key: RATE_KEY, role: 'admin' },
      { key: OTHER_TENANT_KEY, role: 'submit', tenant: 'other' },
    ],
    gateway: { holdMs: 5000 },
    api: {
      runpack: {
        heartbeatThresholdMs: THRESHOLD_MS,
        claimWindowMs: CLAIM_WINDOW_MS,
        availableWaitMs: 1000,
        rateLimits: { check: { max: 3, windowMs: 60_000 } },
        maxInputBytes: 4096,
        maxOutputBytes: 65_536,
        maxConsoleBytes: 2048,
      },
    },
  });
  const base = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  const children = new Set<ChildProcess>();

  function startRunner(name: string, types: string[], env: Record<string, string> = {}): Runner {
    const child = spawn(python, [RUNNER], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        RUNPACK_URL: base,
        RUNNER_API_KEY: RUNNER_KEY,
        RUNNER_NAME: name,
        RUNNER_TYPES: types.join(','),
        ...env,
      },
    }) as Runner;
    child.events = [];
    let rest = '';
    child.stdout?.on('data', (data: Buffer) => {
      const lines = (rest + data.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line) child.events.push(JSON.parse(line) as Record<string, unknown>);
    });
    children.add(child);
    return child;
  }

  async function api(method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text ? JSON.parse(text) : null) as Answer,
    };
  }

  const runpackJob = (id: string) => api('GET', `/api/jobs/${id}`, SUBMIT_KEY);
  const gpuflowJob = async (id: string) => (await api('GET', `/v1/jobs/${id}`, SUBMIT_KEY)).body as unknown as JobView;

  async function untilStatus(id: string, status: string, timeoutMs = 60_000): Promise<Answer> {
    return (
      await waitFor(
        () => runpackJob(id),
        (job) => job.body.status === status,
        timeoutMs,
      )
    ).body;
  }

  const stop = async (): Promise<void> => {
    for (const child of children) child.kill('SIGKILL');
    await stack.stop();
  };
  return { stack, api, startRunner, runpackJob, gpuflowJob, untilStatus, stop };
}

export type RunpackHarness = Awaited<ReturnType<typeof startRunpackStack>>;
