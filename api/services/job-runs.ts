import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { RunJobInput } from '../../contracts/run-job.js';
import { jobWorkflowDetails, jobWorkflowSummary } from '../../contracts/job-summaries.js';
import type { JobStatus } from '../../contracts/status.js';
import { DEFAULT_TENANT } from '../../contracts/tenant.js';
import { fromStoredPayload } from '../../jobs/stored-payloads.js';
import { JobReplacesKey, JobStatusKey, JobTypeKey, TenantKey } from '../../protocol/search-attributes.js';
import type { runJob } from '../../workflows/run-job.js';
import type { Admission } from './in-flight-caps.js';

/** `@temporalio/client`'s InternalWorkflowStartOptionsSymbol: how its `start` takes a request id. */
const START_OPTIONS = Symbol.for('__temporal_internal_client_workflow_start_options');

/** The run a new one follows: the job's latest, which ended otherwise than COMPLETED. */
export interface EndedRun {
  runId: string;
  status: JobStatus;
}

/** A run this API started: its id, and the token in its memo that says which caller started it. */
export interface StartedRun {
  runId: string;
  token: string;
}

/** Starts the runs of jobs (`runJob` workflows) and reads back what a run was started with. */
export class JobRuns {
  constructor(
    private readonly client: Client,
    private readonly controlTaskQueue: string,
    private readonly admit: ((tenant: string) => Promise<Admission>) | undefined,
  ) {}

  /**
   * Starts a run of the job: the run it started, or undefined when one blocks it. Without `after`, only when no run
   * has ever had this id. With `after` (the job's latest run, which ended otherwise than COMPLETED), unless one is
   * running or has completed since; and every caller with the same `after` gets that same new run: Temporal answers
   * a start whose request id matches the current run's with that run instead of starting another. Without it, a
   * fast-failing job got one new run per racing caller, each seeing the run before closed already.
   */
  async start(args: RunJobInput, after?: EndedRun): Promise<StartedRun | undefined> {
    const tenant = args.tenant ?? DEFAULT_TENANT;
    const admission = await this.admit?.(tenant);
    const token = randomUUID();
    const options = {
      workflowId: args.jobId,
      taskQueue: this.controlTaskQueue,
      args: [args] as [RunJobInput],
      // 'FAIL' rather than 'USE_EXISTING': the TS client does not say whether USE_EXISTING created a run.
      workflowIdConflictPolicy: 'FAIL' as const,
      // A completed run is the cache; anything that ended otherwise may run again, saying what it replaces.
      workflowIdReusePolicy:
        after === undefined ? ('REJECT_DUPLICATE' as const) : ('ALLOW_DUPLICATE_FAILED_ONLY' as const),
      typedSearchAttributes: [
        { key: JobTypeKey, value: args.type },
        { key: JobStatusKey, value: 'IN_QUEUE' },
        { key: TenantKey, value: tenant },
        ...(after === undefined ? [] : [{ key: JobReplacesKey, value: after.status }]),
      ],
      priority: { priorityKey: args.policy.priority },
      // What the Temporal UI lists for the job instead of a bare `runJob`.
      staticSummary: jobWorkflowSummary(args),
      staticDetails: jobWorkflowDetails({ ...args, ...(after ? { replaces: after.status } : {}) }),
      memo: { startToken: token, ...(args.submissionHash ? { submissionHash: args.submissionHash } : {}) },
      // The TS client takes a request id only through this SDK-internal option (a Symbol.for key).
      [START_OPTIONS]: { requestId: after ? `gpuflow-rerun-of-${after.runId}` : token },
    };
    try {
      const handle = await this.client.workflow.start<typeof runJob>('runJob', options);
      admission?.started(handle.firstExecutionRunId);
      return { runId: handle.firstExecutionRunId, token };
    } catch (err) {
      admission?.abandoned();
      if (err instanceof WorkflowExecutionAlreadyStartedError) return undefined;
      throw err;
    }
  }

  /** The `runJob` argument a run was started with: the first event of its history. */
  async argsOf(jobId: string, runId: string): Promise<RunJobInput> {
    const { history } = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.client.options.namespace,
      execution: { workflowId: jobId, runId },
      maximumPageSize: 1,
    });
    const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload) throw new Error(`job ${jobId} run ${runId}: no start event in its history`);
    return fromStoredPayload<RunJobInput>(this.client.options.loadedDataConverter, payload);
  }
}
