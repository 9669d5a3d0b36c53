import { hostname } from 'node:os';
import { ApplicationFailure, CompleteAsyncError, Context } from '@temporalio/activity';
import { ActivityCancelledError, ActivityNotFoundError, type Client } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import type { FastifyBaseLogger } from 'fastify';
import { runpodJobOf } from '../../contracts/runpod.js';
import { EXECUTE_JOB_ACTIVITY, type ExecuteJobInput } from '../../protocol/activity.js';
import { DEFAULT_PAYLOAD_THRESHOLD_BYTES } from '../../protocol/blobs.js';
import { FailureTypes } from '../../protocol/failures.js';
import { HeartbeatDetailsSchema, type HeartbeatDetails } from '../../protocol/heartbeat.js';
import { streamChunksSignal } from '../../protocol/signals.js';
import { jobTaskQueue } from '../../protocol/task-queues.js';
import { BlobUnavailableError } from '../../storage/blob-unavailable-error.js';
import { externalizePayload, outputBlobKey, resolvePayload } from '../../storage/payloads.js';
import type { GatewayOptions } from './gateway-options.js';
import { encodeRunnerJobId, type HeldJob, type StopReason } from './held-jobs.js';
import { Runners } from './runners.js';
import { StreamBatcher } from './stream-batcher.js';

const SIGNAL_TIMEOUT_MS = 5000;
/** How long a task whose runner dropped its take on the way waits for the next runner, ms. */
const HAND_OUT_WAIT_MS = 10_000;

/**
 * What the two faces of the gateway (RunPod workers, Runpack runners) share: one Temporal worker per job type in
 * this process whose activity slots exist only while a runner asks (see {@link Runners}), the `executeJob`
 * activity that hands the attempt to that runner and goes asynchronous (CompleteAsyncError), and the calls that
 * end or renew an attempt by its task token. A face decides when an attempt has started: a RunPod worker's take
 * starts it at once; a Runpack runner's job starts when the runner claims it (`deferStart`).
 */
export class GatewayCore {
  readonly runners = new Runners();
  readonly held = new Map<string, HeldJob>();
  private readonly workers = new Map<string, { worker: Promise<Worker>; run: Promise<void> }>();
  closing = false;
  /** Told of a job held for a runner that asked with `deferStart` (a Runpack runner), before it is handed off. */
  onOffered?: (job: HeldJob) => void;

  constructor(readonly options: GatewayOptions) {}

