import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import type { JobView } from '../contracts/job.js';
import { isTerminal } from '../contracts/status.js';
import type { Artifact } from '../protocol/blobs.js';
import type { BlobStore } from '../storage/blob-store.js';
import { BlobUnavailableError } from '../storage/blob-unavailable-error.js';
import { resolvePayload } from '../storage/payloads.js';
import { JobQueueStates } from './job-queues.js';
import { lastAttemptStart } from './last-attempt-start.js';
import { artifactsOf, buildJobView, heartbeatOf, type JobOutcome } from './job-view.js';
import { CompletedRunOutputs } from './run-outcomes.js';
import { withDecodedHeartbeats } from './stored-payloads.js';
import { WorkerValues } from './worker-values.js';

/** No job has this id (or the workflow under it is not a job). */
export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError';
  constructor(readonly jobId: string) {
    super(`no job with id "${jobId}"`);
  }
}

export interface JobReaderOptions {
  client: Client;
  /** Where large outputs are read back from (the workers' store). */
  blobs?: BlobStore | undefined;
  /** How values produced by workers are read and their misfits reported (one per reader keeps reports once). */
  values?: WorkerValues;
  /** Longest one read waits on Temporal, ms, for the bounded reads. @defaultValue 5000 */
  temporalTimeoutMs?: number | undefined;
  /** The error an unknown job is reported with. @defaultValue a {@link JobNotFoundError} */
  notFound?: (jobId: string) => Error;
  /** The Temporal Web UI, when its address is known: each view gets `temporalUiUrl`, the run's page there. */
  ui?: { url: string; namespace: string } | undefined;
}

/** How long a request may wait for its job to end (`?wait=<ms>`), and what stops the wait early. */
export interface WaitOptions {
  waitMs?: number;
  /** Aborted when the client goes away: the wait stops at once. */
  signal?: AbortSignal;
}

/** A run's outcome already known to the caller: a view of that run need not fetch it again. */
export interface KnownOutcome {
  runId: string;
  outcome: JobOutcome;
}

/** A job's view with the run it describes: a retry or resubmission may start a newer run under the same id. */
export interface RunView {
  view: JobView;
  runId: string;
}

/**
 * The read model of one job: its view from what Temporal holds (a describe, the run's result only when the view
 * needs it), waits for its end, its artifacts. Every face of the API and the webhook delivery read jobs here.
 */
export class JobReader {
  private readonly client: Client;
  private readonly blobs: BlobStore | undefined;
  readonly values: WorkerValues;
  private readonly temporalTimeoutMs: number;
  private readonly notFound: (jobId: string) => Error;
  private readonly queueStates: JobQueueStates;
  private readonly completedRuns = new CompletedRunOutputs();
  private readonly ui: JobReaderOptions['ui'];

  constructor(options: JobReaderOptions) {
    this.ui = options.ui;
    this.client = options.client;
    this.blobs = options.blobs;
    this.values = options.values ?? new WorkerValues();
    this.temporalTimeoutMs = options.temporalTimeoutMs ?? 5000;
    this.notFound = options.notFound ?? ((jobId) => new JobNotFoundError(jobId));
    this.queueStates = new JobQueueStates(options.client);
  }

