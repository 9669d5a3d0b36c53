import type { BatchContext } from '../sdk/batch.js';
import type { BatchJobDefinition, JobContext, JobDefinition } from '../sdk/define-job.js';
import { isJobError } from '../sdk/job-error.js';

/** Runs items of one batched job type: each attempt hands in its parsed input and context, and gets its result. */
export interface Batcher {
  /**
   * Resolves with this item's output, or rejects with its error. Rejects with the item's abort reason as soon as
   * its own signal aborts, whether it still waits for a batch or its batch is running.
   */
  run(input: unknown, ctx: JobContext): Promise<unknown>;
}

interface Item {
  input: unknown;
  /** `performance.now()` when it came in: the first waiting item's age decides when its batch starts. */
  arrivedMs: number;
  ctx: JobContext;
  settled: boolean;
  resolve: (output: unknown) => void;
  reject: (err: unknown) => void;
  onAbort: () => void;
}

/**
 * One batcher per batched job type per worker process. Batches of a type run one at a time (one GPU, one model):
 * items that arrive while a batch runs form the next one, which starts when the running one ends if it is full or
 * its first item has waited `maxWaitMs`. Every item stays its own attempt: it keeps its own lease (heartbeats),
 * and its own cancel, timeout or error ends it alone.
 */
export function createBatcher(definition: BatchJobDefinition, resources: unknown, workerId: string): Batcher {
  const { maxSize, maxWaitMs } = definition.batch;
  const waiting: Item[] = [];
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  const settle = (item: Item, outcome: { output: unknown } | { error: unknown }): void => {
    if (item.settled) return;
    item.settled = true;
    item.ctx.signal.removeEventListener('abort', item.onAbort);
    if ('error' in outcome) item.reject(outcome.error);
    else item.resolve(outcome.output);
  };

  const consider = (): void => {
    const first = waiting[0];
    if (running || !first) return;
    const waitedMs = performance.now() - first.arrivedMs;
    if (waiting.length >= maxSize || waitedMs >= maxWaitMs) {
      clearTimeout(timer);
      timer = undefined;
      void runBatch(waiting.splice(0, maxSize));
      return;
    }
    timer ??= setTimeout(
      () => {
        timer = undefined;
        consider();
      },
      Math.max(0, maxWaitMs - waitedMs),
    );
  };

  const runBatch = async (items: Item[]): Promise<void> => {
    running = true;
    const everyItem = new AbortController();
    const checkAll = (): void => {
      if (items.every((item) => item.ctx.signal.aborted)) everyItem.abort(items[0]?.ctx.signal.reason);
    };
    for (const item of items) item.ctx.signal.addEventListener('abort', checkAll, { once: true });
    checkAll();
    const ctx: BatchContext = { workerId, resources, items: items.map((item) => item.ctx), signal: everyItem.signal };
    try {
      const results: unknown = await definition.handler(
        items.map((item) => item.input),
        ctx,
      );
      if (!Array.isArray(results) || results.length !== items.length) {
        const got = Array.isArray(results) ? `${results.length} results` : typeof results;
        throw new TypeError(`the batch handler of ${definition.type} returned ${got} for ${items.length} inputs`);
      }
      items.forEach((item, index) => {
        const result: unknown = results[index];
        settle(item, result instanceof Error || isJobError(result) ? { error: result } : { output: result });
      });
    } catch (err) {
      for (const item of items) settle(item, { error: err });
    } finally {
      for (const item of items) item.ctx.signal.removeEventListener('abort', checkAll);
      running = false;
      consider();
    }
  };

  return {
    run(input, ctx) {
      return new Promise<unknown>((resolve, reject) => {
        if (ctx.signal.aborted) {
          reject(abortReason(ctx.signal));
          return;
        }
        const item: Item = {
          input,
          arrivedMs: performance.now(),
          ctx,
          settled: false,
          resolve,
          reject,
          onAbort: () => {
            const at = waiting.indexOf(item);
            if (at >= 0) waiting.splice(at, 1);
            settle(item, { error: abortReason(ctx.signal) });
          },
        };
        ctx.signal.addEventListener('abort', item.onAbort, { once: true });
        waiting.push(item);
        consider();
      });
    },
  };
}

/** The batchers of one worker process: one per batched job type, made when its first item comes. */
export function createBatchers(workerId: string) {
  const batchers = new Map<BatchJobDefinition, Batcher>();
  return {
    run(definition: BatchJobDefinition, resources: unknown, input: unknown, ctx: JobContext): Promise<unknown> {
      let batcher = batchers.get(definition);
      if (!batcher) {
        batcher = createBatcher(definition, resources, workerId);
        batchers.set(definition, batcher);
      }
      return batcher.run(input, ctx);
    },
  };
}

/** Runs `definition` on one input, as a batch of one: for a local run (`gpuflow test`). */
export function runBatchOfOne(definition: BatchJobDefinition, input: unknown, ctx: JobContext): Promise<unknown> {
  return createBatcher(definition, ctx.resources, ctx.workerId).run(input, ctx);
}

/**
 * Refuses a worker whose slots could never fill a batch: each attempt of a batch holds one of its type's
 * `capacity` slots while the batch runs, so `capacity` must be at least `maxSize`.
 */
export function checkBatchCapacity(jobs: readonly JobDefinition[], capacity: number): void {
  const short = jobs.filter((job) => job.batch && job.batch.maxSize > capacity);
  if (short.length === 0) return;
  const which = short.map((job) => `${job.type} (batch.maxSize ${job.batch?.maxSize})`).join(', ');
  throw new Error(
    `worker capacity ${capacity} can never fill a batch of ${which}: every item of a batch holds one of its ` +
      `type's slots, so raise the capacity (--capacity) to at least batch.maxSize (twice it lets the next batch ` +
      `fill while one runs) or lower batch.maxSize`,
  );
}

/** What an aborted item rejects with (the attempt ends by its signal, whatever this is). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}
