import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RunJobInput } from '../../contracts/run-job.js';
import { jobIdFor } from '../../contracts/ids.js';
import type { JobView, SubmitJob } from '../../contracts/job.js';
import { JobReplacesKey, JobStatusKey, JobTypeKey } from '../../protocol/search-attributes.js';
import { isTerminal, type JobStatus } from '../../contracts/status.js';
import { CONTROL_TASK_QUEUE } from '../../protocol/task-queues.js';
import { DEFAULT_PAYLOAD_THRESHOLD_BYTES } from '../../protocol/blobs.js';
import type { runJob } from '../../workflows/run-job.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { externalizePayload, inputBlobKey } from '../../storage/payloads.js';
import { Errors } from '../errors.js';
import { REPLACEABLE_STATUSES } from '../../jobs/visibility-status.js';
import { JobReader, type RunView, type WaitOptions } from '../../jobs/job-reader.js';
import type { WorkerValues } from '../../jobs/worker-values.js';
import { createWebhookGuard, type WebhookSettings } from './webhook-guard.js';

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
  /** Absent: webhooks are not enabled, and a submission with one is a 400. */
  webhooks?: WebhookSettings;
  /** Where inputs larger than `payloadThresholdBytes` go, and large outputs come from (the workers' store). */
  blobs?: BlobStore;
  /** @defaultValue 262144 (256 KiB) */
  payloadThresholdBytes?: number;
  /** How worker-produced values are read and their misfits reported. */
  values?: WorkerValues;
}

/** Statuses a job can be retried from: those a newer run may replace (a COMPLETED job is the cache). */
const RETRYABLE_STATUSES = REPLACEABLE_STATUSES;

/**
 * Jobs as the API changes them (submit, cancel, retry): Temporal workflows named by job id. Reads go to the read
 * model (`jobs/`, {@link JobReader}). Holds no state of its own.
 */
export class JobService {
  private readonly client: Client;
  private readonly controlTaskQueue: string;
  private readonly temporalTimeoutMs: number;
  private readonly jobTypes: JobServiceOptions['jobTypes'];
  private readonly checkWebhook: (url: string) => void;
  private readonly blobs: BlobStore | undefined;
  private readonly payloadThresholdBytes: number;
  /** The read model every view of a job comes from. */
  readonly reader: JobReader;

  constructor(options: JobServiceOptions) {
    this.client = options.client;
    this.reader = new JobReader({
      client: options.client,
      blobs: options.blobs,
      values: options.values,
      temporalTimeoutMs: options.temporalTimeoutMs,
      notFound: (jobId) => new Errors.JobNotFound(jobId),
    });
    this.controlTaskQueue = options.controlTaskQueue ?? CONTROL_TASK_QUEUE;
    this.temporalTimeoutMs = options.temporalTimeoutMs ?? 5000;
    this.jobTypes = options.jobTypes;
    this.checkWebhook = createWebhookGuard(options.webhooks);
    this.blobs = options.blobs;
    this.payloadThresholdBytes = options.payloadThresholdBytes ?? DEFAULT_PAYLOAD_THRESHOLD_BYTES;
  }

