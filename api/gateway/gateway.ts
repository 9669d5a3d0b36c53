import { hostname } from 'node:os';
import { ApplicationFailure, CompleteAsyncError, Context } from '@temporalio/activity';
import { ActivityCancelledError, ActivityNotFoundError, type Client } from '@temporalio/client';
import type { DataConverter, SignalDefinition } from '@temporalio/common';
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { FastifyBaseLogger } from 'fastify';
import { runpodJobOf } from '../../contracts/runpod.js';
import { runpodFailureOf } from '../../jobs/runpod-view.js';
import { EXECUTE_JOB_ACTIVITY, type AttemptFacts, type ExecuteJobInput } from '../../protocol/activity.js';
import { DEFAULT_PAYLOAD_THRESHOLD_BYTES } from '../../protocol/blobs.js';
import { FailureTypes, type AttemptFailureDetails } from '../../protocol/failures.js';
import { HeartbeatDetailsSchema, type HeartbeatDetails } from '../../protocol/heartbeat.js';
import { streamChunksSignal } from '../../protocol/signals.js';
import { jobTaskQueue } from '../../protocol/task-queues.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { BlobUnavailableError } from '../../storage/blob-unavailable-error.js';
import { externalizePayload, outputBlobKey, resolvePayload } from '../../storage/payloads.js';
import { decodeRunnerJobId, encodeRunnerJobId, toProgress, type HeldJob } from './held-jobs.js';
import { Runners } from './runners.js';
import { ChunkTooLargeError, StreamBatcher } from './stream-batcher.js';

export interface GatewayOptions {
  client: Client;
  /** The API process's own connection for the per-type Temporal workers. */
  connection: NativeConnection;
  namespace: string;
  /** The codecs of every gpuflow process (payload encryption): the gateway's workers decode tasks with them. */
  dataConverter?: DataConverter;
  blobs?: BlobStore;
  /** @defaultValue 262144 */
  payloadThresholdBytes?: number;
  log: FastifyBaseLogger;
  /** How long a job-take or job-stop is held before a 204, ms (under the runpod SDK's 90 s). @defaultValue 30000 */
  holdMs?: number;
  /** Identity of the gateway's Temporal workers. @defaultValue `gateway-<hostname>-<pid>` */
  identity?: string;
  /** Told of every attempt's gateway time: hand-out (task start to job written) and done (post to completion). */
  onTiming?: (timing: { id: string; handOutMs: number; doneMs: number }) => void;
}

const SIGNAL_TIMEOUT_MS = 5000;
/** How long a task whose runner dropped its take on the way waits for the next runner, ms. */
const HAND_OUT_WAIT_MS = 10_000;
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
 * The worker side of the RunPod face: HTTP runners (unmodified runpod workers) take jobs of `jobs.<type>` like any
 * Temporal worker, through one Temporal worker per type in this process whose slots exist only while a runner waits.
 * Each attempt is handed to the runner and then completed asynchronously, by task token, from its job-done post;
 * the runner's pings are the attempt's heartbeats, and what a heartbeat answers (cancelled, or not found after a
 * timeout) is what job-stop tells the runner.
 */
export class RunPodGateway {
  readonly runners = new Runners();
  private readonly workers = new Map<string, { worker: Promise<Worker>; run: Promise<void> }>();
  private readonly held = new Map<string, HeldJob>();
  private readonly holdMs: number;
  private closing = false;

  constructor(private readonly options: GatewayOptions) {
    this.holdMs = options.holdMs ?? 30_000;
  }

  /** Holds a job-take (W1, W2) until a job of `type` is handed to `worker`, or `holdMs` (null: 204). */
  async take(type: string, worker: string, signal: AbortSignal): Promise<{ id: string; input: unknown } | null> {
    if (this.closing) return null;
    this.ensureWorker(type);
    return this.runners.wait(type, worker, this.holdMs, signal);
  }

