import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning } from '../scripts/pid-alive.js';

export interface DevChild {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * Starts a child of `gpuflow dev` in a process group of its own (a terminal's Ctrl-C then reaches dev alone, which
 * stops the children in order), with its output prefixed by its name, and with stdin a pipe from dev so that it
 * stops itself when dev dies (see `stopWhenParentExits`).
 */
export function spawnDevChild(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  write: (text: string) => void = (text) => void process.stdout.write(text),
): DevChild {
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => write(`[${name}] ${line}\n`));
  }
  const exited = new Promise<void>((done) => {
    child.once('exit', () => done());
    child.once('error', () => done());
  });
  return { name, child, exited };
}

/**
 * A Temporal dev server that a `gpuflow dev` killed outright left behind holds the ports and the SQLite file. It
 * stops by itself a few seconds later (`stopAfterParentS`); a dev started sooner, or one after a server that hung,
 * finds its pid in `pidFile` and stops it, if it is still that server (checked on /proc where there is one).
 */
export async function reapStaleServer(pidFile: string, log: (line: string) => void): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return;
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync(cmdline) || !readFileSync(cmdline, 'utf8').includes('start-dev')) return;
  log(`stopping the Temporal dev server (pid ${pid}) that an earlier gpuflow dev left running`);
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; isRunning(pid) && waited < 10_000; waited += 100) await sleep(100);
  if (isRunning(pid)) process.kill(pid, 'SIGKILL');
}

export function writePidFile(pidFile: string, pid: number | undefined): void {
  if (pid !== undefined) writeFileSync(pidFile, `${pid}\n`);
}
