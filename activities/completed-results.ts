import { settleWithin } from './settle-within.js';
import { ExecuteJobResultSchema, type ExecuteJobResult } from '../protocol/activity.js';
import { completedResultKey } from '../protocol/blobs.js';
import type { BlobStore } from '../storage/blob-store.js';

/** Longest a worker that is stopping waits for the results it is still keeping, ms: a slow store must not hold it. */
const LANDED_TIMEOUT_MS = 5000;

/**
 * The results of finished handlers, kept in the blob store per run so that no handler runs twice because its
 * completion could not be reported: the SDK gives up reporting after about 10 s of a server that does not answer,
 * the attempt's lease then runs out, and Temporal schedules the next attempt of the same run.
 */
export function completedResults(store: BlobStore, jobId: string, runId: string) {
  const key = completedResultKey(jobId, runId);
  return {
    /** Kept while the attempt reports its completion (see `keepsInFlight`): once reported, nothing reads it again. */
    async keep(result: ExecuteJobResult): Promise<void> {
      await store.put(key, Buffer.from(JSON.stringify(result), 'utf8'), 'application/json');
    },
    /** What an earlier attempt of this run finished with, or null. A damaged blob counts as none. */
    async find(): Promise<ExecuteJobResult | null> {
      const blob = await store.get(key);
      if (!blob) return null;
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(blob.body).toString('utf8'));
      } catch {
        return null;
      }
      const parsed = ExecuteJobResultSchema.safeParse(value);
      return parsed.success ? parsed.data : null;
    },
  };
}

/**
 * Result writes that run alongside the completion reports instead of before them: a write before the report held
 * every job's completion, and so the worker's next job, for a blob-store round trip (a few ms on a local disk, tens
 * on S3). Nothing is lost by it: the result is safe from the moment its write lands, as it was when the report
 * waited for it, and a report that is lost is followed by the next attempt only after the SDK has tried for
 * about 10 s and the attempt's lease has run out, long after the write landed. A worker that stops waits for
 * the writes still under way (`landed`), so that its process does not exit before they are on disk.
 */
export function keepsInFlight() {
  const writes = new Set<Promise<void>>();
  return {
    /** Tracks `write` (which must not reject) until it settles. */
    add(write: Promise<void>): void {
      writes.add(write);
      void write.finally(() => writes.delete(write));
    },
    /** Resolves when every write under way has settled, or after `LANDED_TIMEOUT_MS`. */
    async landed(): Promise<void> {
      if (writes.size === 0) return;
      await settleWithin(Promise.all(writes), LANDED_TIMEOUT_MS);
    },
  };
}
