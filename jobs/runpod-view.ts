import type { JobErrorView, JobView } from '../contracts/job.js';
import { RunPodFailureTypes, type RunPodJobView } from '../contracts/runpod.js';

/**
 * A job's view as RunPod shapes it, derived from the one job view (never from Temporal directly): integer ms,
 * `workerId`, `output` holding the result once COMPLETED and the last progress while IN_PROGRESS, `error` as the
 * worker sent it. `now` is when the view was read (the run time of a running job grows with it).
 */
export function runpodViewOf(view: JobView, now: number = Date.now()): RunPodJobView {
  const runpod: RunPodJobView = { id: view.id, status: view.status };
  if (view.status === 'IN_QUEUE') return runpod;
  if (view.delayTimeMs !== null) runpod.delayTime = Math.round(view.delayTimeMs);
  const startedMs = view.startedAt ? Date.parse(view.startedAt) : undefined;
  if (view.executionTimeMs !== null) runpod.executionTime = Math.round(view.executionTimeMs);
  else if (view.status === 'IN_PROGRESS' && startedMs !== undefined) {
    runpod.executionTime = Math.max(0, Math.round(now - startedMs));
  }
  if (view.workerId !== null) runpod.workerId = view.workerId;
  if (view.status === 'COMPLETED') runpod.output = view.output ?? null;
  if (view.status === 'IN_PROGRESS' && view.progress) runpod.output = view.progress;
  if (view.error && (view.status === 'FAILED' || view.status === 'TIMED_OUT')) runpod.error = runpodErrorOf(view.error);
  return runpod;
}

/**
 * The `error` a RunPod client reads: the value a RunPod worker sent (carried by the gateway's failure types), else
 * the message, as a RunPod handler returning `{"error": "..."}` would have it.
 */
export function runpodErrorOf(error: JobErrorView): unknown {
  if (error.type === RunPodFailureTypes.value) {
    try {
      return JSON.parse(error.message) as unknown;
    } catch {
      return error.message;
    }
  }
  return error.message;
}

/**
 * How the gateway carries a RunPod worker's `error` value in a failure (the inverse of {@link runpodErrorOf}):
 * strings as they are, anything else as JSON text under its own type.
 */
export function runpodFailureOf(error: unknown): { type: string; message: string } {
  return typeof error === 'string'
    ? { type: RunPodFailureTypes.text, message: error }
    : { type: RunPodFailureTypes.value, message: JSON.stringify(error) ?? 'null' };
}
