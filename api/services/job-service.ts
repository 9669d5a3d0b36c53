import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { JobMemoSchema, type RunJobInput } from '../../contracts/run-job.js';
import { jobIdFor, submissionHashOf } from '../../contracts/ids.js';
import type { JobView, SubmitJob } from '../../contracts/job.js';
import { isTerminal } from '../../contracts/status.js';
import { CONTROL_TASK_QUEUE } from '../../protocol/task-queues.js';
import { DEFAULT_PAYLOAD_THRESHOLD_BYTES } from '../../protocol/blobs.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { externalizePayload, inputBlobKey } from '../../storage/payloads.js';
import { Errors } from '../errors.js';
import { REPLACEABLE_STATUSES } from '../../jobs/visibility-status.js';
import { JobReader, type RunView, type WaitOptions } from '../../jobs/job-reader.js';
import type { WorkerValues } from '../../jobs/worker-values.js';
import type { BlobStoreMarker } from '../../protocol/blobs.js';
import { storeMarkerWriter } from '../../storage/store-marker.js';
import { createWebhookGuard, type WebhookSettings } from './webhook-guard.js';
import type { Admission } from './in-flight-caps.js';
import type { SubmitOutcome } from './api-metrics.js';
import { JobRuns } from './job-runs.js';

export type { RunView, WaitOptions } from '../../jobs/job-reader.js';

export interface JobServiceOptions {
  client: Client;
  /** Task queue of the `runJob` workflows. @defaultValue 'gpuflow-control' */
  controlTaskQueue?: string;
  /**
   * Longest one API operation waits on Temporal, ms. The client retries an unreachable server for a long time;
   * past this the caller gets a 503 and can retry (submission is idempotent).
   * @defaultValue 5000
   */
  temporalTimeoutMs?: number;
  /** Told the type of every submitted job (feeds the job type catalog; must not throw or block). */
  jobTypes?: { noteSubmitted(type: string): void };
  /** Checks a submission's input against its type's published schema (throws the 400); must not block. */
  inputs?: { check(type: string, input: unknown): void };
  /** Counts submissions by type and outcome (`/metrics`). */
  metrics?: { submit(outcome: SubmitOutcome): void };
  /** The Temporal Web UI, when its address is known: each view links to the job's page there. */
  ui?: { url: string; namespace: string } | undefined;
  /** Absent: webhooks are not enabled, and a submission with one is a 400. */
  webhooks?: WebhookSettings;
  /** Where inputs larger than `payloadThresholdBytes` go, and large outputs come from (the workers' store). */
  blobs?: BlobStore;
  /** @defaultValue 262144 (256 KiB) */
  payloadThresholdBytes?: number;
  /** How worker-produced values are read and their misfits reported. */
  values?: WorkerValues;
  /**
   * Aborted when the API shuts down: every `?wait` ends at once with the job's current view (a client may repeat a
   * wait safely), instead of holding the shutdown for up to the longest wait (300 s).
   */
  shutdown?: AbortSignal;
  /**
   * Asked before every new run of a job (not for a submission answered with an existing job): throws to refuse it,
   * as the per-tenant cap on jobs in flight does (a 429).
   */
  admit?: (tenant: string) => Promise<Admission>;
}

type Started = { runId: string } | { existing: RunView };

/** Longest a cancel of a queued job waits for the job to end before it answers, ms. */
const QUEUED_CANCEL_SETTLE_MS = 2000;

/** Statuses a job can be retried from: those a newer run may replace (a COMPLETED job is the cache). */
const RETRYABLE_STATUSES = REPLACEABLE_STATUSES;

/**
 * Jobs as the API changes them (submit, cancel, retry): Temporal workflows named by job id. Reads go to the read
 * model (`jobs/`, {@link JobReader}). Holds no state of its own.
 */
export class JobService {
  private readonly client: Client;
  private readonly temporalTimeoutMs: number;
  private readonly jobTypes: JobServiceOptions['jobTypes'];
  private readonly inputs: JobServiceOptions['inputs'];
  private readonly metrics: JobServiceOptions['metrics'];
  private readonly checkWebhook: (url: string) => void;
  private readonly blobs: BlobStore | undefined;
  /** Every job carries the marker of this API's store, so that a worker with another store says so. */
  private readonly storeMarker: (() => Promise<BlobStoreMarker | undefined>) | undefined;
  private readonly payloadThresholdBytes: number;
  /** The read model every view of a job comes from. */
  readonly reader: JobReader;
  private readonly shutdown: AbortSignal | undefined;
  /** Starts the job's runs. */
  private readonly runs: JobRuns;

