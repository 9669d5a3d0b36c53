import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../scripts/temporal-dev-server.js';
import { BIN, runGpuflow, type GpuflowProcess } from '../support/processes.js';
import { waitFor } from '../support/stack.js';

const run = promisify(execFile);

/**
 * The process entries as an operator starts them (`gpuflow api`, `gpuflow orchestrator`, `gpuflow worker`) and the
 * `gpuflow submit|status|cancel|retry` client, all against the shared Temporal server. This file is the only user of the
 * default control task queue on that server.
 */
describe('gpuflow api + orchestrator + worker processes and the CLI client', () => {
  const processes: GpuflowProcess[] = [];
  let env: Record<string, string>;
  const gpuflow = async (...args: string[]) =>
    JSON.parse((await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } })).stdout) as Record<
      string,
      unknown
    >;

  beforeAll(async () => {
    const port = await freePort();
    env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      GPUFLOW_API_PORT: String(port),
      GPUFLOW_API_URL: `http://127.0.0.1:${port}`,
      GPUFLOW_API_KEYS: 'cli-test-key-0123456789:admin',
      GPUFLOW_API_KEY: 'cli-test-key-0123456789',
    };
    const api = runGpuflow(['api'], env);
    const orchestrator = runGpuflow(['orchestrator'], env);
    const worker = runGpuflow(
      ['worker', ...['echo', 'sleep', 'fail', 'tokens'].map((job) => `examples/jobs/${job}.ts`), '--capacity', '2'],
      env,
    );
    processes.push(api, orchestrator, worker);
    await Promise.all([
      api.waitForLine(/Server listening/),
      orchestrator.waitForLine(/orchestrator: running job workflows/),
      worker.waitForLine(/serving echo, sleep, fail, tokens/),
    ]);
  });
  afterAll(async () => {
    for (const proc of processes) if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
    await Promise.all(processes.map((proc) => proc.exited));
  });

  it('submits and waits, shows status, cancels, and reports API errors with their code', async () => {
    const done = await gpuflow('submit', 'echo', JSON.stringify({ from: 'cli' }), '--no-dedup', '--wait', '--json');
    expect(done).toMatchObject({ status: 'COMPLETED', output: { from: 'cli' }, deduplicated: false });
    expect(await gpuflow('status', String(done.id), '--json')).toMatchObject({ id: done.id, status: 'COMPLETED' });

    const sleeping = await gpuflow('submit', 'sleep', '{"seconds":120}', '--no-dedup', '--json');
    const cancelled = await gpuflow('cancel', String(sleeping.id));
    expect(cancelled.id).toBe(sleeping.id);
    await waitFor(
      () => gpuflow('status', String(sleeping.id), '--json'),
      (v) => v.status === 'CANCELLED',
    );
    const retried = await gpuflow('retry', String(sleeping.id));
    expect(retried).toMatchObject({
      id: sleeping.id,
      status: expect.stringMatching(/^IN_(QUEUE|PROGRESS)$/) as unknown,
    });
    await gpuflow('cancel', String(sleeping.id));
    await expect(
      run(process.execPath, [BIN, 'status', 'echo-missing'], { env: { ...process.env, ...env } }),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('404 GPUFLOW_ERR_JOB_NOT_FOUND') as unknown,
    });
  });

  /** Runs `gpuflow <args>` under a pseudo-terminal (util-linux `script`): what a user's screen receives. */
  const onTerminal = async (...args: string[]) => {
    const command = [process.execPath, BIN, ...args].map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(' ');
    return run('script', ['-qefc', command, '/dev/null'], { env: { ...process.env, ...env } }).then(
      ({ stdout }) => ({ code: 0, screen: stdout }),
      (err: { code: number; stdout: string }) => ({ code: err.code, screen: err.stdout }),
    );
  };
  const offTerminal = async (...args: string[]) =>
    run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({
        code: err.code,
        stdout: err.stdout,
        stderr: err.stderr,
      }),
    );

  it('submit --wait on a terminal draws a live bar: percent, status, elapsed, message; then the output', async () => {
    const { code, screen } = await onTerminal('submit', 'sleep', '{"seconds":3}', '--no-dedup', '--wait');
    expect(code).toBe(0);
    // Frames of the bar, redrawn in place (carriage return / cursor to column 1), as the job moves.
    expect(screen).toMatch(/[█░]{24} 0% \| IN_QUEUE \| \d+s \| waiting for a worker/);
    expect(screen).toMatch(/[█░]{24} (3[0-9]|6[0-9])% \| IN_PROGRESS \| \d+s \| slept [12] of 3 s/);
    expect(screen).toMatch(/█{24} 100% \| COMPLETED \| \d+s/);
    expect(screen).toMatch(/sleep-\S+ COMPLETED, attempt 1, ran 3\.\ds, on \S+ \(waited/);
    expect(screen).toContain('"slept": 3');
  });

  it('submit --wait on a terminal shows a FAILED job’s error and exits 1', async () => {
    const { code, screen } = await onTerminal(
      'submit',
      'fail',
      '{"retryable":false,"message":"CUDA OOM"}',
      '--no-dedup',
      '--wait',
    );
    expect(code).toBe(1);
    expect(screen).toMatch(/FAILED \| \d+s \| JobError: CUDA OOM/);
    expect(screen).toMatch(/fail-\S+ FAILED, attempt 1[^\n]*\n\s*error: JobError: CUDA OOM \(not retryable\)/);
  });

  it('submit --wait off a terminal prints a plain line per change; TIMED_OUT exits 3, CANCELLED exits 4', async () => {
    const slept = await offTerminal('submit', 'sleep', '{"seconds":3}', '--no-dedup', '--wait');
    expect(slept.code).toBe(0);
    expect(['\r', '\u001b'].filter((control) => slept.stderr.includes(control))).toEqual([]);
    expect(slept.stderr).toMatch(/^\[\s*\d+(ms|\.\ds)\] sleep-\S+ IN_QUEUE waiting for a worker$/m);
    expect(slept.stderr).toMatch(/^\[\s*\d+\.\ds\] sleep-\S+ IN_PROGRESS \d+% slept [12] of 3 s$/m);
    expect(slept.stderr).toMatch(/^\[\s*\d+\.\ds\] sleep-\S+ COMPLETED$/m);
    expect(JSON.parse(slept.stdout)).toEqual({ slept: 3, resumedFrom: 0 });

    const policy = JSON.stringify({ executionTimeoutMs: 1000, maxAttempts: 1 });
    const timedOut = await offTerminal('submit', 'sleep', '{"seconds":60}', '--no-dedup', '--wait', '--policy', policy);
    expect(timedOut.code).toBe(3);
    expect(timedOut.stderr).toMatch(/TIMED_OUT, attempt 1.*\n\s*error: ExecutionTimeout: /);

    const waiting = runGpuflow(['submit', 'sleep', '{"seconds":60}', '--no-dedup', '--wait'], env);
    const line = await waiting.waitForLine(/IN_PROGRESS/);
    await gpuflow('cancel', /(sleep-\S+)/.exec(line)![1]!);
    expect(await waiting.exited).toBe(4);
    expect(waiting.output.join('\n')).toMatch(/sleep-\S+ CANCELLED/);
  });

  it('says plainly when the API is down, and exits 5', async () => {
    const port = await freePort();
    const down = await run(process.execPath, [BIN, 'submit', 'echo', '{}', '--wait'], {
      env: { ...process.env, ...env, GPUFLOW_API_URL: `http://127.0.0.1:${port}` },
    }).catch((err: { code: number; stderr: string }) => err);
    expect(down).toMatchObject({
      code: 5,
      stderr: `gpuflow: cannot reach the gpuflow API at http://127.0.0.1:${port}: connection refused; is \`npm run dev\` running? (set GPUFLOW_API_URL for another address)\n`,
    });
  });

  it('lists jobs as a table or JSON, filtered, and prints a stream’s chunks as they come', async () => {
    const submitted = await offTerminal(
      'submit',
      'fail',
      '{"retryable":false,"message":"listed"}',
      '--no-dedup',
      '--wait',
      '--json',
    );
    expect(submitted.code).toBe(1);
    const failed = JSON.parse(submitted.stdout) as { id: string; status: string };
    expect(failed.status).toBe('FAILED');
    const table = await offTerminal('list', '--type', 'fail', '--status', 'failed', '--limit', '5');
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+TYPE\s+STATUS\s+ATTEMPT\s+CREATED\s+RAN\s+ERROR$/);
    expect(rows.find((row) => row.startsWith(String(failed.id)))).toMatch(
      /\s+fail\s+FAILED\s+1\s+.* ago\s+.*JobError: listed/,
    );
    expect(rows.every((row) => /\sFAILED\s/.test(row))).toBe(true);
    const listed = (await gpuflow('list', '--type', 'fail', '--json')) as { jobs: { id: string }[] };
    expect(listed.jobs.map((job) => job.id)).toContain(failed.id);

    const tokens = await gpuflow('submit', 'tokens', '{"text":"one two three","delayMs":400}', '--no-dedup', '--json');
    const streamed = await offTerminal('stream', String(tokens.id));
    expect(streamed).toMatchObject({ code: 0, stdout: 'one\ntwo\nthree\n' });
    const ndjson = await offTerminal('stream', String(tokens.id), '--json');
    expect(
      ndjson.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { seq: 1, attempt: 1, data: 'one' },
      { seq: 2, attempt: 1, data: 'two' },
      { seq: 3, attempt: 1, data: 'three' },
    ]);
  });

  it('exits with every bad environment variable named', async () => {
    await expect(
      run(process.execPath, [BIN, 'api'], {
        env: { ...process.env, GPUFLOW_API_PORT: 'x', GPUFLOW_LOG_LEVEL: 'loud' },
      }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/GPUFLOW_API_PORT[\s\S]*GPUFLOW_LOG_LEVEL/) as unknown,
    });
  });

  it('on SIGTERM, ends a ?wait at once with the current view and closes the API within a few seconds', async () => {
    const headers = { authorization: `Bearer ${env.GPUFLOW_API_KEY}`, 'content-type': 'application/json' };
    const submitted = await fetch(`${env.GPUFLOW_API_URL}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'sleep', input: { seconds: 20 }, dedup: false }),
    });
    const job = (await submitted.json()) as { id: string };
    await waitFor(
      () => gpuflow('status', job.id, '--json'),
      (v) => v.status === 'IN_PROGRESS',
    );
    const waiting = fetch(`${env.GPUFLOW_API_URL}/v1/jobs/${job.id}?wait=300000`, { headers });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [api] = processes;
    const signalledAt = Date.now();
    api!.child.kill('SIGTERM');
    const answer = await waiting;
    const answeredAfterMs = Date.now() - signalledAt;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ id: job.id, status: 'IN_PROGRESS' });
    expect(await api!.exited).toBe(0);
    const closedAfterMs = Date.now() - signalledAt;
    // The job runs 20 s: waiting for it would take about 19 s. Generous for a loaded machine.
    expect(answeredAfterMs).toBeLessThan(5000);
    expect(closedAfterMs).toBeLessThan(8000);
    const client = new Client({ connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS }) });
    await client.workflow.getHandle(job.id).cancel();
    await client.connection.close();
  });

  it('drains every process on SIGTERM and exits 0', async () => {
    for (const proc of processes) if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
    expect(await Promise.all(processes.map((proc) => proc.exited))).toEqual([0, 0, 0]);
  });
});
