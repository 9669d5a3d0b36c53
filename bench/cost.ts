import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import proto from '@temporalio/proto';
import type { BenchClient, CostJob, Metric } from './types.js';

// A CommonJS package: Node's ESM loader only sees its default export.
const { EventType } = proto.temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** What one job cost the Temporal server, counted from its history and the server's request counter. */
export type CostFigures = Record<
  'history_events' | 'workflow_tasks' | 'signals' | 'sa_upserts' | 'memo_upserts' | 'heartbeats' | 'actions',
  number
>;

/** Search attribute the SDKs upsert for `patched()`: Temporal Cloud does not bill its upserts. */
const CHANGE_VERSION = 'TemporalChangeVersion';

/**
 * The counts of one job's history, and the billable actions they add up to on Temporal Cloud
 * (docs.temporal.io/cloud/actions): the workflow start, each activity attempt started, each timer, each signal
 * received, each search-attribute upsert (not those at start, not TemporalChangeVersion's), each child workflow
 * (two), and each heartbeat that reached the server. Memo upserts (WorkflowPropertiesModified) are not on the list:
 * they cost a history event, not an action. Workflow tasks are not billed either; they are the server's work.
 */
export function costOf(events: readonly HistoryEvent[], heartbeats: number): CostFigures {
  const count = (type: temporal.api.enums.v1.EventType): number =>
    events.filter((event) => event.eventType === type).length;
  const billableUpserts = events.filter((event) => {
    if (event.eventType !== EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) return false;
    const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
    return Object.keys(fields).some((key) => key !== CHANGE_VERSION);
  }).length;
  // An activity's started event is written once, for its last attempt, which says how many ran.
  const activityAttempts = events
    .filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
    .reduce((sum, event) => sum + (event.activityTaskStartedEventAttributes?.attempt ?? 1), 0);
  const signals = count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  const actions =
    count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) +
    activityAttempts +
    count(EventType.EVENT_TYPE_TIMER_STARTED) +
    signals +
    billableUpserts +
    2 * count(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED) +
    heartbeats;
  return {
    history_events: events.length,
    workflow_tasks: count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    signals,
    sa_upserts: count(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
    memo_upserts: count(EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED),
    heartbeats,
    actions,
  };
}

/** Heartbeat calls the server's frontend has answered so far (both forms: by task token and by activity id). */
export async function heartbeatCalls(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('service_requests{') || !line.includes('service_name="frontend"')) continue;
    if (!/operation="RecordActivityTaskHeartbeat(ById)?"/.test(line)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}

export interface CostRequest {
  temporalAddress: string;
  metricsUrl: string;
  progressSeconds: number;
}

/**
 * Runs each cost job once, alone on the server (nothing else heartbeats meanwhile), and counts what it cost. The
 * counter is read again a moment after the job ends: the server counts a request once it has answered it.
 */
export async function measureCost(
  client: BenchClient,
  request: CostRequest,
): Promise<{ job: CostJob; metric: Metric; value: number }[]> {
  if (!client.cost) throw new Error('this system has no cost workload');
  const connection = await Connection.connect({ address: request.temporalAddress });
  const temporalClient = new Client({ connection, namespace: 'default' });
  const rows: { job: CostJob; metric: Metric; value: number }[] = [];
  try {
    const jobs: [CostJob, () => Promise<string>][] = [
      ['noop', () => client.cost!.noop()],
      [`progress-${request.progressSeconds}s`, () => client.cost!.progress(request.progressSeconds)],
    ];
    for (const [job, run] of jobs) {
      const before = await heartbeatCalls(request.metricsUrl);
      const workflowId = await run();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const heartbeats = (await heartbeatCalls(request.metricsUrl)) - before;
      const history = await temporalClient.workflow.getHandle(workflowId).fetchHistory();
      const figures = costOf(history.events ?? [], heartbeats);
      for (const [metric, value] of Object.entries(figures)) rows.push({ job, metric: metric as Metric, value });
    }
  } finally {
    await connection.close();
  }
  return rows;
}
