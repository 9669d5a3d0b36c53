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
}

/** Jobs as the API sees them: Temporal workflows named by job id. Holds no state of its own. */
export class JobService {
  private readonly client: Client;
  private readonly controlTaskQueue: string;

  constructor(options: JobServiceOptions) {
    this.client = options.client;
    this.controlTaskQueue = options.controlTaskQueue ?? CONTROL_TASK_QUEUE;
  }

  /**
   * Starts the job's workflow unless one with its id exists. A running or completed job is returned as it is
   * (`created: false`); a failed, cancelled or timed-out one is started afresh under the same id.
   */
  async submit(job: SubmitJob): Promise<{ created: boolean; view: JobView }> {
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
    return { created, view: await this.get(jobId) };
  }

  /** The view of the job this submission would create or return, if that job exists; never creates. */
  async check(job: SubmitJob): Promise<JobView | null> {
    try {
      return await this.get(jobIdFor(job));
    } catch (err) {
      if (err instanceof Errors.JobNotFound) return null;
      throw err;
    }
  }

  async get(jobId: string): Promise<JobView> {
    const handle = this.client.workflow.getHandle(jobId);
    const description = await describeOrNotFound(handle, jobId);
    const outcome = description.status.name === 'RUNNING' ? { kind: 'running' as const } : await outcomeOf(handle);
    return buildJobView(description, outcome, this.client.options.loadedDataConverter.payloadConverter);
  }

  /**
   * Requests cancellation and answers the view as it is now: a running handler sees its signal abort within
   * about a second and the job ends CANCELLED once it has stopped. A finished job is left as it is.
   */
  async cancel(jobId: string): Promise<JobView> {
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
    return this.get(jobId);
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
