import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { jobTaskQueue } from '../protocol/task-queues.js';
import { ReusedAnswers } from './reused-answers.js';

// A CommonJS package: Node's ESM loader only sees its default export.
const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/** A job type's task queue as Temporal sees it: jobs waiting, and the workers that polled it lately. */
export interface JobQueueState {
  taskQueue: string;
  /** Tasks waiting for a worker (approximate: Temporal counts them asynchronously). */
  backlogCount: number;
  /** Age of the oldest waiting task, ms. */
  backlogAgeMs: number;
  workers: { identity: string; lastSeenAt: string | null }[];
  /** Set while the job type is paused: no worker gets a task of it (see {@link setJobQueuePaused}). */
  paused: { reason: string; since: string | null } | null;
}

/** The reason a pause carries in Temporal; a queue rate limit of 0 set by anyone else reads as paused too. */
const PAUSE_REASON_PREFIX = 'gpuflow pause';

/**
 * Pauses or resumes a job type: a queue rate limit of 0 on `jobs.<type>` (activity tasks), or no API rate limit.
 * Temporal's matching service dispatches no task of a queue whose rate and burst are 0, to any poller (TS, Python,
 * the gateway's), and keeps the limit in the task queue's user data: it survives restarts of every process,
 * Temporal's included. Running activities are not touched, and queued tasks stay in the backlog.
 */
export async function setJobQueuePaused(
  client: Client,
  type: string,
  paused: boolean,
  { identity, reason }: { identity: string; reason?: string },
): Promise<void> {
  await client.workflowService.updateTaskQueueConfig({
    namespace: client.options.namespace,
    identity,
    taskQueue: jobTaskQueue(type),
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    // Without a rate limit in the update, Temporal removes the API-set limit (the queue's default applies).
    updateQueueRateLimit: paused
      ? {
          rateLimit: { requestsPerSecond: 0 },
          reason: reason ? `${PAUSE_REASON_PREFIX}: ${reason}` : PAUSE_REASON_PREFIX,
        }
      : { reason: 'gpuflow resume' },
  });
}

/**
 * Describes `jobs.<type>` (activity tasks): its backlog and its pollers. Temporal keeps pollers for a few minutes
 * after their last poll and caches these figures for about 5 s, so they lag a little; that is enough to tell
 * "no worker serves this type" from "every worker is busy".
 */
export async function describeJobQueue(client: Client, type: string): Promise<JobQueueState> {
  const taskQueue = jobTaskQueue(type);
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    reportStats: true,
    reportConfig: true,
  });
  const stats = response.stats;
  const limit = response.config?.queueRateLimit;
  // A limit set through the API; `rateLimit: {}` is a rate of 0 (proto3 leaves zeros out).
  const paused = limit?.rateLimit && !(Number(limit.rateLimit.requestsPerSecond ?? 0) > 0);
  const since = optionalTsToMs(limit?.metadata?.updateTime);
  return {
    taskQueue,
    backlogCount: Number(stats?.approximateBacklogCount ?? 0),
    backlogAgeMs: optionalTsToMs(stats?.approximateBacklogAge) ?? 0,
    workers: (response.pollers ?? []).map((poller) => {
      const seenMs = optionalTsToMs(poller.lastAccessTime);
      return {
        identity: poller.identity ?? '',
        lastSeenAt: seenMs === undefined ? null : new Date(seenMs).toISOString(),
      };
    }),
    paused: paused
      ? {
          reason: (limit?.metadata?.reason ?? '').replace(new RegExp(`^${PAUSE_REASON_PREFIX}:? ?`), ''),
          since: since === undefined ? null : new Date(since).toISOString(),
        }
      : null,
  };
}

/**
 * How long a job type's queue figures are reused for IN_QUEUE views, ms. Temporal caches them for about 5 s
 * itself, so asking more often only costs a round trip per view.
 */
const QUEUE_STATE_TTL_MS = 1000;
/** Job types whose queue figures are kept at most (any type may be submitted: the cache must stay bounded). */
const QUEUE_STATE_MAX_TYPES = 1000;

/** Queue figures per job type, shared by the views asked for within `QUEUE_STATE_TTL_MS` of each other. */
export class JobQueueStates {
  private readonly states = new ReusedAnswers<JobQueueState>(QUEUE_STATE_TTL_MS, QUEUE_STATE_MAX_TYPES);

  constructor(private readonly client: Client) {}

  of(type: string): Promise<JobQueueState> {
    return this.states.get(type, () => describeJobQueue(this.client, type));
  }
}
