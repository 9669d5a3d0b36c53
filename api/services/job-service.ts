import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import type { RunJobInput } from '../../contracts/run-job.js';
import { jobIdFor } from '../../contracts/ids.js';
import type { JobView, SubmitJob } from '../../contracts/job.js';
import { JobStatusKey, JobTypeKey } from '../../protocol/search-attributes.js';
import { isTerminal, type JobStatus } from '../../contracts/status.js';
import { CONTROL_TASK_QUEUE } from '../../protocol/task-queues.js';
import { DEFAULT_PAYLOAD_THRESHOLD_BYTES } from '../../protocol/blobs.js';
import type { runJob } from '../../workflows/run-job.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { externalizePayload, inputBlobKey, resolvePayload } from '../../storage/payloads.js';
import { Errors } from '../errors.js';
import { JobQueueStates } from '../../jobs/job-queues.js';
import { buildJobView, type JobOutcome } from '../../jobs/job-view.js';
import { createWebhookGuard, type WebhookSettings } from './webhook-guard.js';
import { CompletedRunOutputs } from '../../jobs/run-outcomes.js';
import { fromStoredPayload, withDecodedHeartbeats } from '../../jobs/stored-payloads.js';

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
}

/** How long a request may wait for its job to end (`?wait=<ms>`), and what stops the wait early. */
export interface WaitOptions {
  waitMs?: number;
  /** Aborted when the client goes away: the wait stops at once. */
  signal?: AbortSignal;
}

/** Statuses a job can be retried from (a COMPLETED job is the cache and stays as it is). */
const RETRYABLE_STATUSES: ReadonlySet<JobStatus> = new Set(['FAILED', 'TIMED_OUT', 'CANCELLED']);

/** A run's outcome already known to the caller: a view of that run need not fetch it again. */
interface KnownOutcome {
  runId: string;
  outcome: JobOutcome;
}

/** A job's view with the run it describes: a retry or resubmission may start a newer run under the same id. */
export interface RunView {
  view: JobView;
  runId: string;
}

/** Jobs as the API sees them: Temporal workflows named by job id. Holds no state of its own. */
export class JobService {
  private readonly client: Client;
  private readonly controlTaskQueue: string;
  private readonly temporalTimeoutMs: number;
  private readonly jobTypes: JobServiceOptions['jobTypes'];
  private readonly checkWebhook: (url: string) => void;
  private readonly blobs: BlobStore | undefined;
  private readonly payloadThresholdBytes: number;
  private readonly queueStates: JobQueueStates;
  private readonly completedRuns = new CompletedRunOutputs();

  constructor(options: JobServiceOptions) {
    this.client = options.client;
    this.queueStates = new JobQueueStates(options.client);
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
    const runId = await this.bounded(() =>
      this.startRun({ jobId, type: job.type, input, policy: job.policy, ...webhook }),
    );
    this.jobTypes?.noteSubmitted(job.type);
    if (runId === undefined || !wait.waitMs)
      return { created: runId !== undefined, view: await this.viewAfterWait(jobId, wait) };
    // A run started just now has not ended: wait for it at once, without a first view that can only say IN_QUEUE.
    const known = await this.waitForRun(jobId, runId, wait.waitMs, wait.signal);
    return { created: true, view: (await this.bounded(() => this.viewOf(jobId, { known }))).view };
  }

  /** The view of the job this submission would create or return, if that job exists; never creates. */
  async check(job: SubmitJob): Promise<JobView | null> {
    try {
      return (await this.bounded(() => this.viewOf(jobIdFor(job)))).view;
    } catch (err) {
      if (err instanceof Errors.JobNotFound) return null;
      throw err;
    }
  }

  /** The job's view; with `waitMs`, once the job has ended or the wait has run out, whichever comes first. */
  get(jobId: string, wait: WaitOptions = {}): Promise<JobView> {
    return this.viewAfterWait(jobId, wait);
  }

