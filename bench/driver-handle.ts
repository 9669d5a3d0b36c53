import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT, type Proc } from './procs.js';
import type { DriverRequest, DriverResponse, SystemName } from './types.js';

type Request = DriverRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface Driver {
  proc: Proc;
  call<T>(request: Request): Promise<T>;
  /** Closes the client and waits for the process to exit. */
  close(): Promise<void>;
}

/** Forks the driver process of `system` and waits until its client is connected. */
export async function startDriver(system: SystemName, config: Record<string, unknown>): Promise<Driver> {
  const child = fork(fileURLToPath(new URL('./driver.ts', import.meta.url)), [system], {
    cwd: PROJECT_ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_DRIVER_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.once('exit', (code, signal) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${system} driver exited (${code ?? signal})`));
    pending.clear();
  });
  // Sending to a driver that is gone (stopped by Ctrl-C's cleanup) fails that call, not the harness.
  child.on('error', (err) => {
    for (const waiter of pending.values()) waiter.reject(err);
    pending.clear();
  });
  child.on('message', (response: DriverResponse) => {
    const waiter = pending.get(response.id);
    pending.delete(response.id);
    if (response.ok) waiter?.resolve(response.value);
    else waiter?.reject(new Error(`${system} driver: ${response.error}`));
  });
  const ready = new Promise<unknown>((resolve, reject) => pending.set(0, { resolve, reject }));
  const stop = async (graceMs = 5000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const proc: Proc = { name: `${system} driver`, child, pid: child.pid!, stop };
  try {
    await ready;
  } catch (err) {
    await stop(100);
    throw err;
  }
  const call = <T>(request: Request): Promise<T> => {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!child.connected) {
        reject(new Error(`${system} driver is gone`));
        return;
      }
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...request, id });
    });
  };
  return {
    proc,
    call,
    async close() {
      const timeout = setTimeout(() => void stop(), 10_000);
      try {
        await call({ op: 'close' });
        await exited;
      } catch {
        await stop();
      } finally {
        clearTimeout(timeout);
      }
    },
  };
}
