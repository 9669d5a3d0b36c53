import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { jobTaskQueue } from '../../contracts/task-queues.js';

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
