import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Things to undo when the run ends, failed or interrupted: run last-in first-out, each at most once. */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<void> | void }[] = [];

  add(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  private running: Promise<void> | undefined;

  /** Runs every step; callers at the same time (Ctrl-C during a failing run) share one pass. */
  runAll(): Promise<void> {
    this.running ??= this.runSteps().finally(() => (this.running = undefined));
    return this.running;
  }

  private async runSteps(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.run();
      } catch (err) {
        process.stderr.write(`bench: cleanup "${step.name}" failed: ${String(err)}\n`);
      }
    }
  }
}

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** SIGTERM, SIGKILL after `graceMs`; resolves when it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns a process whose output is kept (last 64 KiB) and shown if it dies before it is stopped: a benchmark that
 * silently loses its worker would measure nothing. `group`: the process leads its own process group, and `stop`
 * signals the whole group (the runpod SDK's ping process outlives its main process).
 */
export function startProc(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { group?: boolean } = {},
): Proc {
  const child = spawn(command, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group ?? false,
  });
  const kill = (signal: NodeJS.Signals): void => {
    try {
      if (options.group && child.pid !== undefined) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      // already gone
    }
  };
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let stopping = false;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`bench: ${name} exited unexpectedly (${code ?? signal}):\n${output}\n`);
  });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  return {
    name,
    child,
    pid: child.pid,
    async stop(graceMs = 5000) {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) {
        if (options.group) kill('SIGKILL');
        return;
      }
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // What is left of the group (a child that ignored SIGTERM) goes too.
      if (options.group) kill('SIGKILL');
    },
  };
}

/** A TypeScript entry of this repository run by node through tsx. */
export function startTsProc(name: string, script: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  return startProc(name, process.execPath, ['--import', 'tsx', script, ...args], env);
}

/** Resident set of a process now, MiB; undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Polls the resident set of some processes every `periodMs` and keeps each one's peak. */
export function sampleRss(pids: ReadonlyMap<string, number>, periodMs = 100) {
  const peaks = new Map<string, number>();
  const sample = (): void => {
    for (const [role, pid] of pids) {
      const mb = rssMb(pid);
      if (mb !== undefined) peaks.set(role, Math.max(peaks.get(role) ?? 0, mb));
    }
  };
  sample();
  const timer = setInterval(sample, periodMs);
  return {
    stop(): Map<string, number> {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/** Retries `probe` until it resolves truthy, or fails after `timeoutMs` with `what` and the last error. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms${last ? `: ${last}` : ''}`);
}
