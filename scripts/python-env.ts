import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT, isExecutable } from './temporal-cli.js';

/**
 * The Python environment of the Python SDK and of the RunPod compatibility tests: a venv under `.tools/py-venv`
 * with `python/requirements-dev.lock` (every package pinned, the real `runpod` from PyPI among them) and the
 * `gpuflow` package from `python/` installed on top, editable. Rebuilt when the lock or pyproject.toml changes.
 */
export const PY_VENV = join(PROJECT_ROOT, '.tools', 'py-venv');
export const PY_PYTHON = join(PY_VENV, 'bin', 'python');
const LOCK = join(PROJECT_ROOT, 'python', 'requirements-dev.lock');
const PYPROJECT = join(PROJECT_ROOT, 'python', 'pyproject.toml');
const STAMP = join(PY_VENV, '.gpuflow-stamp');

function fingerprint(): string {
  const hash = createHash('sha256').update(readFileSync(LOCK));
  if (existsSync(PYPROJECT)) hash.update(readFileSync(PYPROJECT));
  return hash.digest('hex');
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(
      `could not set up the Python environment: ${command} ${args.join(' ')} exited with ` +
        `${result.status ?? result.signal}. It needs python3 (3.11+) with venv, and PyPI.`,
    );
  }
}

/** `.tools/py-venv/bin/python`, installed or brought up to date first; `GPUFLOW_PYTHON` instead when set. */
export function resolvePython(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): string {
  // An interpreter managed by hand (the lock's packages installed, gpuflow importable): used as it is.
  if (process.env.GPUFLOW_PYTHON) return process.env.GPUFLOW_PYTHON;
  const wanted = fingerprint();
  if (isExecutable(PY_PYTHON) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === wanted) return PY_PYTHON;
  log('Python environment missing or out of date: installing python/requirements-dev.lock into .tools/py-venv ...');
  mkdirSync(join(PROJECT_ROOT, '.tools'), { recursive: true });
  if (!isExecutable(PY_PYTHON)) run('python3', ['-m', 'venv', PY_VENV]);
  const pip = ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet'];
  run(PY_PYTHON, [...pip, '-r', LOCK]);
  if (existsSync(PYPROJECT))
    run(PY_PYTHON, [...pip, '--no-deps', '--no-build-isolation', '-e', join(PROJECT_ROOT, 'python')]);
  writeFileSync(STAMP, wanted);
  return PY_PYTHON;
}

// `tsx scripts/python-env.ts` installs it (if needed) and prints the interpreter: CI runs it before the tests.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${resolvePython()}\n`);
}
