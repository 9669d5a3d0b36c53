import { join } from 'node:path';
import { PY_PYTHON, resolvePython } from '../../scripts/python-env.js';
import { isExecutable } from '../../scripts/temporal-cli.js';
import { PROJECT_ROOT, type Proc } from '../procs.js';
import type { ProcessRole } from '../types.js';
import { createGpuflowClient, startGpuflowStack } from './gpuflow.js';
import { stopAll, type SystemDefinition } from './system.js';

/** The Python interpreter of `.tools/py-venv`, as the conformance suite uses it (installed when missing). */
export function benchPython(): string {
  return isExecutable(PY_PYTHON) ? PY_PYTHON : resolvePython();
}

/** This checkout's Python package first, whatever checkout the shared venv's editable install points at. */
export const PYTHON_ENV = { PYTHONPATH: join(PROJECT_ROOT, 'python', 'src'), PYTHONUNBUFFERED: '1' };

/** The same gpuflow stack, its job workers `gpuflow-worker` (Python) with the Python twins of the bench jobs. */
export const gpuflowPython: SystemDefinition = {
  name: 'gpuflow-python',
  settings:
    'gpuflow defaults, job workers `gpuflow-worker` (python -m gpuflow worker, .tools/py-venv); no-op: a sync ' +
    'handler (run in a thread), 10 ms job: async',
  workloads: ['latency', 'throughput', 'dispatch-gap', 'memory'],

  async start(context) {
    const python = benchPython();
    const stack = await startGpuflowStack(context);
    const pyWorker = (name: string, file: string, capacity: number): Proc =>
      stack.start(
        name,
        python,
        ['-m', 'gpuflow', 'worker', `bench/jobs/python/${file}`, '--capacity', String(capacity), '--grace', '1'],
        PYTHON_ENV,
      );
    const worker = pyWorker('gpuflow-worker (python)', 'noop.py', context.capacity);
    const processes = new Map<ProcessRole, Proc>([
      ['client', stack.api],
      ['worker', worker],
      ['orchestrator', stack.orchestrator],
    ]);
    return {
      processes,
      driverConfig: { apiUrl: stack.apiUrl },
      startTickWorker: async () => pyWorker('gpuflow-worker (python) tick', 'tick.py', 1),
      stop: () => stopAll(processes.values()),
    };
  },

  createClient: createGpuflowClient,
};
