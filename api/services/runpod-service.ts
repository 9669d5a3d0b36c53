import type { Client } from '@temporalio/client';
import { JobPolicySchema, JobTypeSchema, type JobView, type SubmitJob } from '../../contracts/job.js';
import {
  RUNPOD_FIELDS_KEY,
  type RunPodHealth,
  type RunPodJobView,
  type RunPodRunBody,
  type RunPodStream,
} from '../../contracts/runpod.js';
import { isTerminal, type JobStatus } from '../../contracts/status.js';
import { describeJobQueue } from '../../jobs/job-queues.js';
import { runpodViewOf } from '../../jobs/runpod-view.js';
import { jobsQuery } from '../../jobs/visibility-status.js';
import { Errors } from '../errors.js';
import type { AdminService } from './admin-service.js';
import type { JobService, WaitOptions } from './job-service.js';
import type { RunPodStreams } from './runpod-stream.js';

/** gpuflow's priority for RunPod's `lowPriority` jobs: dispatched after every other job of the type. */
const LOW_PRIORITY = 5;
/**
 * How long `/cancel` waits for the job to reach its end, so that the answer says CANCELLED, ms. A handler that reports
 * progress learns of a cancel in a heartbeat's answer, within its freshness (1 s by default) and a round trip: 1 s
 * was a coin toss (a CI run answered IN_PROGRESS). The Python SDK gives `cancel` 3 s; a silent handler learns of it
 * only at its next lease renewal, and its answer says IN_PROGRESS whatever this is.
 */
const CANCEL_SETTLE_MS = 2000;

export interface RunPodServiceOptions {
  client: Client;
  controlTaskQueue: string;
  jobs: JobService;
  admin: AdminService;
  streams: RunPodStreams;
  /** HTTP runners of the worker gateway, by type (absent when the gateway is off). */
  runners?: { runnersOf(type: string): { idle: number; running: number } };
  /** The Temporal identity prefix of the gateway's own pollers: counted through `runners`, not as workers. */
  gatewayIdentityPrefix?: string;
}

/**
 * The RunPod Serverless face: RunPod's requests turned into gpuflow submissions, and gpuflow's job views shown the
 * way RunPod shapes them. Writes go through {@link JobService}, every view through the read model.
 */
export class RunPodService {
  constructor(private readonly deps: RunPodServiceOptions) {}

  /**
   * A new job per request, as on RunPod; with `gpuflow.dedup`, `gpuflow.idempotencyKey` or an `Idempotency-Key`
   * header, gpuflow's dedup instead (an identical or same-key request returns the existing job). In `tenant`.
   */
  async run(
    endpoint: string,
    body: RunPodRunBody,
    tenant: string,
    idempotencyKey?: string,
    wait?: WaitOptions,
  ): Promise<JobView> {
    const key = idempotencyKey ?? body.gpuflow?.idempotencyKey;
    const job: SubmitJob = {
      type: typeOf(endpoint),
      input: inputOf(body),
      policy: JobPolicySchema.parse({
        ...(body.policy?.executionTimeout !== undefined && { executionTimeoutMs: body.policy.executionTimeout }),
        ...(body.policy?.ttl !== undefined && { ttlMs: body.policy.ttl }),
        ...(body.policy?.lowPriority && { priority: LOW_PRIORITY }),
      }),
      dedup: key !== undefined || body.gpuflow?.dedup === true,
      ...(key !== undefined && { idempotencyKey: key }),
      ...(body.webhook !== undefined && { webhook: body.webhook }),
    };
    return (await this.deps.jobs.submit(job, tenant, wait)).view;
  }

  async status(endpoint: string, jobId: string, wait: WaitOptions = {}): Promise<RunPodJobView> {
    const first = await this.viewOf(endpoint, jobId);
    if (!wait.waitMs || isTerminal(first.status)) return runpodViewOf(first);
    return runpodViewOf(await this.deps.jobs.get(jobId, wait));
  }

  stream(endpoint: string, jobId: string, signal?: AbortSignal): Promise<RunPodStream> {
    return this.deps.streams.next(jobId, (type) => sameEndpoint(endpoint, type, jobId), signal);
  }

