import { ApplicationFailure } from '@temporalio/activity';
import { runpodFailureOf } from '../../jobs/runpod-view.js';
import type { AttemptFacts } from '../../protocol/activity.js';
import { FailureTypes, type AttemptFailureDetails } from '../../protocol/failures.js';
import type { GatewayCore } from './gateway-core.js';
import { decodeRunnerJobId, toProgress, type HeldJob } from './held-jobs.js';
import type { Runners } from './runners.js';
import { ChunkTooLargeError } from './stream-batcher.js';

export { GatewayCore } from './gateway-core.js';
export type { GatewayOptions } from './gateway-options.js';

/** A stop is re-sent this often while the runner's pings still list the job (the SDK drops one it cannot match). */
const STOP_RESEND_MS = 2000;
/** A held job no ping has listed for this long is forgotten here (its lease has long run out on the server). */
const FORGET_AFTER_MS = 10 * 60_000;

/** A runner's final or progress post to job-done, as the runpod SDK sends it. */
export interface DoneBody {
  status?: unknown;
  output?: unknown;
  error?: unknown;
}

/**
 * The RunPod face of the gateway: HTTP runners (unmodified runpod workers) take jobs of `jobs.<type>` like any
 * Temporal worker, through the {@link GatewayCore}'s Temporal workers. Each attempt is handed to the runner and then
 * completed asynchronously, by task token, from its job-done post; the runner's pings are the attempt's heartbeats,
 * and what a heartbeat answers (cancelled, or not found after a timeout) is what job-stop tells the runner.
 */
export class RunPodGateway {
  private readonly holdMs: number;

  constructor(readonly core: GatewayCore) {
    this.holdMs = core.options.holdMs ?? 30_000;
  }

  get runners(): Runners {
    return this.core.runners;
  }

  private get held(): Map<string, HeldJob> {
    return this.core.held;
  }

  /** Holds a job-take (W1, W2) until a job of `type` is handed to `worker`, or `holdMs` (null: 204). */
  async take(type: string, worker: string, signal: AbortSignal): Promise<{ id: string; input: unknown } | null> {
    if (this.core.closing) return null;
    this.core.ensureWorker(type);
    return this.runners.wait(type, worker, this.holdMs, signal);
  }

  /** W3: the ids `worker` must stop, held until there is one or `holdMs` pass. */
  async stops(type: string, worker: string, signal: AbortSignal): Promise<string[]> {
    this.runners.touch(worker, type);
    const deadline = Date.now() + this.holdMs;
    while (!signal.aborted && !this.core.closing) {
      const now = Date.now();
      const due = [...this.held.values()].filter(
        (job) => job.worker === worker && job.stop && now - (job.stopSentAtMs ?? 0) >= STOP_RESEND_MS,
      );
      if (due.length > 0) {
        for (const job of due) job.stopSentAtMs = now;
        return due.map((job) => job.id);
      }
      if (now >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return [];
  }

  /** W4: a progress post (`status: IN_PROGRESS`) or the attempt's result. Never throws: the SDK drops non-2xx. */
  async done(type: string, worker: string, id: string, body: DoneBody): Promise<void> {
    const receivedAt = performance.now();
    this.runners.touch(worker, type);
    const job = this.held.get(id);
    const progress = body.status === 'IN_PROGRESS';
    if (!job) {
      // Handed out by another replica (or already ended here): a result still ends it, by task token, and the
      // server refuses it when the attempt is over. A progress post cannot be merged into details held elsewhere.
      if (!progress) await this.finishElsewhere(id, body);
      return;
    }
    if (job.ended || job.worker !== worker) return;
    if (progress) {
      job.details = { ...job.details, progress: toProgress(body.output, job.details.progress) };
      await this.core.heartbeat(job);
      return;
    }
    job.ended = true;
    if (job.stop === 'cancel') {
      // A sync handler cannot be stopped: its result comes after the cancel, which it now confirms.
      await this.core.reportCancellation(job);
    } else if (job.stop === undefined && body.error) {
      job.batcher.drop();
      await this.core.fail(job, runPodFailure(body.error, job.attemptFacts));
    } else if (job.stop === undefined) {
      await job.batcher.flush();
      await this.core.complete(job, body.output ?? null);
    } else {
      this.core.forget(job);
    }
    this.core.options.onTiming?.({ id, handOutMs: job.handOutMs, doneMs: performance.now() - receivedAt });
  }

  /** W5: one chunk of a generator handler. */
  async stream(type: string, worker: string, id: string, body: { output?: unknown }): Promise<void> {
    this.runners.touch(worker, type);
    const job = this.held.get(id);
    if (!job || job.ended || job.stop || job.worker !== worker) return;
    try {
      await job.batcher.push(body.output);
    } catch (err) {
      if (!(err instanceof ChunkTooLargeError)) throw err;
      job.stop = 'gone';
      await this.core.fail(job, ApplicationFailure.nonRetryable(err.message, FailureTypes.streamChunkTooLarge));
    }
  }

  /** W6: renews the lease of every listed job; a stopped job the runner no longer lists has really stopped. */
  async ping(type: string, worker: string, listed: string[]): Promise<void> {
    this.runners.touch(worker, type);
    const now = Date.now();
    const renewals: Promise<unknown>[] = [];
    for (const id of listed) {
      const job = this.held.get(id);
      if (job) {
        job.listedAtMs = now;
        if (!job.ended && job.stop !== 'gone') renewals.push(this.core.heartbeat(job));
      } else {
        renewals.push(this.heartbeatElsewhere(id));
      }
    }
    for (const job of this.held.values()) {
      if (job.runpack || job.worker !== worker || listed.includes(job.id)) continue;
      if (job.stop) renewals.push(this.confirmStop(job));
      else if (now - job.listedAtMs > FORGET_AFTER_MS) this.core.forget(job);
    }
    await Promise.all(renewals);
  }

  /** Stops every type's Temporal worker (idempotent). */
  close(): Promise<void> {
    return this.core.close();
  }

  /** The runner no longer lists a job it was told to stop: its GPU is free, and a cancel can be confirmed. */
  private async confirmStop(job: HeldJob): Promise<void> {
    if (job.stop === 'cancel' && !job.ended) await this.core.reportCancellation(job);
    else this.core.forget(job);
  }

  private async heartbeatElsewhere(id: string): Promise<void> {
    const decoded = decodeRunnerJobId(id);
    if (!decoded) return;
    // Another replica holds its details; renewing the lease matters more than the progress shown meanwhile.
    await this.core.client.activity.heartbeat(decoded.taskToken).catch(() => undefined);
  }

  private async finishElsewhere(id: string, body: DoneBody): Promise<void> {
    const decoded = decodeRunnerJobId(id);
    if (!decoded) return;
    const activity = this.core.client.activity;
    try {
      if (body.error) await activity.fail(decoded.taskToken, runPodFailure(body.error));
      else await activity.complete(decoded.taskToken, { output: body.output ?? null, artifacts: [] });
    } catch (err) {
      this.core.ignoreEnded(err, id);
    }
  }
}

/** A result with RunPod's `error`: FAILED at once, as on RunPod (a handler-returned error is not retried). */
function runPodFailure(error: unknown, attemptFacts?: AttemptFacts): ApplicationFailure {
  const details: AttemptFailureDetails = { artifacts: [], ...(attemptFacts ? { attemptFacts } : {}) };
  return ApplicationFailure.create({ ...runpodFailureOf(error), nonRetryable: true, details: [details] });
}
