/**
 * Task queues of the raw Temporal peer: workflows and no-op activities on one; the 10 ms activities and the backlog
 * workload's activities each on their own, whose workers start once their jobs are queued.
 */
export const TEMPORAL_QUEUES = {
  main: 'bench-temporal',
  tick: 'bench-temporal-tick',
  backlog: 'bench-temporal-backlog',
} as const;
