import { isTerminal, type JobStatus } from '../contracts/status.js';
import type { JobLogsResponse } from '../contracts/job-logs.js';
import { JobLogLineSchema, jobLogKey, type JobLogLine } from '../protocol/logs.js';
import type { BlobStore } from '../storage/blob-store.js';

/** What the reader needs of a job's view: how many attempts have started, and whether the job is final. */
export interface JobLogState {
  attempt: number;
  status: JobStatus;
}

/**
 * The lines of every attempt of a job, in order: attempt 1's, then attempt 2's, ... (the store cannot list, so the
 * view's attempt count says which blobs to read). A line that does not parse (a writer in another language gone
 * wrong) is skipped, never fatal; an attempt without a blob wrote no line.
 */
export async function readJobLog(store: BlobStore, jobId: string, attempts: number): Promise<JobLogLine[]> {
  const numbers = Array.from({ length: Math.max(0, attempts) }, (_, index) => index + 1);
  const blobs = await Promise.all(numbers.map((attempt) => store.get(jobLogKey(jobId, attempt))));
  const lines: JobLogLine[] = [];
  for (const blob of blobs) {
    if (!blob) continue;
    for (const text of Buffer.from(blob.body).toString('utf8').split('\n')) {
      if (text.length === 0) continue;
      const parsed = JobLogLineSchema.safeParse(safeJsonParse(text));
      if (parsed.success) lines.push(parsed.data);
    }
  }
  return lines;
}

/**
 * One page of `GET /v1/jobs/:id/logs?after=<n>`: the lines after the first `after`. `done` once the job is final:
 * a worker writes its attempt's log before it reports the attempt's end, so a final job's log is complete. Read
 * the state before the blobs, so that a `done` page holds every line.
 */
export async function jobLogPage(
  store: BlobStore | undefined,
  jobId: string,
  state: JobLogState,
  after: number,
): Promise<JobLogsResponse> {
  const all = store ? await readJobLog(store, jobId, state.attempt) : [];
  const lines = all.slice(after);
  return { lines, next: Math.max(after, all.length), done: isTerminal(state.status) };
}

function safeJsonParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
