import { join } from 'node:path';
import { runGpuflow } from '../../support/processes.js';
import { CONFORMANCE_TYPES, startedWorker, type WorkerImpl } from '../worker-impl.js';

const HANDLERS = join(import.meta.dirname, '..', 'handlers');

/** `gpuflow worker <modules>`: the TypeScript worker, serving the TS handler modules. */
export const tsWorker: WorkerImpl = {
  name: 'typescript',
  types: CONFORMANCE_TYPES,
  async start({ types, capacity, identity, env, graceSeconds = 30 }) {
    const modules = types.map((type) => join(HANDLERS, `${type}.ts`));
    const args = ['worker', ...modules, '--capacity', String(capacity), '--identity', identity];
    const process = runGpuflow([...args, '--grace', String(graceSeconds)], env);
    return startedWorker(identity, process, /serving /);
  },
};
