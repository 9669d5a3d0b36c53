import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describeIssues } from '../contracts/errors.js';
import { isChunkStream } from '../activities/stream-chunks.js';
import { runBatchOfOne } from '../activities/batcher.js';
import type { Artifact } from '../protocol/blobs.js';
import type { JobContext } from '../sdk/define-job.js';
import { isJobError } from '../sdk/job-error.js';
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
  const raw = options.input ?? readBeside(modules[0]!);
  const parsed = job.input.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    say(`error: ValidationError: ${describeIssues(parsed.error.issues, 'input')} (not retryable)`);
    return 1;
  }
  const artifacts: Artifact[] = [];
  const ctx: JobContext = {
    jobId: 'local_test',
    attempt: 1,
    workerId: 'local',
    resources: await job.setup?.(),
    signal: new AbortController().signal,
    resumeFrom: undefined,
    progress: (percent, message) => say(`progress: ${percent}%${message ? ` ${message}` : ''}`),
    log: (...parts) => say(`log: ${parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ')}`),
    checkpoint: (value) => say(`checkpoint: ${JSON.stringify(value)}`),
    artifact(name, data, contentType = 'application/octet-stream') {
      const artifact = {
        name,
        size: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength,
        contentType,
      };
      artifacts.push(artifact);
      say(`artifact: ${name} (${artifact.size} bytes, ${contentType})`);
      return Promise.resolve(artifact);
    },
  };
  try {
    // A batched type runs as a batch of one, as a lone job on a worker does.
    const result = job.batch ? runBatchOfOne(job, parsed.data, ctx) : job.handler(parsed.data, ctx);
    let output: unknown;
    if (isChunkStream(result)) {
      const chunks: unknown[] = [];
      for (;;) {
        const step = await result.next();
        if (step.done) {
          output = !job.batch && job.aggregateStream ? chunks : step.value;
          break;
        }
        chunks.push(step.value ?? null);
        say(`chunk: ${JSON.stringify(step.value ?? null)}`);
      }
    } else {
      output = await result;
    }
    process.stdout.write(`${JSON.stringify(output ?? null, null, 2)}\n`);
    return 0;
  } catch (err) {
    const type = isJobError(err) ? err.type : err instanceof Error ? err.name : 'Error';
    const retryable = isJobError(err) ? err.retryable : true;
    const message = err instanceof Error ? err.message : String(err);
    say(`error: ${type}: ${message} (${retryable ? 'retryable' : 'not retryable'})`);
    return 1;
  }
}

function readBeside(module: string): string {
  const path = join(dirname(resolve(module)), 'test_input.json');
  if (!existsSync(path)) throw new Error(`no --input given and no ${path}`);
  const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const wrapped = typeof value === 'object' && value !== null && Object.keys(value).join() === 'input';
  return JSON.stringify(wrapped ? (value as { input: unknown }).input : value);
}
