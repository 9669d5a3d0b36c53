/** Task queue of the `runJob` workflows and of the orchestrator's light activities. */
export const CONTROL_TASK_QUEUE = 'gpuflow-control';

/** Every job type has a task queue of its own, polled by the job workers that serve that type. */
export function jobTaskQueue(type: string): string {
  return `jobs.${type}`;
}
