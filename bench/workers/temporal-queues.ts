/** Task queues of the raw Temporal peer: workflows and no-op activities on one, the 10 ms activities on another. */
export const TEMPORAL_QUEUES = { main: 'bench-temporal', tick: 'bench-temporal-tick' } as const;
