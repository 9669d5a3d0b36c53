import { isTerminal } from '../../contracts/status.js';
import type { RunPodStream } from '../../contracts/runpod.js';
import type { JobStreams } from './job-stream.js';

export interface RunPodStreamsOptions {
  /**
   * How long a call with nothing new waits for a chunk or the job's end before it answers `stream: []`, ms. The
   * Python SDK sleeps 1 s between calls, the JS SDK not at all: the hold keeps the latter from spinning.
   * @defaultValue 1500
   */
  holdMs?: number;
  /** How often a held call looks again, ms. @defaultValue 250 */
  pollMs?: number;
  /** Jobs whose cursor is kept at most; the oldest is forgotten first. @defaultValue 10000 */
  maxJobs?: number;
}

interface Cursor {
  runId: string;
  /** The last chunk (seq) a `/stream` call of this job returned. */
  sent: number;
}

/**
 * RunPod's `/stream/{id}`: each call answers the chunks that no earlier call of the same job returned, whoever made
 * it (the cursor is per job, as on RunPod, not per reader). Calls for one job are served one after another, so two
 * readers never get the same chunk. Cursors live in this API process: behind several replicas, route a job's
 * stream calls to one replica (or read `/v1/jobs/:id/stream`, whose cursor the client holds).
 */
export class RunPodStreams {
  private readonly cursors = new Map<string, Cursor>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly holdMs: number;
  private readonly pollMs: number;
  private readonly maxJobs: number;

  constructor(
    private readonly streams: JobStreams,
    options: RunPodStreamsOptions = {},
  ) {
    this.holdMs = options.holdMs ?? 1500;
    this.pollMs = options.pollMs ?? 250;
    this.maxJobs = options.maxJobs ?? 10_000;
  }

  /** The next part of the job's stream; `check` sees the job's view first (a job of another endpoint is a 404). */
  next(jobId: string, check: (type: string) => void, signal?: AbortSignal): Promise<RunPodStream> {
    const previous = this.queues.get(jobId) ?? Promise.resolve();
    const turn = previous.then(() => this.take(jobId, check, signal));
    const settled = turn.catch(() => undefined);
    this.queues.set(jobId, settled);
    void settled.then(() => {
      if (this.queues.get(jobId) === settled) this.queues.delete(jobId);
    });
    return turn;
  }

  private async take(jobId: string, check: (type: string) => void, signal?: AbortSignal): Promise<RunPodStream> {
    const deadline = Date.now() + this.holdMs;
    for (;;) {
      const cursor = this.cursors.get(jobId);
      // A retry is a new run whose chunks count from 1 again: a cursor of an older run does not apply.
      const { view, runId, chunks } = await this.streams.pollRun(jobId, 0);
      check(view.type);
      const sent = cursor?.runId === runId ? cursor.sent : 0;
      const fresh = chunks.filter((chunk) => chunk.seq > sent);
      const last = fresh.at(-1);
      if (last || isTerminal(view.status) || Date.now() + this.pollMs > deadline || signal?.aborted) {
        if (last) this.remember(jobId, { runId, sent: last.seq });
        return { id: jobId, status: view.status, stream: fresh.map((chunk) => ({ output: chunk.data })) };
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, this.pollMs));
    }
  }

  private remember(jobId: string, cursor: Cursor): void {
    this.cursors.delete(jobId);
    if (this.cursors.size >= this.maxJobs) {
      const oldest = this.cursors.keys().next();
      if (!oldest.done) this.cursors.delete(oldest.value);
    }
    this.cursors.set(jobId, cursor);
  }
}