  bounded<T>(operation: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + this.temporalTimeoutMs, operation);
  }

  /** The job's view and the run it describes (the run a stream of its chunks reads). */
  current(jobId: string): Promise<RunView> {
    return this.bounded(() => this.viewOf(jobId));
  }

  /** The job's view; with `waitMs`, once the job has ended or the wait has run out, whichever comes first. */
  async get(jobId: string, { waitMs = 0, signal }: WaitOptions = {}): Promise<JobView> {
    const first = await this.current(jobId);
    if (waitMs <= 0 || isTerminal(first.view.status)) return first.view;
    const known = await this.waitForRun(jobId, first.runId, waitMs, signal);
    return (await this.bounded(() => this.viewOf(jobId, { known }))).view;
  }

  /** The view of one run of a job: the run that ended, even if a newer one has started since (webhooks). */
  async viewOfRun(jobId: string, runId: string): Promise<JobView> {
    return (await this.viewOf(jobId, { runId })).view;
  }

  /** The artifacts the job's current run lists (the pending attempt's heartbeat, else the memo). */
  async artifacts(jobId: string): Promise<Artifact[]> {
    const description = await this.bounded(() => this.describe(this.client.workflow.getHandle(jobId), jobId));
    const heartbeat = heartbeatOf(description, this.client.options.loadedDataConverter.payloadConverter, this.values);
    return artifactsOf(description, heartbeat, this.values);
  }

  /**
   * Resolves when the run ends (its result long-polls the server), the wait runs out or the client leaves; with
   * the run's outcome when it ended.
   */
  async waitForRun(
    jobId: string,
    runId: string,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<KnownOutcome | undefined> {
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), waitMs);
    const leave = (): void => stop.abort();
    signal?.addEventListener('abort', leave, { once: true });
    // Aborted already (the API began shutting down on the way here): an abort event will not come again.
    if (signal?.aborted) stop.abort();
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

  /**
   * The view of the job's latest run, or of the run given; `known` is the outcome a wait has just seen, which
   * spares fetching it again. Not bounded: callers bound it (or not, like webhook delivery, which retries).
   */
  async viewOf(jobId: string, { runId, known }: { runId?: string; known?: KnownOutcome } = {}): Promise<RunView> {
    const handle = this.client.workflow.getHandle(jobId, runId, runId ? { followRuns: false } : undefined);
    const description = await this.describe(handle, jobId);
    const outcome =
      known?.runId === description.runId && description.status.name !== 'RUNNING'
        ? known.outcome
        : await this.outcomeOf(description);
    if (description.status.name === 'COMPLETED') this.completedRuns.remember(description.runId, outcome);
    const { payloadConverter } = this.client.options.loadedDataConverter;
    const view = buildJobView(await this.withStartOfLastAttempt(description), outcome, payloadConverter, this.values);
    // Why is it waiting? Workers polling its task queue (none: no worker serves the type) and the backlog.
    if (view.status === 'IN_QUEUE') {
      const queue = await this.queueStates.of(view.type);
      // Temporal's backlog figure is cached for seconds (0 just after a submit): this job waits too, so count it.
      const backlogCount = Math.max(queue.backlogCount, 1);
      view.queue = { workers: queue.workers.length, backlogCount, paused: queue.paused !== null };
    }
    if (this.ui) view.temporalUiUrl = temporalUiUrlOf(this.ui, jobId, description.runId);
    return { view, runId: description.runId };
  }

  /**
   * A closed run whose memo names no attempt (its worker never said how the attempt ended: a lost worker, a
   * timeout) gets its last attempt's facts from the history, as if the memo held them.
   */
  private async withStartOfLastAttempt(
    description: WorkflowExecutionDescription,
  ): Promise<WorkflowExecutionDescription> {
    if (description.status.name === 'RUNNING') return description;
    const memo = this.values.memo(description.workflowId, description.memo);
    if (memo.startedAt !== undefined) return description;
    const start = await lastAttemptStart(this.client, description.workflowId, description.runId);
    if (!start) return description;
    const attempt = start.attempt !== undefined ? { attempt: start.attempt + (memo.attemptOffset ?? 0) } : {};
    return { ...description, memo: { ...description.memo, ...start, ...attempt } };
  }

  /** The describe of a job's run; unknown ids, and workflows that are not jobs, are not found. */
  async describe(handle: WorkflowHandle, jobId: string): Promise<WorkflowExecutionDescription> {
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw this.notFound(jobId);
      throw err;
    }
    // Other workflows share the namespace (webhook deliveries, the job type catalog): they are not jobs.
    if (description.type !== 'runJob') throw this.notFound(jobId);
    // Heartbeat details come raw (as the codecs left them): decoded here, for every reader of the description.
    return withDecodedHeartbeats(description, this.client.options.loadedDataConverter);
  }

  /**
   * The outcome of the very run described (a resubmission in between starts a newer run under the same id), read
   * from its history only when the view needs it: the output of a completed run, or why a failed run failed when
   * the memo does not say (a terminated run, a workflow of an older build).
   */
  private async outcomeOf(description: WorkflowExecutionDescription): Promise<JobOutcome> {
    switch (description.status.name) {
      case 'RUNNING':
        return { kind: 'running' };
      case 'CANCELLED':
      case 'TIMED_OUT':
        return { kind: 'closed' };
      case 'FAILED':
        if (this.values.memo(description.workflowId, description.memo).error) return { kind: 'closed' };
        break;
      default:
    }
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
      if (err instanceof BlobUnavailableError) return { kind: 'output-unavailable', why: `the output ${err.message}` };
      throw err;
    }
  }
}

/** The run's page in the Temporal Web UI. */
export function temporalUiUrlOf(ui: { url: string; namespace: string }, jobId: string, runId: string): string {
  const path = ['namespaces', ui.namespace, 'workflows', jobId, runId, 'history'].map(encodeURIComponent).join('/');
  return `${ui.url.replace(/\/+$/, '')}/${path}`;
}
