import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { freePort, portInUse } from '../../scripts/temporal-dev-server.js';
import { BIN, devProcessPids, isRunning } from '../support/processes.js';
import { waitFor } from '../support/stack.js';

const listening = (port: number) => portInUse('127.0.0.1', port);

async function temporalPorts(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 1000 < 65_536 && !(await listening(port + 1000))) return port;
  }
}

/** A job module of the user's own, in a folder of their own; `greeting` is what its output says. */
const helloModule = (greeting: string) =>
  `import { z } from ${JSON.stringify(join(PROJECT_ROOT, 'node_modules', 'zod', 'index.js'))};\n` +
  `import { defineJob } from ${JSON.stringify(join(PROJECT_ROOT, 'sdk', 'index.ts'))};\n` +
  `export default defineJob({ type: 'hello', input: z.object({}), handler: () => ({ greeting: ${JSON.stringify(greeting)} }) });\n`;

describe('gpuflow dev ./my-jobs/*.ts --watch, piped through tee', () => {
  const home = mkdtempSync(join(tmpdir(), 'gpuflow-dev-own-'));
  let group: number | undefined;
  afterAll(() => {
    if (group !== undefined) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('runs the user’s modules, restarts the worker on a change, and Ctrl-C through a pipe stops every process', async () => {
    const temporalPort = await temporalPorts();
    const apiPort = await freePort();
    const jobsDir = join(home, 'my-jobs');
    mkdirSync(jobsDir);
    // A folder of the user's own is an ES module project, as `npm init` + `"type": "module"` makes it.
    writeFileSync(join(home, 'package.json'), '{ "type": "module" }\n');
    const module = join(jobsDir, 'hello.ts');
    writeFileSync(module, helloModule('v1'));
    const log = join(home, 'dev.log');
    const api = `http://127.0.0.1:${apiPort}`;
    const shell = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" dev my-jobs/hello.ts --watch | tee dev.log`], {
      cwd: home,
      env: {
        ...process.env,
        GPUFLOW_DATA_DIR: join(home, '.data'),
        GPUFLOW_TEMPORAL_PORT: String(temporalPort),
        GPUFLOW_API_PORT: String(apiPort),
        TEMPORAL_CLI_PATH: inject('temporalCliPath'),
      },
      // A process group of its own, as a shell gives a foreground pipeline: Ctrl-C signals all of it.
      detached: true,
      stdio: 'ignore',
    });
    group = shell.pid;
    const exited = once(shell, 'exit');
    const logText = () => Promise.resolve(existsSync(log) ? readFileSync(log, 'utf8') : '');
    await waitFor(logText, (text) => text.includes('gpuflow dev stack is up'), 120_000);
    expect(await logText()).toMatch(/job modules {4}my-jobs\/hello\.ts/);

    const run = async (): Promise<JobView> => {
      const res = await fetch(`${api}/v1/jobs?wait=60000`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'hello', input: {}, dedup: false }),
      });
      return (await res.json()) as JobView;
    };
    expect(await run()).toMatchObject({ status: 'COMPLETED', output: { greeting: 'v1' } });

    writeFileSync(module, helloModule('v2'));
    await waitFor(
      logText,
      (text) => /my-jobs\/hello\.ts changed: restarting the worker[\s\S]*serving hello/.test(text),
      60_000,
    );
    expect(await run()).toMatchObject({ status: 'COMPLETED', output: { greeting: 'v2' } });

    // Ctrl-C: SIGINT to the whole pipeline. tee dies at once, so dev's stdout is a broken pipe from then on.
    process.kill(-shell.pid!, 'SIGINT');
    await exited;
    const ports = () => Promise.all([temporalPort, temporalPort + 1000, apiPort].map(listening));
    expect(await waitFor(ports, (open) => open.every((isOpen) => !isOpen), 30_000)).toEqual([false, false, false]);
    // Every process dev started is gone, the worker it restarted too (a worker holds no port to tell).
    const pids = devProcessPids(await logText());
    expect(pids).toHaveLength(5);
    expect(pids.filter(isRunning)).toEqual([]);
  }, 240_000);
});
