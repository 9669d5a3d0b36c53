import type { CustomSlotSupplier, ActivitySlotInfo, SlotPermit } from '@temporalio/worker';

/** A job as a RunPod worker receives it from job-take: the handler gets this object as is. */
export interface RunnerJob {
  id: string;
  input: unknown;
  /** RunPod's job-level fields (`s3Config`), beside `input` as RunPod sends them. */
  [field: string]: unknown;
}

/** A runner's job-take held open: it resolves with the job handed to it, if the connection is still there. */
interface Waiter {
  worker: string;
  /** A Runpack runner's ask: the job is only offered, and its attempt starts when the runner claims it. */
  deferStart: boolean;
  /** Writes the job to the runner; false when the connection has gone (the job then goes to another waiter). */
  deliver(job: RunnerJob): boolean;
  isGone(): boolean;
}

/** How many runners of a type this replica sees, for `/health` (`workers`) and `/v1/queues`. */
export interface RunnerCounts {
  idle: number;
  running: number;
}

export interface RunnerState {
  worker: string;
  types: string[];
  lastSeenAt: string;
  /** RunPod job ids this runner holds (handed out by this replica and not ended). */
  jobs: number;
}

/** A runner as {@link Runners.snapshot} shows it; `jobsByType` holds the type of each job it holds. */
export interface RunnerSnapshot {
  worker: string;
  types: string[];
  jobsByType: string[];
  lastSeenMs: number;
}

/** A runner not heard from for this long (no take, ping or post) is no longer counted, ms. */
export const RUNNER_STALE_MS = 60_000;

/**
 * The gateway's view of its runners on this replica: who waits for a job of which type, and who holds jobs. It is
 * also the slot supplier of each type's Temporal worker: a slot (and with it a poll of `jobs.<type>`) exists only
 * while a runner waits, so Temporal hands the gateway a task only when someone is there to run it.
 */
export class Runners {
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly slots = new Map<string, TypeSlots>();
  private readonly seen = new Map<string, { types: Set<string>; lastSeenMs: number; jobs: Map<string, string> }>();

  /** Records that `worker` is alive and serves `type` (every request it makes). */
  touch(worker: string, type: string): void {
    const entry = this.seen.get(worker) ?? { types: new Set<string>(), lastSeenMs: 0, jobs: new Map() };
    entry.types.add(type);
    entry.lastSeenMs = Date.now();
    this.seen.set(worker, entry);
  }

  /** Marks the RunPod job `id` (of `type`) held by `worker` until {@link Runners.released}. */
  held(worker: string, type: string, id: string): void {
    this.touch(worker, type);
    this.seen.get(worker)?.jobs.set(id, type);
  }

  released(worker: string, id: string): void {
    this.seen.get(worker)?.jobs.delete(id);
  }

