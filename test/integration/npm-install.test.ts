import { execFile } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { freePort, portInUse } from '../../scripts/temporal-dev-server.js';
import { runGpuflow, runProcess, type GpuflowProcess } from '../support/processes.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

const exec = promisify(execFile);
const listening = (port: number) => portInUse('127.0.0.1', port);

/** A free port for Temporal whose UI port (+1000) is free too. */
async function temporalPorts(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 1000 < 65_536 && !(await listening(port + 1000))) return port;
  }
}

/** Runs a command to its end; a failure carries everything it printed. */
async function run(command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, timeout: timeoutMs, maxBuffer: 16 << 20 });
    return `${stdout}${stderr}`;
  } catch (err) {
    const failed = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${failed.message}\n${failed.stdout}\n${failed.stderr}`, {
      cause: err,
    });
  }
}

/**
 * gpuflow as a user's dependency: `npm pack`, `gpuflow init` of a project that depends on the tarball, one
 * `npm install` from the registry (the npm cache reused), then the scaffold's own test, its typecheck, and a
 * `gpuflow worker` from that install running a job against the test stack's Temporal server and API, and
 * `gpuflow dev` from it serving a job (the installed API and orchestrator, whose workflows are bundled from
 * node_modules/gpuflow).
 */
describe('gpuflow installed from a tarball into a project of its own', () => {
  const suffix = uniqueSuffix();
  const type = `hello-${suffix}`;
  const root = mkdtempSync(join(tmpdir(), 'gpuflow-npm-'));
  const project = join(root, 'my-gpu-jobs');
  let stack: TestStack | undefined;
  let worker: GpuflowProcess | undefined;
  let devGroup: number | undefined;

  beforeAll(async () => {
    const packed = await run('npm', ['pack', '--silent', '--pack-destination', root], PROJECT_ROOT);
    const tarball = join(root, packed.trim().split('\n').at(-1)!);
    const init = runGpuflow(['init', project, '--gpuflow', tarball, '--type', type], {});
    expect(await init.exited, init.output.join('\n')).toBe(0);
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], project, 300_000);
  }, 360_000);
  afterAll(async () => {
    if (devGroup !== undefined) process.kill(-devGroup, 'SIGKILL');
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await stack?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('installs a copy of the package, with no link back to this checkout and no devDependencies', () => {
    const installed = join(project, 'node_modules', 'gpuflow');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(realpathSync(installed).startsWith(PROJECT_ROOT)).toBe(false);
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies.gpuflow).toMatch(/^file:\.\.\/gpuflow-\d+\.\d+\.\d+\.tgz$/);
    const present = new Set(readdirSync(join(project, 'node_modules')));
    for (const dev of ['vitest', 'eslint', '@temporalio/testing']) expect(present.has(dev), dev).toBe(false);
  });

  it("passes the scaffold's own test (runLocal from gpuflow/testing) and its typecheck", async () => {
    const tested = await run('npm', ['test'], project);
    expect(tested).toMatch(/# pass 2/);
    expect(tested).toMatch(/# fail 0/);
    await run('npm', ['run', 'typecheck'], project);
  }, 180_000);

  it('runs a job on a `gpuflow worker` started from the installed package', async () => {
    stack = await startStack();
    worker = runProcess(
      join(project, 'node_modules', '.bin', 'gpuflow'),
      ['worker', `jobs/${type}.ts`, '--identity', `installed-${suffix}`],
      { TEMPORAL_ADDRESS: inject('temporalAddress') },
      { cwd: project },
    );
    await worker.waitForLine(new RegExp(`serving ${type}`), 90_000);
    const submitted = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type, input: { name: 'Ada', steps: 2 }, dedup: false },
    });
    expect(submitted.statusCode).toBe(201);
    const done = await waitFor(
      async () =>
        (await stack!.app.inject({ method: 'GET', url: `/v1/jobs/${submitted.json<JobView>().id}` })).json<JobView>(),
      (view) => view.status === 'COMPLETED' || view.status === 'FAILED',
      60_000,
    );
    expect(done).toMatchObject({
      status: 'COMPLETED',
      output: { greeting: 'Hello, Ada!', attempt: 1 },
      workerId: `installed-${suffix}`,
    });
  }, 150_000);

  it('serves a job through `gpuflow dev` from the installed package (its API, orchestrator and worker)', async () => {
    const temporalPort = await temporalPorts();
    const apiPort = await freePort();
    const dev = runProcess(
      join(project, 'node_modules', '.bin', 'gpuflow'),
      ['dev', `jobs/${type}.ts`],
      {
        GPUFLOW_TEMPORAL_PORT: String(temporalPort),
        GPUFLOW_API_PORT: String(apiPort),
        TEMPORAL_CLI_PATH: inject('temporalCliPath'),
      },
      { cwd: project, detached: true },
    );
    devGroup = dev.child.pid;
    await dev.waitForLine(/gpuflow dev stack is up/, 150_000);
    const res = await fetch(`http://127.0.0.1:${apiPort}/v1/jobs?wait=60000`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type, input: { name: 'dev', steps: 1 }, dedup: false }),
    });
    expect(await res.json()).toMatchObject({ status: 'COMPLETED', output: { greeting: 'Hello, dev!' } });
    process.kill(-devGroup!, 'SIGINT');
    await dev.exited;
    devGroup = undefined;
    const ports = () => Promise.all([temporalPort, temporalPort + 1000, apiPort].map(listening));
    expect(await waitFor(ports, (open) => open.every((isOpen) => !isOpen), 30_000)).toEqual([false, false, false]);
  }, 240_000);

  it('refuses to init into a directory that is not empty, naming what is there', async () => {
    const refused = runGpuflow(['init', project], {});
    expect(await refused.exited).toBe(2);
    expect(refused.output.join('\n')).toMatch(
      /my-gpu-jobs is not empty \(\.\w+, .+\): gpuflow init writes a new project only into an empty or missing/,
    );
  });

  it('writes into a missing directory, with the job type from its name and this checkout as the default dependency', async () => {
    const fresh = join(root, 'Upscale_Jobs');
    const made = runGpuflow(['init', fresh], {});
    expect(await made.exited, made.output.join('\n')).toBe(0);
    const manifest = JSON.parse(readFileSync(join(fresh, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies.gpuflow).toMatch(/^file:(\.\.\/)+/);
    expect(realpathSync(join(fresh, manifest.dependencies.gpuflow!.slice('file:'.length)))).toBe(
      realpathSync(PROJECT_ROOT),
    );
    expect(readFileSync(join(fresh, 'jobs', 'upscale-jobs.ts'), 'utf8')).toContain("type: 'upscale-jobs'");
    mkdirSync(join(root, 'empty'));
    const intoEmpty = runGpuflow(['init', join(root, 'empty'), '--type', 'caption'], {});
    expect(await intoEmpty.exited, intoEmpty.output.join('\n')).toBe(0);
    expect(readdirSync(join(root, 'empty', 'jobs'))).toContain('caption.ts');
    writeFileSync(join(root, 'a-file'), '');
    const onFile = runGpuflow(['init', join(root, 'a-file')], {});
    expect(await onFile.exited).toBe(2);
    expect(onFile.output.join('\n')).toMatch(/a-file exists and is not a directory/);
  });
});