  /** W3: the ids `worker` must stop, held until there is one or `holdMs` pass. */
  async stops(type: string, worker: string, signal: AbortSignal): Promise<string[]> {
    this.runners.touch(worker, type);
    const deadline = Date.now() + this.holdMs;
    while (!signal.aborted && !this.closing) {
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
      await this.heartbeat(job);
      return;
    }
    job.ended = true;
    await job.handedOff;
    const activity = this.options.client.activity;
    try {
      if (job.stop === 'cancel') {
        // A sync handler cannot be stopped: its result comes after the cancel, which it now confirms.
        await activity.reportCancellation(job.taskToken, cancelDetails(job));
      } else if (job.stop === undefined && body.error) {
        job.batcher.drop();
        await activity.fail(job.taskToken, runPodFailure(body.error, job.attemptFacts));
      } else if (job.stop === undefined) {
        await job.batcher.flush();
        const handlerTimeMs = Math.round((performance.now() - job.handedAtMs) * 100) / 100;
        const output = await this.externalize(job, body.output ?? null);
        await activity.complete(job.taskToken, {
          output,
          artifacts: [],
          attemptFacts: job.attemptFacts,
          handlerTimeMs,
        });
      }
    } catch (err) {
      this.ignoreEnded(err, job.id);
    } finally {
      this.forget(job);
    }
    this.options.onTiming?.({ id, handOutMs: job.handOutMs, doneMs: performance.now() - receivedAt });
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
      job.ended = true;
      job.stop = 'gone';
      await job.handedOff;
      await this.options.client.activity
        .fail(job.taskToken, ApplicationFailure.nonRetryable(err.message, FailureTypes.streamChunkTooLarge))
        .catch((failure: unknown) => this.ignoreEnded(failure, job.id));
    }
  }

  /** W6: renews the lease of every listed job; a stopped job the runner no longer lists has really stopped. */
  async ping(type: string, worker: string, listed: string[]): Promise<void> {
    this.runners.touch(worker, type);
    const now = Date.now();
    const renewals: Promise<void>[] = [];
    for (const id of listed) {
      const job = this.held.get(id);
      if (job) {
        job.listedAtMs = now;
        if (!job.ended && job.stop !== 'gone') renewals.push(this.heartbeat(job));
      } else {
        renewals.push(this.heartbeatElsewhere(id));
      }
    }
    for (const job of this.held.values()) {
      if (job.worker !== worker || listed.includes(job.id)) continue;
      if (job.stop) renewals.push(this.confirmStop(job));
      else if (now - job.listedAtMs > FORGET_AFTER_MS) this.forget(job);
    }
    await Promise.all(renewals);
  }

  /** Stops every type's Temporal worker (idempotent). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      [...this.workers.values()].map(async ({ worker, run }) => {
        const started = await worker.catch(() => undefined);
        if (started && started.getState() === 'RUNNING') started.shutdown();
        await run;
      }),
    );
  }

  private ensureWorker(type: string): void {
    if (this.workers.has(type)) return;
    const worker = Worker.create({
      connection: this.options.connection,
      namespace: this.options.namespace,
      taskQueue: jobTaskQueue(type),
      ...(this.options.dataConverter ? { dataConverter: this.options.dataConverter } : {}),
      identity: this.options.identity ?? `gateway-${hostname()}-${process.pid}`,
      activities: { [EXECUTE_JOB_ACTIVITY]: (request: ExecuteJobInput) => this.executeJob(type, request) },
      tuner: {
        activityTaskSlotSupplier: this.runners.slotSupplier(type),
        workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
        localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
        nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
      },
      // The activity returns as soon as the runner has the job: nothing in flight needs a grace period.
      shutdownGraceTime: '1s',
    });
    const run = worker.then(
      (created) => created.run(),
      (err: unknown) => {
        this.options.log.error({ err, type }, 'gateway: could not start the Temporal worker of this type');
        this.workers.delete(type);
      },
    );
    this.workers.set(type, { worker, run: run.catch((err: unknown) => this.options.log.error({ err, type })) });
  }

  /** The `executeJob` activity of the gateway: hands the attempt to a waiting runner and goes asynchronous. */
  private async executeJob(type: string, request: ExecuteJobInput): Promise<never> {
    const taskStartedAt = performance.now();
    const activity = Context.current();
    const { info } = activity;
    if (request.type !== type) {
      throw ApplicationFailure.nonRetryable(
        `this worker does not serve job type "${request.type}"`,
        FailureTypes.unknownJobType,
      );
    }
    let input: unknown;
    try {
      input = await resolvePayload(request.input, this.options.blobs);
    } catch (err) {
      if (err instanceof BlobUnavailableError) {
        throw ApplicationFailure.nonRetryable(err.message, FailureTypes.inputUnavailable);
      }
      throw err;
    }
    const id = encodeRunnerJobId(request.jobId, info.taskToken);
    const startedAt = new Date().toISOString();
    const worker = await this.runners.handOut(
      type,
      runpodJobOf(id, input),
      HAND_OUT_WAIT_MS,
      activity.cancellationSignal,
    );
    if (!worker) {
      throw ApplicationFailure.retryable(
        'the runner that asked for this job went away before it arrived',
        FailureTypes.noRunner,
      );
    }
    const previous = HeartbeatDetailsSchema.safeParse(info.heartbeatDetails);
    // The runner's id rides in every heartbeat: the pending activity's worker identity is the gateway's.
    const details: HeartbeatDetails = { progress: null, log: [], workerId: worker.slice(0, 256) };
    if (previous.success && 'checkpoint' in previous.data) details.checkpoint = previous.data.checkpoint;
    if (previous.success && previous.data.artifacts?.length) details.artifacts = previous.data.artifacts;
    let handedOff: () => void = () => undefined;
    const job: HeldJob = {
      id,
      type,
      worker,
      jobId: request.jobId,
      runId: info.workflowExecution?.runId ?? '',
      attempt: info.attempt,
      taskToken: info.taskToken,
      details,
      attemptFacts: {
        attempt: info.attempt,
        workerId: worker.slice(0, 256),
        scheduledAt: new Date(info.currentAttemptScheduledTimestampMs).toISOString(),
        startedAt,
      },
      handedAtMs: performance.now(),
      handOutMs: performance.now() - taskStartedAt,
      handedOff: new Promise((resolve) => (handedOff = resolve)),
      batcher: new StreamBatcher(info.attempt, (chunks) =>
        this.signal(job, streamChunksSignal, { attempt: info.attempt, chunks }, true),
      ),
      listedAtMs: Date.now(),
      ended: false,
    };
    job.details.attemptFacts = job.attemptFacts;
    this.held.set(id, job);
    this.runners.held(worker, type, id);
    // The runner already has the job: the first heartbeat, which carries the earlier attempt's checkpoint
    // forward, goes out while its handler starts. Nothing else does: the job's view reads the start from the
    // pending activity, and the runner's id from its first ping or progress post.
    if (details.checkpoint !== undefined || details.artifacts) await this.heartbeat(job);
    handedOff();
    throw new CompleteAsyncError();
  }

  private async heartbeat(job: HeldJob): Promise<void> {
    try {
      await this.options.client.activity.heartbeat(job.taskToken, job.details);
    } catch (err) {
      if (err instanceof ActivityCancelledError) this.markStop(job, 'cancel');
      else if (err instanceof ActivityNotFoundError) this.markStop(job, 'gone');
      else this.options.log.warn({ err, job: job.jobId }, 'gateway: heartbeat failed');
    }
  }

  private markStop(job: HeldJob, reason: 'cancel' | 'gone'): void {
    if (job.stop) return;
    job.stop = reason;
    job.batcher.drop();
    this.options.log.info({ job: job.jobId, worker: job.worker, reason }, 'gateway: runner must stop the job');
  }

  /** The runner no longer lists a job it was told to stop: its GPU is free, and a cancel can be confirmed. */
  private async confirmStop(job: HeldJob): Promise<void> {
    if (job.stop === 'cancel' && !job.ended) {
      job.ended = true;
      await job.handedOff;
      await this.options.client.activity
        .reportCancellation(job.taskToken, cancelDetails(job))
        .catch((err: unknown) => this.ignoreEnded(err, job.id));
    }
    this.forget(job);
  }

  private async heartbeatElsewhere(id: string): Promise<void> {
    const decoded = decodeRunnerJobId(id);
    if (!decoded) return;
    // Another replica holds its details; renewing the lease matters more than the progress shown meanwhile.
    await this.options.client.activity.heartbeat(decoded.taskToken).catch(() => undefined);
  }

  private async finishElsewhere(id: string, body: DoneBody): Promise<void> {
    const decoded = decodeRunnerJobId(id);
    if (!decoded) return;
    const activity = this.options.client.activity;
    try {
      if (body.error) await activity.fail(decoded.taskToken, runPodFailure(body.error));
      else await activity.complete(decoded.taskToken, { output: body.output ?? null, artifacts: [] });
    } catch (err) {
      this.ignoreEnded(err, id);
    }
  }

  private async externalize(job: HeldJob, output: unknown): Promise<unknown> {
    const { blobs, payloadThresholdBytes } = this.options;
    if (!blobs) return output;
    const key = outputBlobKey(job.jobId, job.runId, job.attempt);
    return externalizePayload(output, blobs, payloadThresholdBytes ?? DEFAULT_PAYLOAD_THRESHOLD_BYTES, key);
  }

  private async signal<Arg>(job: HeldJob, signal: SignalDefinition<[Arg]>, arg: Arg, required: boolean): Promise<void> {
    try {
      // The run of this attempt: a newer run of the same job id must not hear from an old attempt.
      const handle = this.options.client.workflow.getHandle(job.jobId, job.runId);
      await this.options.client.withDeadline(Date.now() + SIGNAL_TIMEOUT_MS, () => handle.signal(signal, arg));
    } catch (err) {
      const level = required ? 'error' : 'warn';
      this.options.log[level]({ err, job: job.jobId }, `gateway: could not signal ${signal.name}`);
    }
  }

  private ignoreEnded(err: unknown, id: string): void {
    if (err instanceof ActivityNotFoundError) return;
    this.options.log.warn({ err, id }, 'gateway: could not end the attempt');
  }

  private forget(job: HeldJob): void {
    this.held.delete(job.id);
    this.runners.released(job.worker, job.id);
  }
}

/** A result with RunPod's `error`: FAILED at once, as on RunPod (a handler-returned error is not retried). */
/** What a confirmed cancel reports: the attempt's facts and its last progress, which the cancelled job's view keeps. */
function cancelDetails(job: HeldJob): AttemptFailureDetails {
  return { artifacts: [], attemptFacts: job.attemptFacts, progress: job.details.progress };
}

function runPodFailure(error: unknown, attemptFacts?: AttemptFacts): ApplicationFailure {
  const details: AttemptFailureDetails = { artifacts: [], ...(attemptFacts ? { attemptFacts } : {}) };
  return ApplicationFailure.create({ ...runpodFailureOf(error), nonRetryable: true, details: [details] });
}
