import { setTimeout as sleep } from 'node:timers/promises';
import type { StreamChunk } from '../contracts/job.js';
import type { JobStatus } from '../contracts/status.js';
import { type ApiClient, jobPath } from './api-client.js';
import { EXIT, exitCodeOf } from './exit-codes.js';

/** `gpuflow logs` and `gpuflow stream`: JSON polling of a job's log lines and chunks (`?after=<n>`), until it ends. */

/** Between polls of a running job. */
const FOLLOW_POLL_MS = 500;

/** `GET /v1/jobs/:id/logs`: the job's console output, bounded, with the attempt that wrote each line. */
interface LogPage {
  lines: { attempt: number; at: string; line: string }[];
  done: boolean;
}

interface StreamPage {
  chunks: StreamChunk[];
  status: JobStatus;
  done: boolean;
}

export async function logsCommand(api: ApiClient, id: string, options: { follow?: boolean }): Promise<number> {
  for (let after = 0; ;) {
    const page = await api.call<LogPage>('GET', jobPath(id, `/logs?after=${after}`));
    for (const { attempt, at, line } of page.lines) process.stdout.write(`${at} [attempt ${attempt}] ${line}\n`);
    after += page.lines.length;
    if (!options.follow || page.done) return EXIT.ok;
    if (page.lines.length === 0) await sleep(FOLLOW_POLL_MS);
  }
}

/**
 * Prints each chunk as it comes: a string chunk as its text, any other value as one line of JSON; with `json`,
 * each chunk as one JSON line `{seq, attempt, data}` (NDJSON). Exits as `submit --wait` does once the job ends.
 */
export async function streamCommand(api: ApiClient, id: string, options: { json?: boolean }): Promise<number> {
  for (let after = 0; ;) {
    const page = await api.call<StreamPage>('GET', jobPath(id, `/stream?after=${after}`));
    for (const chunk of page.chunks) {
      const text = options.json
        ? JSON.stringify(chunk)
        : typeof chunk.data === 'string'
          ? chunk.data
          : JSON.stringify(chunk.data);
      process.stdout.write(`${text}\n`);
      after = Math.max(after, chunk.seq);
    }
    if (page.done) {
      if (page.status !== 'COMPLETED') process.stderr.write(`${id} ${page.status}\n`);
      return exitCodeOf(page.status);
    }
    if (page.chunks.length === 0) await sleep(FOLLOW_POLL_MS);
  }
}
