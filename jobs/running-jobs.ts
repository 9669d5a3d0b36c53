import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { JobView } from '../contracts/job.js';
import { buildJobView } from './job-view.js';
import { mapBounded } from './map-bounded.js';
import { withDecodedHeartbeats } from './stored-payloads.js';
import type { WorkerValues } from './worker-values.js';

/**
 * The listing rows of running jobs, from a describe each. Workers no longer report an attempt's start (a signal and
 * a search-attribute upsert cost two billable actions and a workflow task per job), so visibility cannot tell a
 * queued job from a running one: the pending activity can (its state, attempt, worker, start time). One describe
 * per running row of a page, `concurrency` at a time; a run that closed in between keeps its visibility row.
 */
export async function runningRows(
  client: Client,
  infos: readonly WorkflowExecutionInfo[],
  values: WorkerValues,
  concurrency = 8,
): Promise<Map<string, JobView>> {
  const running = infos.filter((info) => info.status.name === 'RUNNING');
  const described = await mapBounded(running, concurrency, async (info): Promise<[string, JobView] | undefined> => {
    try {
      const raw = await client.workflow.getHandle(info.workflowId, info.runId, { followRuns: false }).describe();
      if (raw.status.name !== 'RUNNING') return undefined;
      const description = await withDecodedHeartbeats(raw, client.options.loadedDataConverter);
      const view = buildJobView(
        description,
        { kind: 'running' },
        client.options.loadedDataConverter.payloadConverter,
        values,
      );
      // Listings carry no progress: GET the job for it.
      return [info.runId, { ...view, progress: null }];
    } catch {
      // Gone or unreachable meanwhile: the row stays as visibility has it.
      return undefined;
    }
  });
  return new Map(described.filter((row) => row !== undefined));
}
