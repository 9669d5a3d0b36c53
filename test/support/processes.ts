import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';

export const BIN = join(PROJECT_ROOT, 'bin', 'gpuflow.js');

export interface GpuflowProcess {
  child: ChildProcess;
  /** Every line printed so far, stdout and stderr. */
  output: string[];
  /** Resolves with the first line that matches, or rejects with the output when it does not come in time. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | NodeJS.Signals>;
}

/** Runs `gpuflow <args>` as users do, from the bin script, with extra environment variables. */
export function runGpuflow(
  args: string[],
  env: Record<string, string>,
  options: { detached?: boolean; stdin?: 'ignore' | 'pipe' } = {},
): GpuflowProcess {
  return runProcess(process.execPath, [BIN, ...args], env, options);
}

/** Runs any command (a Python worker, say) with extra environment variables, its output collected line by line. */
export function runProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  options: { detached?: boolean; cwd?: string; stdin?: 'ignore' | 'pipe' } = {},
): GpuflowProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...env },
    // A pipe for gpuflow's GPUFLOW_DEV_CHILD: the child stops itself when this process dies, even by SIGKILL.
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    // A process group of its own, as a shell gives a foreground job: the test can then signal the whole group.
    detached: options.detached ?? false,
  });
  const output: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      for (const waiter of waiters) {
        if (waiter.pattern.test(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    });
  }
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | NodeJS.Signals);
  return {
    child,
    output,
    exited,
    waitForLine(pattern, timeoutMs = 60_000) {
      const seen = output.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { pattern, resolve };
        waiters.add(waiter);
        const fail = (why: string) => {
          waiters.delete(waiter);
          reject(new Error(`${why} while waiting for ${pattern}; output:\n${output.slice(-40).join('\n')}`));
        };
        const timer = setTimeout(() => fail(`no match in ${timeoutMs} ms`), timeoutMs);
        void exited.then((code) => {
          clearTimeout(timer);
          if (waiters.has(waiter)) fail(`process exited (${code})`);
        });
        const originalResolve = waiter.resolve;
        waiter.resolve = (line) => {
          clearTimeout(timer);
          originalResolve(line);
        };
      });
    },
  };
}

/** The pids of the processes `gpuflow dev` started, from its output (`[dev] worker started (pid 123)`). */
export function devProcessPids(output: string): number[] {
  return [...output.matchAll(/^\[dev\] .*\(pid (\d+)\)$/gm)].map((match) => Number(match[1]));
}

export { isRunning } from '../../scripts/pid-alive.js';
