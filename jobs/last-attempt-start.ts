import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import type { JobMemo } from '../contracts/run-job.js';

// A CommonJS package: Node's ESM loader only sees its default export.
const { EventType } = proto.temporal.api.enums.v1;

/** Pages of the history read from its end before giving up: the start sits among the last events of a run. */
const MAX_PAGES = 3;

/**
 * The facts of a closed run's last attempt as the server recorded them: the `ActivityTaskStarted` event of its last
 * `executeJob` activity (its attempt, the worker's identity, and its time, which is the attempt's start: the event is
 * written when the attempt ends, with the time it started). For a run whose worker never said how its attempt went
 * (a lost worker, an execution timeout, a TTL); undefined when no attempt started. The history is read backwards,
 * only as far as that event, and only for such runs: a job that ends normally costs no read.
 */
export async function lastAttemptStart(
  client: Client,
  jobId: string,
  runId: string,
): Promise<Pick<JobMemo, 'attempt' | 'workerId' | 'startedAt'> | undefined> {
  let nextPageToken: Uint8Array | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const response = await client.workflowService.getWorkflowExecutionHistoryReverse({
      namespace: client.options.namespace,
      execution: { workflowId: jobId, runId },
      maximumPageSize: 100,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const event of response.history?.events ?? []) {
      if (event.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) continue;
      const started = event.activityTaskStartedEventAttributes;
      const startedMs = optionalTsToMs(event.eventTime);
      if (!started || startedMs === undefined) return undefined;
      return {
        ...(started.attempt ? { attempt: started.attempt } : {}),
        ...(started.identity ? { workerId: started.identity.slice(0, 256) } : {}),
        startedAt: new Date(startedMs).toISOString(),
      };
    }
    if (!response.nextPageToken?.length) return undefined;
    nextPageToken = response.nextPageToken;
  }
  return undefined;
}