  /**
   * Requests cancellation and answers the view as it is now: a running handler sees its signal abort within
   * about a second and the job ends CANCELLED once it has stopped; a queued job ends CANCELLED without starting.
   * A finished job is left as it is.
   */
  cancel(jobId: string): Promise<JobView> {
    return this.bounded(async () => {
      const handle = this.client.workflow.getHandle(jobId);
      const description = await describeOrNotFound(handle, jobId);
      if (description.status.name === 'RUNNING') {
        try {
          await handle.cancel();
        } catch (err) {
          // It ended between the describe and the cancel: nothing left to cancel.
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }
      return (await this.viewOf(jobId)).view;
    });
  }

  /**
   * Runs a FAILED, TIMED_OUT or CANCELLED job again: a new run under the same id, with the input and policy of the
   * run that ended. Any other status is a 409: a job that is queued, running or completed has nothing to retry.
   */
  retry(jobId: string): Promise<JobView> {
    return this.bounded(async () => {
      const { view, runId } = await this.viewOf(jobId);
      if (!RETRYABLE_STATUSES.has(view.status)) throw new Errors.JobNotRetryable(jobId, view.status);
      const started = await this.startRun(await this.startArgsOf(jobId, runId));
      // Another retry (or a resubmission) started it first: the job is queued or running again, not retryable.
      if (started === undefined) throw new Errors.JobNotRetryable(jobId, (await this.viewOf(jobId)).view.status);
      return (await this.viewOf(jobId)).view;
    });
  }

  /** Starts a run of the job unless one is running or has completed; the id of the run it started, if it did. */
  private async startRun(args: RunJobInput): Promise<string | undefined> {
    try {
      const handle = await this.client.workflow.start<typeof runJob>('runJob', {
        workflowId: args.jobId,
        taskQueue: this.controlTaskQueue,
        args: [args],
        // 'FAIL' rather than 'USE_EXISTING': the TS client does not say whether USE_EXISTING created a run.
        workflowIdConflictPolicy: 'FAIL',
        // A completed run is the cache; anything that ended otherwise may run again.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        typedSearchAttributes: [
          { key: JobTypeKey, value: args.type },
          { key: JobStatusKey, value: 'IN_QUEUE' },
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
    return fromStoredPayload<RunJobInput>(this.client.options.loadedDataConverter, payload);
  }

  private async viewAfterWait(jobId: string, { waitMs = 0, signal }: WaitOptions): Promise<JobView> {
    const first = await this.bounded(() => this.viewOf(jobId));
    if (waitMs <= 0 || isTerminal(first.view.status)) return first.view;
    const known = await this.waitForRun(jobId, first.runId, waitMs, signal);
    return (await this.bounded(() => this.viewOf(jobId, { known }))).view;
  }

  /**
   * Resolves when the run ends (its result long-polls the server), the wait runs out or the client leaves; with
   * the run's outcome when it ended.
   */
  private async waitForRun(
    jobId: string,
    runId: string,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<KnownOutcome | undefined> {
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), waitMs);
    const leave = (): void => stop.abort();
    signal?.addEventListener('abort', leave, { once: true });
    try {
      const run = this.client.workflow.getHandle(jobId, runId, { followRuns: false });
      return { runId, outcome: await this.client.withAbortSignal(stop.signal, () => this.endOf(run)) };
    } catch {
      // The wait ran out or the client left: the view tells the rest.
      return undefined;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', leave);
    }
  }

  /** The job's view and the run it describes (the run a stream of its chunks reads). */
  current(jobId: string): Promise<RunView> {
    return this.bounded(() => this.viewOf(jobId));
  }

  /** The view of one run of a job: the run that ended, even if a newer one has started since (webhooks). */
  async viewOfRun(jobId: string, runId: string): Promise<JobView> {
    return (await this.viewOf(jobId, { runId })).view;
  }

  /**
   * The view of the job's latest run, or of the run given; `known` is the outcome a wait has just seen, which
   * spares fetching it again.
   */
  private async viewOf(
    jobId: string,
    { runId, known }: { runId?: string; known?: KnownOutcome } = {},
  ): Promise<RunView> {
    const handle = this.client.workflow.getHandle(jobId, runId, runId ? { followRuns: false } : undefined);
    const description = await withDecodedHeartbeats(
      await describeOrNotFound(handle, jobId),
      this.client.options.loadedDataConverter,
    );
    const outcome =
      known?.runId === description.runId && description.status.name !== 'RUNNING'
        ? known.outcome
        : await this.outcomeOf(description);
    if (description.status.name === 'COMPLETED') this.completedRuns.remember(description.runId, outcome);
    const view = buildJobView(description, outcome, this.client.options.loadedDataConverter.payloadConverter);
    // Why is it waiting? Workers polling its task queue (none: no worker serves the type) and the backlog.
    if (view.status === 'IN_QUEUE') {
      const queue = await this.queueStates.of(view.type);
      view.queue = { workers: queue.workers.length, backlogCount: queue.backlogCount };
    }
    return { view, runId: description.runId };
  }

  /** The outcome of the very run described: a resubmission in between starts a newer run under the same id. */
  private async outcomeOf(description: WorkflowExecutionDescription): Promise<JobOutcome> {
    if (description.status.name === 'RUNNING') return { kind: 'running' };
    return (
      this.completedRuns.get(description.runId) ??
      this.endOf(this.client.workflow.getHandle(description.workflowId, description.runId, { followRuns: false }))
    );
  }

  /** How a closed run ended (its result long-polls until it has): the output, large ones read back from the store. */
  private async endOf(run: WorkflowHandle): Promise<JobOutcome> {
    try {
      return { kind: 'completed', output: await resolvePayload(await run.result(), this.blobs) };
    } catch (err) {
      if (err instanceof WorkflowFailedError) return { kind: 'failed', failure: err };
      throw err;
    }
  }
}

async function describeOrNotFound(handle: WorkflowHandle, jobId: string) {
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new Errors.JobNotFound(jobId);
    throw err;
  }
  // Other workflows share the namespace (webhook deliveries, the job type catalog): they are not jobs.
  if (description.type !== 'runJob') throw new Errors.JobNotFound(jobId);
  return description;
}
