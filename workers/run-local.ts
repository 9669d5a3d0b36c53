import { runBatchOfOne } from '../activities/batcher.js';
import { isChunkStream } from '../activities/stream-chunks.js';
import { describeIssues } from '../contracts/errors.js';
import type { Artifact } from '../protocol/blobs.js';
import type { JobContext, JobDefinition } from '../sdk/define-job.js';
import { isJobError } from '../sdk/job-error.js';

/** How a local run failed, as a worker would report it. */
export interface LocalError {
  /** `ValidationError` for input that fails the job's schema, a `JobError`'s type, else the error's name. */
  type: string;
  message: string;
  retryable: boolean;
}

/** What one local run did. `error` is `undefined` when the job completed. */
export interface LocalResult {
  ok: boolean;
  /** The handler's return value (a stream's return value, or every chunk when `aggregateStream` is set). */
  output: unknown;
  error: LocalError | undefined;
  progress: { percent: number; message: string | undefined }[];
  /** Each `ctx.log(...)` call as one line (strings as they are, other values as JSON, joined by spaces). */
  logs: string[];
  chunks: unknown[];
  checkpoints: unknown[];
  artifacts: Map<string, { data: Uint8Array | string; contentType: string }>;
}

export interface RunLocalOptions {
  /** @defaultValue 'local_test' */
  jobId?: string;
  /** @defaultValue 1 */
  attempt?: number;
  /** What `ctx.resumeFrom` holds: an earlier attempt's checkpoint. @defaultValue undefined */
  resumeFrom?: unknown;
  /** Aborts `ctx.signal`, as a cancel would. */
  signal?: AbortSignal;
  /** Called with a readable line for each progress report, log line, checkpoint, chunk and artifact. */
  print?: (line: string) => void;
}

/**
 * Runs one job of `job` in this process, without Temporal: its `setup` first, the input parsed by its schema as a
 * worker would, progress, log lines, checkpoints, stream chunks and artifacts collected, the output or the error
 * returned (never thrown). A batched type runs as a batch of one, as a lone job on a worker does. What
 * `gpuflow test` runs, and what a handler's unit test calls (exported as `gpuflow/testing`).
 */
export async function runLocal(
  job: JobDefinition,
  input: unknown,
  options: RunLocalOptions = {},
): Promise<LocalResult> {
  const say = options.print ?? (() => undefined);
  const result: LocalResult = {
    ok: false,
    output: undefined,
    error: undefined,
    progress: [],
    logs: [],
    chunks: [],
    checkpoints: [],
    artifacts: new Map(),
  };
  const parsed = job.input.safeParse(input);
  if (!parsed.success) {
    result.error = { type: 'ValidationError', message: describeIssues(parsed.error.issues, 'input'), retryable: false };
    return result;
  }
  try {
    const ctx: JobContext = {
      jobId: options.jobId ?? 'local_test',
      attempt: options.attempt ?? 1,
      workerId: 'local',
      resources: await job.setup?.(),
      signal: options.signal ?? new AbortController().signal,
      resumeFrom: options.resumeFrom,
      progress(percent, message) {
        const clamped = Math.min(100, Math.max(0, percent));
        result.progress.push({ percent: clamped, message });
        say(`progress: ${clamped}%${message ? ` ${message}` : ''}`);
      },
      log(...parts) {
        const line = parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
        result.logs.push(line);
        say(`log: ${line}`);
      },
      checkpoint(value) {
        result.checkpoints.push(value);
        say(`checkpoint: ${JSON.stringify(value)}`);
      },
      artifact(name, data, contentType = 'application/octet-stream') {
        const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
        result.artifacts.set(name, { data, contentType });
        say(`artifact: ${name} (${size} bytes, ${contentType})`);
        return Promise.resolve({ name, size, contentType } satisfies Artifact);
      },
    };
    const returned = job.batch ? runBatchOfOne(job, parsed.data, ctx) : job.handler(parsed.data, ctx);
    if (isChunkStream(returned)) {
      for (;;) {
        const step = await returned.next();
        if (step.done) {
          result.output = !job.batch && job.aggregateStream ? result.chunks : step.value;
          break;
        }
        result.chunks.push(step.value ?? null);
        say(`chunk: ${JSON.stringify(step.value ?? null)}`);
      }
    } else {
      result.output = await returned;
    }
    result.ok = true;
  } catch (err) {
    result.error = {
      type: isJobError(err) ? err.type : err instanceof Error ? err.name : 'Error',
      message: err instanceof Error ? err.message : String(err),
      retryable: isJobError(err) ? err.retryable : true,
    };
  }
  return result;
}
