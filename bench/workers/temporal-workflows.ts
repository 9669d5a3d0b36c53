import { proxyActivities } from '@temporalio/workflow';
import type { createBenchActivities } from './temporal-worker.js';
import { TEMPORAL_QUEUES } from './temporal-queues.js';

type Activities = ReturnType<typeof createBenchActivities>;

const { noop } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });
const { tick } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', taskQueue: TEMPORAL_QUEUES.tick });
const { stamp } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', taskQueue: TEMPORAL_QUEUES.backlog });

/** A one-activity workflow: the raw Temporal counterpart of one gpuflow job. */
export async function benchNoop(payload: { data: string }): Promise<unknown> {
  return noop(payload);
}

export async function benchTick(payload: { data: string }): Promise<unknown> {
  return tick(payload);
}

export async function benchBacklog(payload: { data: string }): Promise<unknown> {
  return stamp(payload);
}
export { benchProgress } from './temporal-cost-workflows.js';