  constructor(options: JobServiceOptions) {
    this.client = options.client;
    this.reader = new JobReader({
      client: options.client,
      blobs: options.blobs,
      values: options.values,
      temporalTimeoutMs: options.temporalTimeoutMs,
      ui: options.ui,
      notFound: (jobId) => new Errors.JobNotFound(jobId),
    });
    this.runs = new JobRuns(options.client, options.controlTaskQueue ?? CONTROL_TASK_QUEUE, options.admit);
    this.temporalTimeoutMs = options.temporalTimeoutMs ?? 5000;
    this.jobTypes = options.jobTypes;
    this.inputs = options.inputs;
    this.metrics = options.metrics;
    this.checkWebhook = createWebhookGuard(options.webhooks);
    this.blobs = options.blobs;
    this.storeMarker = options.blobs ? storeMarkerWriter(options.blobs, (message) => console.warn(message)) : undefined;
    this.payloadThresholdBytes = options.payloadThresholdBytes ?? DEFAULT_PAYLOAD_THRESHOLD_BYTES;
    this.shutdown = options.shutdown;
  }

  /** A wait that also ends when the API shuts down. */
  private untilShutdown(wait: WaitOptions): WaitOptions {
    if (!this.shutdown || !wait.waitMs) return wait;
    return { ...wait, signal: wait.signal ? AbortSignal.any([wait.signal, this.shutdown]) : this.shutdown };
  }

