import type { LogEntry } from '@temporalio/worker';

/**
 * Pretty logs of the worker processes (`GPUFLOW_LOG_FORMAT=pretty`): one readable line per job event, from the
 * entries the Temporal SDK logs anyway (a workflow's start and end on the orchestrator, an activity's start and end
 * on a job worker), instead of a JSON dump with a stack trace per failed attempt (the stack goes to the job's log).
 * Entries that are no job event keep one line each, their error shortened to its type and message.
 */

/** `HH:MM:SS.mmm`, local time: what a developer compares with the clock. */
export function clockTime(at: Date = new Date()): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}

const JOB_WORKFLOW = 'runJob';
const EXECUTE_JOB = 'executeJob';

/** The line of an SDK log entry in pretty mode, or undefined for an entry that is no news (debug chatter). */
export function prettyTemporalEntry(entry: LogEntry, debug: boolean): string | undefined {
  const meta = entry.meta ?? {};
  const at = clockTime(new Date(Number(entry.timestampNanos / 1_000_000n)));
  const text = (line: string) => `${at} ${line}`;
  const error = 'error' in meta ? ` ${shortError(meta.error)}` : '';
  const jobId = typeof meta.workflowId === 'string' ? meta.workflowId : undefined;
  if (jobId && meta.workflowType === JOB_WORKFLOW && !('activityType' in meta)) {
    if (entry.message === 'Workflow started') return text(`job ${jobId} submitted`);
    if (entry.message === 'Workflow completed') return text(`job ${jobId} ended`);
    if (entry.message === 'Workflow completed as cancelled') return text(`job ${jobId} ended CANCELLED`);
    if (entry.message === 'Workflow failed') return text(`job ${jobId} ended FAILED:${error}`);
  }
  if (jobId && meta.activityType === EXECUTE_JOB) {
    const attempt = `attempt ${String(meta.attempt ?? '?')}`;
    const took = typeof meta.durationMs === 'number' ? ` in ${(meta.durationMs / 1000).toFixed(1)} s` : '';
    if (entry.message === 'Activity started') return text(`job ${jobId} started (${attempt})`);
    if (entry.message === 'Activity completed') return text(`job ${jobId} ${attempt} finished${took}`);
    if (entry.message === 'Activity completed as cancelled') return text(`job ${jobId} ${attempt} cancelled${took}`);
    if (entry.message === 'Activity failed') return text(`job ${jobId} ${attempt} failed${took}:${error}`);
  }
  if (entry.level === 'DEBUG' || entry.level === 'TRACE') {
    if (!debug) return undefined;
  }
  return text(`${entry.level === 'INFO' ? '' : `${entry.level.toLowerCase()}: `}${entry.message}${error}`);
}

/** `RangeError: the first attempt breaks`: an ApplicationFailure's type when it has one, never the stack. */
export function shortError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const typed = 'type' in err && typeof err.type === 'string' && err.type ? err.type : undefined;
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const type = typed ?? cause?.name ?? err.name;
  return `${type}: ${(err.message || cause?.message || '').split('\n')[0] ?? ''}`;
}

/** Pretty progress lines: at most one per job every `everyMs`, and always the last (100 %). */
export function progressPrinter(print: (line: string) => void, everyMs = 5000) {
  const last = new Map<string, number>();
  return (jobId: string, attempt: number, percent: number, message: string | null): void => {
    const now = Date.now();
    const previous = last.get(jobId);
    if (previous !== undefined && now - previous < everyMs && percent < 100) return;
    last.set(jobId, now);
    if (last.size > 1000) last.delete(last.keys().next().value ?? jobId);
    print(`${clockTime()} job ${jobId} progressed ${percent}%${message ? ` ${message}` : ''} (attempt ${attempt})`);
  };
}