  /** Cancels a queued or running job; the answer waits briefly for the job to have stopped. */
  async cancel(endpoint: string, jobId: string): Promise<{ id: string; status: JobStatus }> {
    await this.viewOf(endpoint, jobId);
    const view = await this.deps.jobs.cancel(jobId);
    const settled = isTerminal(view.status) ? view : await this.deps.jobs.get(jobId, { waitMs: CANCEL_SETTLE_MS });
    return { id: jobId, status: settled.status };
  }

  async retry(endpoint: string, jobId: string): Promise<{ id: string; status: JobStatus }> {
    await this.viewOf(endpoint, jobId);
    const view = await this.deps.jobs.retry(jobId);
    return { id: jobId, status: view.status };
  }

  /** Cancels every job of the type that waits in the queue (of `tenant`; undefined: every tenant's); running jobs go on. */
  async purgeQueue(endpoint: string, tenant: string | undefined): Promise<{ removed: number; status: 'completed' }> {
    const type = typeOf(endpoint);
    const query = jobsQuery({ controlTaskQueue: this.deps.controlTaskQueue, type, status: 'IN_QUEUE', tenant });
    const ids = new Set<string>();
    for await (const execution of this.deps.client.workflow.list({ query })) ids.add(execution.workflowId);
    let removed = 0;
    for (const id of ids) if (await this.deps.jobs.cancelQueued(id)) removed += 1;
    return { removed, status: 'completed' };
  }

  /**
   * Jobs of the type by status (visibility, approximate like `/v1/stats`), and its workers: those that polled the
   * type's task queue lately, `running` as many as there are jobs in progress (a worker may run several at once).
   * Jobs of `tenant` (undefined: every tenant's); workers serve every tenant.
   */
  async health(endpoint: string, tenant: string | undefined): Promise<RunPodHealth> {
    const type = typeOf(endpoint);
    const [{ byStatus, retried }, queue] = await Promise.all([
      this.deps.admin.typeCounts(type, tenant),
      describeJobQueue(this.deps.client, type),
    ]);
    // The gateway polls for its runners: its runners count, not its poller.
    const prefix = this.deps.gatewayIdentityPrefix ?? 'gateway-';
    const native = new Set(queue.workers.map((worker) => worker.identity).filter((id) => !id.startsWith(prefix)));
    const runners = this.deps.runners?.runnersOf(type) ?? { idle: 0, running: 0 };
    const nativeRunning = Math.min(native.size, Math.max(0, byStatus.IN_PROGRESS - runners.running));
    const running = nativeRunning + runners.running;
    const workers = native.size + runners.idle + runners.running;
    return {
      jobs: {
        completed: byStatus.COMPLETED,
        failed: byStatus.FAILED + byStatus.TIMED_OUT,
        inProgress: byStatus.IN_PROGRESS,
        inQueue: byStatus.IN_QUEUE,
        retried,
      },
      workers: {
        idle: workers - running,
        running,
        initializing: 0,
        ready: workers - running,
        throttled: 0,
        unhealthy: 0,
      },
    };
  }

  /** The job's view, if it is a job of this endpoint: ids of other endpoints' jobs are not found here. */
  private async viewOf(endpoint: string, jobId: string): Promise<JobView> {
    const view = await this.deps.jobs.get(jobId);
    sameEndpoint(endpoint, view.type, jobId);
    return view;
  }
}

function typeOf(endpoint: string): string {
  if (!JobTypeSchema.safeParse(endpoint).success) throw new Errors.EndpointNotFound(endpoint);
  return endpoint;
}

function sameEndpoint(endpoint: string, type: string, jobId: string): void {
  if (type !== typeOf(endpoint)) throw new Errors.JobNotFound(jobId);
}

/** The job's input: RunPod's `input`, with `s3Config` under `$runpod` when one was sent (see RUNPOD_FIELDS_KEY). */
function inputOf(body: RunPodRunBody): unknown {
  if (body.s3Config === undefined) return body.input;
  const { input } = body;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Errors.Validation(
      's3Config: needs an object input (the config travels in it, as input.$runpod.s3Config)',
    );
  }
  return { ...input, [RUNPOD_FIELDS_KEY]: { s3Config: body.s3Config } };
}