  private bounded<T>(operation: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + this.temporalTimeoutMs, operation);
  }

  /**
   * Starts the job's workflow unless one with its id exists. A running or completed job is returned as it is
   * (`created: false`); a failed, cancelled or timed-out one is started afresh under the same id.
   */
  async submit(job: SubmitJob, wait: WaitOptions = {}): Promise<{ created: boolean; view: JobView }> {
    const jobId = jobIdFor(job);
    if (job.webhook !== undefined) this.checkWebhook(job.webhook);
    // The webhook is not part of the id: a deduplicated submission keeps the webhook of the run it returns.
    const webhook = job.webhook !== undefined ? { webhook: job.webhook } : {};
    // The id comes from the whole input; the workflow gets a reference when the input is large.
    const input = this.blobs
      ? await externalizePayload(job.input, this.blobs, this.payloadThresholdBytes, inputBlobKey)
      : job.input;
    const args: RunJobInput = { jobId, type: job.type, input, policy: job.policy, ...webhook };
    const started = await this.bounded(async (): Promise<{ runId: string } | { existing: RunView }> => {
      const runId = await this.startRun(args);
      if (runId !== undefined) return { runId };
      // A run exists: a job queued, running or completed is the answer; one that ended otherwise runs again, the
      // new run saying which status it replaces (listings and counts then leave the old run out).
      const existing = await this.reader.viewOf(jobId);
      if (!RETRYABLE_STATUSES.has(existing.view.status)) return { existing };
      const rerunId = await this.startRun(args, existing.view.status);
      // Another submission or a retry started it first: that run is the answer.
      return rerunId !== undefined ? { runId: rerunId } : { existing: await this.reader.viewOf(jobId) };
    });
    this.jobTypes?.noteSubmitted(job.type);
    if ('existing' in started) {
      const { view, runId } = started.existing;
      if (!wait.waitMs || isTerminal(view.status)) return { created: false, view };
      const known = await this.reader.waitForRun(jobId, runId, wait.waitMs, wait.signal);
      return { created: false, view: (await this.bounded(() => this.reader.viewOf(jobId, { known }))).view };
    }
    if (!wait.waitMs) return { created: true, view: (await this.reader.current(jobId)).view };
    // A run started just now has not ended: wait for it at once, without a first view that can only say IN_QUEUE.
    const known = await this.reader.waitForRun(jobId, started.runId, wait.waitMs, wait.signal);
    return { created: true, view: (await this.bounded(() => this.reader.viewOf(jobId, { known }))).view };
  }

  /** The view of the job this submission would create or return, if that job exists; never creates. */
  async check(job: SubmitJob): Promise<JobView | null> {
    try {
      return (await this.reader.current(jobIdFor(job))).view;
    } catch (err) {
      if (err instanceof Errors.JobNotFound) return null;
      throw err;
    }
  }

  /** The job's view; with `waitMs`, once the job has ended or the wait has run out, whichever comes first. */
  get(jobId: string, wait: WaitOptions = {}): Promise<JobView> {
    return this.reader.get(jobId, wait);
  }

  /**
   * Requests cancellation and answers the view as it is now: a running handler sees its signal abort within
   * about a second and the job ends CANCELLED once it has stopped; a queued job ends CANCELLED without starting.
   * A finished job is left as it is.
   */
  cancel(jobId: string): Promise<JobView> {
    return this.bounded(async () => {
      const handle = this.client.workflow.getHandle(jobId);
      const description = await this.reader.describe(handle, jobId);
      if (description.status.name === 'RUNNING') {
        try {
          await handle.cancel();
        } catch (err) {
          // It ended between the describe and the cancel: nothing left to cancel.
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
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
      const started = await this.startRun(await this.startArgsOf(jobId, runId), view.status);
      // Another retry (or a resubmission) started it first: the job is queued or running again, not retryable.
      if (started === undefined) {
        throw new Errors.JobNotRetryable(jobId, (await this.reader.viewOf(jobId)).view.status);
      }
      return (await this.reader.viewOf(jobId)).view;
    });
  }

  /**
   * Starts a run of the job; the id of the run it started, if it did. Without `replaces`, only when no run has
   * ever had this id; with it (the status of the job's run that did not complete), unless one is running or has
   * completed since.
   */
  private async startRun(args: RunJobInput, replaces?: JobStatus): Promise<string | undefined> {
    try {
      const handle = await this.client.workflow.start<typeof runJob>('runJob', {
        workflowId: args.jobId,
        taskQueue: this.controlTaskQueue,
        args: [args],
        // 'FAIL' rather than 'USE_EXISTING': the TS client does not say whether USE_EXISTING created a run.
        workflowIdConflictPolicy: 'FAIL',
        // A completed run is the cache; anything that ended otherwise may run again, saying what it replaces.
        workflowIdReusePolicy: replaces === undefined ? 'REJECT_DUPLICATE' : 'ALLOW_DUPLICATE_FAILED_ONLY',
        typedSearchAttributes: [
          { key: JobTypeKey, value: args.type },
          { key: JobStatusKey, value: 'IN_QUEUE' },
          ...(replaces === undefined ? [] : [{ key: JobReplacesKey, value: replaces }]),
        ],
        priority: { priorityKey: args.policy.priority },
      });
      return handle.firstExecutionRunId;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return undefined;
      throw err;
    }
  }

  /** The `runJob` argument a run was started with: the first event of its history. */
  private async startArgsOf(jobId: string, runId: string): Promise<RunJobInput> {
    const { history } = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.client.options.namespace,
      execution: { workflowId: jobId, runId },
      maximumPageSize: 1,
    });
    const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload) throw new Error(`job ${jobId} run ${runId}: no start event in its history`);
    return this.client.options.loadedDataConverter.payloadConverter.fromPayload<RunJobInput>(payload);
  }

  /** The job's view and the run it describes (the run a stream of its chunks reads). */
  current(jobId: string): Promise<RunView> {
    return this.reader.current(jobId);
  }
}
