import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { RunJobInput } from '../../contracts/execution.js';
import { jobIdFor } from '../../contracts/ids.js';
import type { JobView, SubmitJob } from '../../contracts/job.js';
import { JobStatusKey, JobTypeKey } from '../../contracts/search-attributes.js';
import { CONTROL_TASK_QUEUE } from '../../contracts/task-queues.js';
import type { runJob } from '../../workflows/run-job.js';
import { Errors } from '../errors.js';
import { buildJobView, type JobOutcome } from './job-view.js';

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
}

/** Jobs as the API sees them: Temporal workflows named by job id. Holds no state of its own. */
export class JobService {
  private readonly client: Client;
  private readonly controlTaskQueue: string;
  private readonly temporalTimeoutMs: number;
  private readonly jobTypes: JobServiceOptions['jobTypes'];

  constructor(options: JobServiceOptions) {
    this.client = options.client;
    this.controlTaskQueue = options.controlTaskQueue ?? CONTROL_TASK_QUEUE;
    this.temporalTimeoutMs = options.temporalTimeoutMs ?? 5000;
    this.jobTypes = options.jobTypes;
  }

  private bounded<T>(operation: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + this.temporalTimeoutMs, operation);
  }

  /**
   * Starts the job's workflow unless one with its id exists. A running or completed job is returned as it is
   * (`created: false`); a failed, cancelled or timed-out one is started afresh under the same id.
   */
  submit(job: SubmitJob): Promise<{ created: boolean; view: JobView }> {
    return this.bounded(() => this.submitNow(job));
  }

  private async submitNow(job: SubmitJob): Promise<{ created: boolean; view: JobView }> {
    const jobId = jobIdFor(job);
    const args: RunJobInput = { jobId, type: job.type, input: job.input, policy: job.policy };
    let created = true;
    try {
      await this.client.workflow.start<typeof runJob>('runJob', {
        workflowId: jobId,
        taskQueue: this.controlTaskQueue,
        args: [args],
        // 'FAIL' rather than 'USE_EXISTING': the TS client does not say whether USE_EXISTING created a run.
        workflowIdConflictPolicy: 'FAIL',
        // A completed run is the cache; anything that ended otherwise may run again.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        typedSearchAttributes: [
          { key: JobTypeKey, value: job.type },
          { key: JobStatusKey, value: 'IN_QUEUE' },
        ],
        priority: { priorityKey: job.policy.priority },
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      created = false;
    }
    this.jobTypes?.noteSubmitted(job.type);
    return { created, view: await this.viewOf(jobId) };
  }

  /** The view of the job this submission would create or return, if that job exists; never creates. */
  async check(job: SubmitJob): Promise<JobView | null> {
    try {
      return await this.bounded(() => this.viewOf(jobIdFor(job)));
    } catch (err) {
      if (err instanceof Errors.JobNotFound) return null;
      throw err;
    }
  }

  get(jobId: string): Promise<JobView> {
    return this.bounded(() => this.viewOf(jobId));
  }

  private async viewOf(jobId: string): Promise<JobView> {
    const handle = this.client.workflow.getHandle(jobId);
    const description = await describeOrNotFound(handle, jobId);
    // The outcome of the very run just described: a resubmission in between starts a newer run under the same id.
    const run = this.client.workflow.getHandle(jobId, description.runId, { followRuns: false });
    const outcome = description.status.name === 'RUNNING' ? { kind: 'running' as const } : await outcomeOf(run);
    return buildJobView(description, outcome, this.client.options.loadedDataConverter.payloadConverter);
  }

  /**
   * Requests cancellation and answers the view as it is now: a running handler sees its signal abort within
   * about a second and the job ends CANCELLED once it has stopped. A finished job is left as it is.
   */
  cancel(jobId: string): Promise<JobView> {
    return this.bounded(() => this.cancelNow(jobId));
  }

  private async cancelNow(jobId: string): Promise<JobView> {
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
    return this.viewOf(jobId);
  }
}

async function describeOrNotFound(handle: WorkflowHandle, jobId: string) {
  try {
    return await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new Errors.JobNotFound(jobId);
    throw err;
  }
}

async function outcomeOf(handle: WorkflowHandle): Promise<JobOutcome> {
  try {
    return { kind: 'completed', output: await handle.result() };
  } catch (err) {
    if (err instanceof WorkflowFailedError) return { kind: 'failed', failure: err };
    throw err;
  }
}
