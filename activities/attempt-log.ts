import { settleWithin } from './settle-within.js';
import type { BlobStore } from '../storage/blob-store.js';
import { JobLogWriter } from '../storage/job-log-writer.js';

/** Longest the end of an attempt waits for its log's last write, ms: a slow store must not hold the attempt. */
const FINAL_FLUSH_TIMEOUT_MS = 5000;
/** Causes of a failure written into the log, at most. */
const MAX_CAUSES = 5;

export interface AttemptLogOptions {
  store: BlobStore | undefined;
  jobId: string;
  attempt: number;
  /** @defaultValue MAX_JOB_LOG_BYTES */
  maxBytes?: number | undefined;
  /** How often the log is written while the attempt runs, ms: the heartbeat period. */
  intervalMs: number;
  /** A write that failed (told once per attempt; the job goes on without its log). */
  warn: (message: string) => void;
}

/**
 * The log of one attempt as the worker keeps it: the handler's lines, and when it fails, the error's type, message
 * and stack trace (the stack goes here, not to the worker's terminal). Without a store it does nothing.
 */
export function attemptLog(options: AttemptLogOptions) {
  let warned = false;
  const warnOnce = (err: unknown): void => {
    if (warned) return;
    warned = true;
    options.warn(`could not write the job's log: ${err instanceof Error ? err.message : String(err)}`);
  };
  const writer = options.store
    ? new JobLogWriter(options.store, options.jobId, options.attempt, {
        maxBytes: options.maxBytes,
        flushIntervalMs: options.intervalMs,
        onError: warnOnce,
      })
    : undefined;
  return {
    line(text: string): void {
      writer?.append(text);
    },
    /** The failure of the attempt: `<type>: <message>`, the stack, and its causes'. */
    failed(err: unknown): void {
      if (!writer) return;
      let current: unknown = err;
      for (let depth = 0; current !== undefined && depth <= MAX_CAUSES; depth += 1) {
        writer.appendText(`${depth === 0 ? 'attempt failed: ' : 'caused by: '}${describeError(current)}`);
        current = current instanceof Error ? current.cause : undefined;
      }
    },
    /** The last write, before the attempt's end is reported; bounded, never throws. */
    async close(): Promise<void> {
      // An attempt that logged nothing has nothing to write, and no write under way.
      if (!writer || writer.lineCount === 0) return;
      await settleWithin(writer.flush().catch(warnOnce), FINAL_FLUSH_TIMEOUT_MS, () =>
        warnOnce(new Error(`the last write took over ${FINAL_FLUSH_TIMEOUT_MS} ms`)),
      );
    },
  };
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const type = 'type' in err && typeof err.type === 'string' && err.type ? err.type : err.name || 'Error';
  const head = `${type}: ${err.message}`;
  // A stack starts with "<name>: <message>": keep only its frames after our own head line.
  const frames = (err.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return [head, ...frames].join('\n');
}
