import { proxyActivities } from '@temporalio/workflow';
import type { createBenchActivities } from './temporal-worker.js';

type Activities = ReturnType<typeof createBenchActivities>;

// The lease a gpuflow job has by default; the SDK flushes heartbeats at 80 % of it.
const { progress } = proxyActivities<Activities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '30s' });

/** The raw Temporal counterpart of the cost workload's long job: one activity heartbeating its progress each second. */
export async function benchProgress(seconds: number): Promise<unknown> {
  return progress(seconds);
}
