import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePython } from '../../scripts/python-env.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';

/**
 * The Python SDK's own checks, run from `npm test`: pytest (no server: the activity runs under temporalio's
 * ActivityEnvironment), `mypy --strict` and `ruff`. A missing Python fails here with the reason, never skips.
 */
describe('python SDK', () => {
  const python = resolvePython();
  const run = (args: string[]) => {
    const result = spawnSync(python, args, {
      cwd: join(PROJECT_ROOT, 'python'),
      encoding: 'utf8',
      // This checkout's source, whichever worktree's copy the shared venv has installed.
      env: { ...process.env, PYTHONPATH: join(PROJECT_ROOT, 'python', 'src') },
      timeout: 240_000,
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}${result.error?.message ?? ''}` };
  };

  it('passes its pytest unit tests', () => {
    const { status, output } = run(['-m', 'pytest', 'tests', '-q', '-p', 'no:cacheprovider']);
    expect(status, output).toBe(0);
  }, 300_000);

  it('is mypy --strict and ruff clean', () => {
    const mypy = run(['-m', 'mypy', '--strict', '--no-incremental', 'src']);
    expect(mypy.status, mypy.output).toBe(0);
    const ruff = run(['-m', 'ruff', 'check', '--no-cache', 'src', 'tests']);
    expect(ruff.status, ruff.output).toBe(0);
    const format = run(['-m', 'ruff', 'format', '--check', '--no-cache', 'src', 'tests']);
    expect(format.status, format.output).toBe(0);
  }, 300_000);
});
