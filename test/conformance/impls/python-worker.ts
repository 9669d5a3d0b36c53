import { join } from 'node:path';
import { PY_PYTHON, resolvePython } from '../../../scripts/python-env.js';
import { PROJECT_ROOT, isExecutable } from '../../../scripts/temporal-cli.js';
import { runProcess } from '../../support/processes.js';
import { CONFORMANCE_TYPES, startedWorker, type WorkerImpl } from '../worker-impl.js';

const HANDLERS = join(import.meta.dirname, '..', 'handlers');

/** `python -m gpuflow worker <files>` (the `gpuflow-worker` console script) from `.tools/py-venv`. */
export const pythonWorker: WorkerImpl = {
  name: 'python',
  types: CONFORMANCE_TYPES,
  async start({ types, capacity, identity, env, graceSeconds = 30 }) {
    // .ci/run brings the venv up to date (npm run python:install) before the tests; here an existing venv is used as
    // it is, with this checkout's package on PYTHONPATH, so that a test run never reinstalls a venv others share.
    const python = isExecutable(PY_PYTHON) ? PY_PYTHON : resolvePython();
    const files = types.map((type) => join(HANDLERS, `${type.replaceAll('-', '_')}.py`));
    const args = ['-m', 'gpuflow', 'worker', ...files, '--capacity', String(capacity), '--identity', identity];
    const process = runProcess(python, [...args, '--grace', String(graceSeconds)], {
      // This checkout's package first, whatever checkout the shared venv's editable install points at.
      PYTHONPATH: join(PROJECT_ROOT, 'python', 'src'),
      PYTHONUNBUFFERED: '1',
      ...env,
    });
    return startedWorker(identity, process, /serving /);
  },
};
