import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runLocal } from '../workers/run-local.js';
import { loadJobModules } from '../workers/load-job-modules.js';

/**
 * `gpuflow test <module> --type T --input '{...}'`: runs one job in this process, without Temporal, printing its
 * progress, log lines, stream chunks and artifacts to stderr and its output to stdout (RunPod's `--test_input`).
 * Without `--input`, `test_input.json` beside the module is read (`{"input": ...}` is unwrapped).
 * @returns the exit code: 0 when the job completed, 1 when it failed.
 */
export async function runLocalTest(modules: string[], options: { type?: string; input?: string }): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const jobs = await loadJobModules(modules);
  const job = options.type ? jobs.find((candidate) => candidate.type === options.type) : jobs[0];
  if (!job || (!options.type && jobs.length > 1)) {
    throw new Error(
      options.type
        ? `no job type "${options.type}" in ${modules.join(', ')} (they define ${jobs.map((j) => j.type).join(', ')})`
        : 'the modules define several job types: choose one with --type',
    );
  }
  const result = await runLocal(job, JSON.parse(options.input ?? readBeside(modules[0]!)), { print: say });
  if (result.error) {
    const { type, message, retryable } = result.error;
    say(`error: ${type}: ${message} (${retryable ? 'retryable' : 'not retryable'})`);
    return 1;
  }
  process.stdout.write(`${JSON.stringify(result.output ?? null, null, 2)}\n`);
  return 0;
}

function readBeside(module: string): string {
  const path = join(dirname(resolve(module)), 'test_input.json');
  if (!existsSync(path)) throw new Error(`no --input given and no ${path}`);
  const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const wrapped = typeof value === 'object' && value !== null && Object.keys(value).join() === 'input';
  return JSON.stringify(wrapped ? (value as { input: unknown }).input : value);
}