  get client(): Client {
    return this.options.client;
  }
  get log(): FastifyBaseLogger {
    return this.options.log;
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

  ensureWorker(type: string): void {
    if (this.workers.has(type)) return;
    const worker = this.createWorker(type);
    const run = worker.then(
      (created) => created.run(),
      (err: unknown) => {
        this.log.error({ err, type }, 'gateway: could not start the Temporal worker of this type');
        this.workers.delete(type);
      },
    );
    this.workers.set(type, { worker, run: run.catch((err: unknown) => this.log.error({ err, type })) });
  }

  /** The worker SDK is imported here, on first use: it weighs about 20 MB (webpack and memfs for its bundler). */
  private async createWorker(type: string): Promise<Worker> {
    const { Worker } = await import('@temporalio/worker');
    const { connection } = this.options;
    return Worker.create({
      connection: typeof connection === 'function' ? await connection() : connection,
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
    const taker = await this.runners.handOut(
      type,
      runpodJobOf(id, input),
      HAND_OUT_WAIT_MS,
      activity.cancellationSignal,
    );
    if (!taker) {
      throw ApplicationFailure.retryable(
        'the runner that asked for this job went away before it arrived',
        FailureTypes.noRunner,
      );
    }
    const previous = HeartbeatDetailsSchema.safeParse(info.heartbeatDetails);
    // The runner's id rides in every heartbeat once it runs the job: the pending activity's worker identity is the
    // gateway's. A Runpack offer names nobody until its claim.
    const details: HeartbeatDetails = {
      progress: null,
      log: [],
      ...(taker.deferStart ? {} : { workerId: taker.worker.slice(0, 256) }),
    };
    if (previous.success && 'checkpoint' in previous.data) details.checkpoint = previous.data.checkpoint;
    if (previous.success && previous.data.artifacts?.length) details.artifacts = previous.data.artifacts;
    let handedOff: () => void = () => undefined;
    const job: HeldJob = {
      id,
      type,
      worker: taker.worker,
      jobId: request.jobId,
      runId: info.workflowExecution?.runId ?? '',
      attempt: info.attempt,
      input,
      taskToken: info.taskToken,
      heartbeatTimeoutMs: info.heartbeatTimeoutMs,
      details,
      attemptFacts: {
        attempt: info.attempt,
        workerId: taker.worker.slice(0, 256),
        scheduledAt: new Date(info.currentAttemptScheduledTimestampMs).toISOString(),
        startedAt: new Date().toISOString(),
      },
      handedAtMs: performance.now(),
      handOutMs: performance.now() - taskStartedAt,
      handedOff: new Promise((resolve) => (handedOff = resolve)),
      batcher: new StreamBatcher(info.attempt, (chunks) =>
        this.signal(job, streamChunksSignal, { attempt: info.attempt, chunks }, true),
      ),
      listedAtMs: Date.now(),
      ended: false,
      started: false,
    };
    this.held.set(id, job);
    this.runners.held(taker.worker, type, id);
    if (taker.deferStart) {
      this.onOffered?.(job);
      // Only held for the runner until it claims it: the lease is renewed meanwhile, and no attempt starts.
      handedOff();
      await this.heartbeat(job);
    } else {
      // The runner already has the job: the first heartbeat, which carries the earlier attempt's checkpoint
      // forward, goes out while its handler starts. Nothing else does: the job's view reads the start from the
      // pending activity, and the runner's id from its first ping or progress post.
      job.started = true;
      if (details.checkpoint !== undefined || details.artifacts) await this.heartbeat(job);
      handedOff();
    }
    throw new CompleteAsyncError();
  }

  /** A Runpack claim: the attempt starts on `job.worker`, named by the heartbeat sent now and its end's facts. */
  async start(job: HeldJob): Promise<void> {
    job.started = true;
    job.handedAtMs = performance.now();
    const workerId = job.worker.slice(0, 256);
    job.attemptFacts = { ...job.attemptFacts, workerId, startedAt: new Date().toISOString() };
    job.details = { ...job.details, workerId };
    await this.heartbeat(job);
  }

  /** Renews the lease with the job's details; a cancel or a lost attempt becomes the job's `stop`. */
  async heartbeat(job: HeldJob): Promise<void> {
    try {
      await this.client.activity.heartbeat(job.taskToken, job.details);
    } catch (err) {
      if (err instanceof ActivityCancelledError) this.markStop(job, 'cancel');
      else if (err instanceof ActivityNotFoundError) this.markStop(job, 'gone');
      else this.log.warn({ err, job: job.jobId }, 'gateway: heartbeat failed');
    }
  }

  markStop(job: HeldJob, reason: StopReason): void {
    if (job.stop) return;
    job.stop = reason;
    job.batcher.drop();
    this.log.info({ job: job.jobId, worker: job.worker, reason }, 'gateway: runner must stop the job');
  }

  /** Completes the attempt with `output` (large outputs go to the blob store). False: the server had ended it. */
  async complete(job: HeldJob, output: unknown): Promise<boolean> {
    await job.handedOff;
    const handlerTimeMs = Math.round((performance.now() - job.handedAtMs) * 100) / 100;
    return this.settle(job, async () =>
      this.client.activity.complete(job.taskToken, {
        output: await this.externalize(job, output ?? null),
        artifacts: [],
        attemptFacts: job.attemptFacts,
        handlerTimeMs,
      }),
    );
  }

  async fail(job: HeldJob, failure: ApplicationFailure): Promise<boolean> {
    await job.handedOff;
    return this.settle(job, () => this.client.activity.fail(job.taskToken, failure));
  }

  async reportCancellation(job: HeldJob): Promise<boolean> {
    await job.handedOff;
    return this.settle(job, () =>
      this.client.activity.reportCancellation(job.taskToken, { artifacts: [], attemptFacts: job.attemptFacts }),
    );
  }

  /** Ends the attempt once: the job is forgotten here whatever the server answers. */
  private async settle(job: HeldJob, end: () => Promise<void>): Promise<boolean> {
    job.ended = true;
    try {
      await end();
      return true;
    } catch (err) {
      this.ignoreEnded(err, job.id);
      return false;
    } finally {
      this.forget(job);
    }
  }

  async signal<Arg>(job: HeldJob, signal: SignalDefinition<[Arg]>, arg: Arg, required: boolean): Promise<void> {
    try {
      // The run of this attempt: a newer run of the same job id must not hear from an old attempt.
      const handle = this.client.workflow.getHandle(job.jobId, job.runId);
      await this.client.withDeadline(Date.now() + SIGNAL_TIMEOUT_MS, () => handle.signal(signal, arg));
    } catch (err) {
      const level = required ? 'error' : 'warn';
      this.log[level]({ err, job: job.jobId }, `gateway: could not signal ${signal.name}`);
    }
  }

  private async externalize(job: HeldJob, output: unknown): Promise<unknown> {
    const { blobs, payloadThresholdBytes } = this.options;
    if (!blobs) return output;
    const key = outputBlobKey(job.jobId, job.runId, job.attempt);
    return externalizePayload(output, blobs, payloadThresholdBytes ?? DEFAULT_PAYLOAD_THRESHOLD_BYTES, key);
  }

  ignoreEnded(err: unknown, id: string): void {
    if (err instanceof ActivityNotFoundError) return;
    this.log.warn({ err, id }, 'gateway: could not end the attempt');
  }

  forget(job: HeldJob): void {
    this.held.delete(job.id);
    this.runners.released(job.worker, job.id);
  }

  /** Hands a held job to another runner (a Runpack offer that lapsed and was taken by the next runner). */
  reassign(job: HeldJob, worker: string): void {
    this.runners.released(job.worker, job.id);
    job.worker = worker;
    this.runners.held(worker, job.type, job.id);
  }
}
