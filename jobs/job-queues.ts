import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { jobTaskQueue } from '../protocol/task-queues.js';

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
  });
  const stats = response.stats;
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
  private readonly states = new Map<string, { at: number; state: Promise<JobQueueState> }>();

  constructor(private readonly client: Client) {}

  of(type: string): Promise<JobQueueState> {
    const now = Date.now();
    const cached = this.states.get(type);
    if (cached && now - cached.at < QUEUE_STATE_TTL_MS) return cached.state;
    if (this.states.size >= QUEUE_STATE_MAX_TYPES) this.states.clear();
    const state = describeJobQueue(this.client, type);
    this.states.set(type, { at: now, state });
    state.catch(() => {
      if (this.states.get(type)?.state === state) this.states.delete(type);
    });
    return state;
  }
}