  /**
   * Holds a job-take until a task of `type` is handed to this runner, `timeoutMs` pass (null: answer 204) or the
   * client goes away (`signal`).
   */
  wait(
    type: string,
    worker: string,
    timeoutMs: number,
    signal: AbortSignal,
    deferStart = false,
  ): Promise<RunnerJob | null> {
    this.touch(worker, type);
    return new Promise((resolve) => {
      const queue = this.waiting.get(type) ?? [];
      this.waiting.set(type, queue);
      let done = false;
      const finish = (job: RunnerJob | null): void => {
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        resolve(job);
      };
      const waiter: Waiter = {
        worker,
        deferStart,
        isGone: () => done || signal.aborted,
        deliver: (job) => {
          if (done || signal.aborted) return false;
          finish(job);
          return true;
        },
      };
      const onAbort = (): void => finish(null);
      const timer = setTimeout(() => finish(null), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.slotsOf(type).offer();
    });
  }

  /**
   * The runner a task of `type` that Temporal has just handed the gateway goes to: the longest-waiting one whose
   * connection is still open. When none is left (its connection dropped while the task was on its way), waits up
   * to `timeoutMs` for the next one: a runpod worker asks again as soon as a take ends.
   */
  async handOut(
    type: string,
    job: RunnerJob,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<{ worker: string; deferStart: boolean } | undefined> {
    const slots = this.slotsOf(type);
    slots.arrived();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const queue = this.waiting.get(type) ?? [];
      while (queue.length > 0) {
        const waiter = queue.shift() as Waiter;
        if (waiter.deliver(job)) return { worker: waiter.worker, deferStart: waiter.deferStart };
      }
      if (Date.now() >= deadline || signal.aborted) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The slot supplier of the Temporal worker of `type`. */
  slotSupplier(type: string): CustomSlotSupplier<ActivitySlotInfo> {
    return this.slotsOf(type).supplier();
  }

  /** Runners of `type` seen lately: `running` holds at least one of its jobs, `idle` none. */
  runnersOf(type: string): RunnerCounts {
    const counts = { idle: 0, running: 0 };
    const now = Date.now();
    for (const entry of this.seen.values()) {
      if (!entry.types.has(type) || now - entry.lastSeenMs > RUNNER_STALE_MS) continue;
      if ([...entry.jobs.values()].includes(type)) counts.running++;
      else counts.idle++;
    }
    return counts;
  }

  /** The types of every runner seen lately (for `/metrics`: a type may have runners and no job yet). */
  types(): string[] {
    const now = Date.now();
    const types = new Set<string>();
    for (const entry of this.seen.values()) {
      if (now - entry.lastSeenMs <= RUNNER_STALE_MS) for (const type of entry.types) types.add(type);
    }
    return [...types];
  }

  /** Every runner of `type` seen lately, for `/v1/queues`. */
  list(type: string): RunnerState[] {
    const now = Date.now();
    return [...this.seen.entries()]
      .filter(([, entry]) => entry.types.has(type) && now - entry.lastSeenMs <= RUNNER_STALE_MS)
      .map(([worker, entry]) => ({
        worker,
        types: [...entry.types],
        lastSeenAt: new Date(entry.lastSeenMs).toISOString(),
        jobs: entry.jobs.size,
      }));
  }

  /**
   * Every runner seen in the last `withinMs` (read only, for `GET /v1/workers`): its types, the jobs it holds by
   * type, when it was last heard from and whether a take of it is open now (waiting counts as alive).
   */
  snapshot(withinMs: number): RunnerSnapshot[] {
    const now = Date.now();
    const waiting = new Set<string>();
    for (const queue of this.waiting.values())
      for (const waiter of queue) if (!waiter.isGone()) waiting.add(waiter.worker);
    return [...this.seen.entries()]
      .filter(([worker, entry]) => waiting.has(worker) || now - entry.lastSeenMs <= withinMs)
      .map(([worker, entry]) => ({
        worker,
        types: [...entry.types],
        jobsByType: [...entry.jobs.values()],
        lastSeenMs: waiting.has(worker) ? now : entry.lastSeenMs,
      }));
  }

  private waitingCount(type: string): number {
    return (this.waiting.get(type) ?? []).filter((waiter) => !waiter.isGone()).length;
  }

  private slotsOf(type: string): TypeSlots {
    let slots = this.slots.get(type);
    if (!slots) {
      slots = new TypeSlots(() => this.waitingCount(type));
      this.slots.set(type, slots);
    }
    return slots;
  }
}

/**
 * Slots of one type's Temporal worker. A permit is given only while more runners wait than permits are out (a
 * permit is a poll in flight or a task on its way to `handOut`); it is consumed when its task arrives and returned
 * when the SDK gives it back unused.
 */
class TypeSlots {
  /** Permits given and not yet matched with a task. */
  private outstanding = 0;
  /** Tasks marked used whose executeJob has not yet taken a runner. */
  private arriving = 0;
  private readonly pending: { resolve: (permit: SlotPermit) => void }[] = [];

  constructor(private readonly waitingCount: () => number) {}

  private free(): number {
    return this.waitingCount() - this.outstanding - this.arriving;
  }

  /** A runner started waiting: let a pending reservation through. */
  offer(): void {
    while (this.pending.length > 0 && this.free() > 0) {
      this.outstanding++;
      this.pending.shift()?.resolve({});
    }
  }

  arrived(): void {
    this.arriving = Math.max(0, this.arriving - 1);
  }

  supplier(): CustomSlotSupplier<ActivitySlotInfo> {
    return {
      type: 'custom',
      reserveSlot: (_ctx, abortSignal) =>
        new Promise<SlotPermit>((resolve, reject) => {
          if (this.free() > 0) {
            this.outstanding++;
            resolve({});
            return;
          }
          const entry = { resolve };
          this.pending.push(entry);
          abortSignal.addEventListener(
            'abort',
            () => {
              const at = this.pending.indexOf(entry);
              if (at >= 0) this.pending.splice(at, 1);
              reject(abortSignal.reason instanceof Error ? abortSignal.reason : new Error('slot reservation aborted'));
            },
            { once: true },
          );
        }),
      tryReserveSlot: () => {
        if (this.free() <= 0) return null;
        this.outstanding++;
        return {};
      },
      markSlotUsed: () => {
        this.outstanding = Math.max(0, this.outstanding - 1);
        this.arriving++;
      },
      releaseSlot: (ctx) => {
        // A permit released without ever carrying a task (a poller stopped) is given back; a used one was counted
        // off when its task arrived.
        if (ctx.slotInfo === undefined) this.outstanding = Math.max(0, this.outstanding - 1);
        this.offer();
      },
    };
  }
}