  private bounded<T>(operation: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + this.temporalTimeoutMs, operation);
  }

  /**
   * Starts the job's workflow in `tenant` unless one with its id exists. A running or completed job is returned as
   * it is (`created: false`); a failed, cancelled or timed-out one is started afresh under the same id.
   */
  async submit(
    job: SubmitJob,
    tenant: string,
    waitOptions: WaitOptions = {},
  ): Promise<{ created: boolean; view: JobView }> {
    const wait = this.untilShutdown(waitOptions);
    const jobId = jobIdFor(job, tenant);
    this.inputs?.check(job.type, job.input);
    if (job.webhook !== undefined) this.checkWebhook(job.webhook);
    // The webhook is not part of the id: a deduplicated submission keeps the webhook of the run it returns.
    const webhook = job.webhook !== undefined ? { webhook: job.webhook } : {};
    // The id comes from the whole input; the workflow gets a reference when the input is large.
    const input = this.blobs
      ? await externalizePayload(job.input, this.blobs, this.payloadThresholdBytes, inputBlobKey)
      : job.input;
    const keyed = job.idempotencyKey !== undefined ? { submissionHash: submissionHashOf(job) } : {};
    const marker = await this.storeMarker?.();
    const blobStore = marker ? { blobStore: marker } : {};
    const args: RunJobInput = {
      jobId,
      type: job.type,
      input,
      policy: job.policy,
      ...webhook,
      ...keyed,
      ...blobStore,
      tenant,
    };
    const started = await this.bounded(async (): Promise<Started> => {
      // Look first (unless the id is new by construction): what a submission reruns is then the run that had
      // ended when it arrived, and racers that saw the same run end share one new run, however fast that one ends.
      const existing = job.dedup || keyed.submissionHash ? await this.existing(jobId) : undefined;
      if (existing) return this.rerunOrExisting(args, existing);
      const started = await this.runs.start(args);
      if (started !== undefined) return { runId: started.runId };
      // Another submission created it in between.
      return this.rerunOrExisting(args, await this.reader.viewOf(jobId));
    });
    this.jobTypes?.noteSubmitted(job.type);
    if ('existing' in started) {
      const { view, runId } = started.existing;
      this.metrics?.submit({ type: job.type, deduplicated: true, cacheHit: view.status === 'COMPLETED' });
      if (!wait.waitMs || isTerminal(view.status)) return { created: false, view };
      const known = await this.reader.waitForRun(jobId, runId, wait.waitMs, wait.signal);
      return { created: false, view: (await this.bounded(() => this.reader.viewOf(jobId, { known }))).view };
    }
    this.metrics?.submit({ type: job.type, deduplicated: false, cacheHit: false });
    if (!wait.waitMs) return { created: true, view: (await this.reader.current(jobId)).view };
    // A run started just now has not ended: wait for it at once, without a first view that can only say IN_QUEUE.
    const known = await this.reader.waitForRun(jobId, started.runId, wait.waitMs, wait.signal);
    return { created: true, view: (await this.bounded(() => this.reader.viewOf(jobId, { known }))).view };
  }

  /**
   * The job exists: a job queued, running or completed is the answer; one that ended otherwise runs again, the new
   * run saying which status it replaces (listings and counts then leave the old run out). A key reused with another
   * type or input is a 409, whatever the job's state.
   */
  private async rerunOrExisting(args: RunJobInput, existing: RunView): Promise<Started> {
    if (args.submissionHash !== undefined) await this.assertSameSubmission(args.jobId, existing.runId, args);
    if (!RETRYABLE_STATUSES.has(existing.view.status)) return { existing };
    const started = await this.runs.start(args, { runId: existing.runId, status: existing.view.status });
    // A run started otherwise is running (a late racer of an older run): that run is the answer.
    if (started === undefined) return { existing: await this.reader.viewOf(args.jobId) };
    // Every racer got the same run: only the one whose token it carries started it (201; the others 200).
    const run = this.client.workflow.getHandle(args.jobId, started.runId, { followRuns: false });
    const memo = JobMemoSchema.safeParse((await this.reader.describe(run, args.jobId)).memo ?? {});
    if (memo.success && memo.data.startToken === started.token) return { runId: started.runId };
    return { existing: await this.reader.viewOf(args.jobId, { runId: started.runId }) };
  }

  /** The job's view, or undefined when there is no job with this id. */
  private async existing(jobId: string): Promise<RunView | undefined> {
    try {
      return await this.reader.viewOf(jobId);
    } catch (err) {
      if (err instanceof Errors.JobNotFound) return undefined;
      throw err;
    }
  }

  /** A job started under an idempotency key for another type or input is a 409 (as Stripe answers). */
  private async assertSameSubmission(jobId: string, runId: string, args: { submissionHash?: string }): Promise<void> {
    if (args.submissionHash === undefined) return;
    const run = this.client.workflow.getHandle(jobId, runId, { followRuns: false });
    const description: WorkflowExecutionDescription = await this.reader.describe(run, jobId);
    const memo = JobMemoSchema.safeParse(description.memo ?? {});
    const kept = memo.success ? memo.data.submissionHash : undefined;
    // A job started before hashes were kept has none: nothing to compare.
    if (kept !== undefined && kept !== args.submissionHash) throw new Errors.IdempotencyMismatch(jobId);
  }

  /** The view of the job this submission would create or return in `tenant`, if that job exists; never creates. */
  async check(job: SubmitJob, tenant: string): Promise<JobView | null> {
    const jobId = jobIdFor(job, tenant);
    try {
      const current = await this.reader.current(jobId);
      if (job.idempotencyKey !== undefined) {
        await this.reader.bounded(() =>
          this.assertSameSubmission(jobId, current.runId, { submissionHash: submissionHashOf(job) }),
        );
      }
      return current.view;
    } catch (err) {
      if (err instanceof Errors.JobNotFound) return null;
      throw err;
    }
  }

  /** The job's view; with `waitMs`, once the job has ended or the wait has run out, whichever comes first. */
  get(jobId: string, wait: WaitOptions = {}): Promise<JobView> {
    return this.reader.get(jobId, this.untilShutdown(wait));
  }

  /**
   * Requests cancellation and answers the view as it is now: a running handler sees its signal abort within
   * about a second and the job ends CANCELLED once it has stopped; a queued job ends CANCELLED without starting.
   * A finished job is left as it is.
   */
  cancel(jobId: string): Promise<JobView> {
    return this.bounded(async () => {
      const handle = this.client.workflow.getHandle(jobId);
      const before = await this.reader.viewOf(jobId);
      if (isTerminal(before.view.status)) return before.view;
      try {
        await handle.cancel();
      } catch (err) {
        // It ended between the look and the cancel: nothing left to cancel.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      // A queued job's cancel needs no worker: the workflow ends within a few of its own tasks. Waiting for that
      // answers CANCELLED instead of a moment in between (the attempt cancelled, the workflow not yet closed).
      if (before.view.status === 'IN_QUEUE') {
        const known = await this.reader.waitForRun(jobId, before.runId, QUEUED_CANCEL_SETTLE_MS);
        return (await this.reader.viewOf(jobId, known ? { known } : {})).view;
      }
      return (await this.reader.viewOf(jobId)).view;
    });
  }

  /**
   * Cancels the job only if it is still waiting in the queue (RunPod's purge-queue leaves running jobs alone);
   * whether it did. A job that a worker takes between this look and the cancel is cancelled all the same: the
   * window is one round trip to Temporal.
   */
  cancelQueued(jobId: string): Promise<boolean> {
    return this.bounded(async () => {
      const { view, runId } = await this.reader.viewOf(jobId);
      if (view.status !== 'IN_QUEUE') return false;
      try {
        await this.client.workflow.getHandle(jobId, runId, { followRuns: false }).cancel();
        return true;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    });
  }

  /**
   * Runs a FAILED, TIMED_OUT or CANCELLED job again: a new run under the same id, with the input and policy of the
   * run that ended. Any other status is a 409: a job that is queued, running or completed has nothing to retry.
   */
  retry(jobId: string): Promise<JobView> {
    return this.bounded(async () => {
      const { view, runId } = await this.reader.viewOf(jobId);
      if (!RETRYABLE_STATUSES.has(view.status)) throw new Errors.JobNotRetryable(jobId, view.status);
      // Keyed on the run that ended: every racing retry (or resubmission) of it gets the one run the first started.
      const started = await this.runs.start(await this.runs.argsOf(jobId, runId), { runId, status: view.status });
      // A run started otherwise is running (a late racer of an older run): the job is not retryable now.
      if (started === undefined) {
        throw new Errors.JobNotRetryable(jobId, (await this.reader.viewOf(jobId)).view.status);
      }
      return (await this.reader.viewOf(jobId, { runId: started.runId })).view;
    });
  }

  /** The job's view and the run it describes (the run a stream of its chunks reads). */
  current(jobId: string): Promise<RunView> {
    return this.reader.current(jobId);
  }
}
