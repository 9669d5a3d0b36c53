import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { WorkerEntry, Workers } from '../../contracts/workers.js';
import type { RunnerSnapshot } from '../gateway/runners.js';
import { ReusedAnswers } from '../../jobs/reused-answers.js';

// A CommonJS package: Node's ESM loader only sees its default export (vitest's loader hides this).
type Heartbeat = proto.temporal.api.worker.v1.IWorkerHeartbeat;
const { WorkerStatus } = proto.temporal.api.enums.v1;

export interface WorkerListOptions {
  client: Client;
  /**
   * The worker heartbeat period of the deployment's workers (GPUFLOW_WORKER_HEARTBEAT_INTERVAL_MS), ms. A worker is
   * `lost` after three periods without one: two missed heartbeats (a loaded host, a network blip) are not a death.
   * @defaultValue 10000
   */
  heartbeatIntervalMs?: number;
  /** How long one answer of Temporal is reused: a burst of requests makes one ListWorkers call, ms. @defaultValue 2000 */
  cacheMs?: number;
  /** @defaultValue 5000 */
  temporalTimeoutMs?: number;
  /** The HTTP runners the gateway of this replica has seen. */
  runners?: (withinMs: number) => RunnerSnapshot[];
  /** A runner is lost after this long without a take, ping or post, ms. @defaultValue 60000 (the gateway's bound) */
  runnerLostAfterMs?: number;
}

/** Temporal keeps a worker's entry 5 min after its last heartbeat (matching.workerRegistryEntryTTL); runners alike. */
const KEPT_AFTER_LEAVING_MS = 5 * 60_000;
const JOB_QUEUE = /^jobs\.([a-z][a-z0-9-]{0,62})$/;
/** The gateway's Temporal workers poll `jobs.<type>` for HTTP runners under this identity (api/gateway). */
const GATEWAY_IDENTITY = /^gateway-/;

/**
 * `GET /v1/workers`: every worker process, from Temporal's own worker heartbeats (ListWorkers, one entry per task
 * queue a process polls, grouped back into processes) and the gateway's HTTP runners.
 */
export class WorkerList {
  /** One entry: the namespace's heartbeats. */
  private readonly answers: ReusedAnswers<Heartbeat[]>;

  constructor(private readonly options: WorkerListOptions) {
    this.answers = new ReusedAnswers(options.cacheMs ?? 2000, 1);
  }

  get lostAfterMs(): number {
    return 3 * (this.options.heartbeatIntervalMs ?? 10_000);
  }

  async list(): Promise<Workers> {
    const heartbeats = await this.heartbeats();
    const now = Date.now();
    const natives = groupHeartbeats(heartbeats, now, this.lostAfterMs);
    const runners = (this.options.runners?.(KEPT_AFTER_LEAVING_MS) ?? []).map((runner) =>
      runnerEntry(runner, now, this.options.runnerLostAfterMs ?? 60_000),
    );
    const workers = [...natives, ...runners].sort(
      (a, b) => a.kind.localeCompare(b.kind) || a.identity.localeCompare(b.identity),
    );
    return { workers, lostAfterMs: this.lostAfterMs };
  }

  /** Every heartbeat entry of the namespace, shared by the calls of one `cacheMs` window (and by concurrent ones). */
  private heartbeats(): Promise<Heartbeat[]> {
    return this.answers.get('', () => this.fetch());
  }

  private async fetch(): Promise<Heartbeat[]> {
    const { client } = this.options;
    return client.withDeadline(Date.now() + (this.options.temporalTimeoutMs ?? 5000), async () => {
      const found: Heartbeat[] = [];
      let nextPageToken: Uint8Array | undefined;
      // A bound on pages, not on workers: 10 pages of 1000 task-queue entries.
      for (let page = 0; page < 10; page++) {
        const response = await client.workflowService.listWorkers({
          namespace: client.options.namespace,
          pageSize: 1000,
          ...(nextPageToken ? { nextPageToken } : {}),
        });
        for (const info of response.workersInfo) if (info.workerHeartbeat) found.push(info.workerHeartbeat);
        if (!response.nextPageToken?.length) break;
        nextPageToken = response.nextPageToken;
      }
      return found;
    });
  }
}

const millis = (ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined =>
  ts?.seconds == null ? undefined : Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);

/**
 * One entry per process: Temporal reports one heartbeat per (process, task queue), so a process serving three
 * job types is three entries with the same host, pid and identity. Only processes polling `jobs.<type>` are job
 * workers; the orchestrator (`gpuflow-control`) is not listed.
 */
export function groupHeartbeats(heartbeats: readonly Heartbeat[], now: number, lostAfterMs: number): WorkerEntry[] {
  const processes = new Map<string, Heartbeat[]>();
  for (const beat of heartbeats) {
    if (!JOB_QUEUE.test(beat.taskQueue ?? '')) continue;
    const key = JSON.stringify([beat.hostInfo?.hostName, beat.hostInfo?.processId, beat.workerIdentity]);
    processes.set(key, [...(processes.get(key) ?? []), beat]);
  }
  return [...processes.values()].map((beats) => {
    const first = beats[0] as Heartbeat;
    const types = beats
      .map((beat) => {
        const slots = beat.activityTaskSlotsInfo;
        const running = slots?.currentUsedSlots ?? 0;
        return {
          type: JOB_QUEUE.exec(beat.taskQueue ?? '')?.[1] as string,
          capacity: (slots?.currentAvailableSlots ?? 0) + running,
          running,
        };
      })
      .sort((a, b) => a.type.localeCompare(b.type));
    const lastHeartbeat = Math.max(...beats.map((beat) => millis(beat.heartbeatTime) ?? 0));
    const started = Math.min(...beats.map((beat) => millis(beat.startTime) ?? Number.POSITIVE_INFINITY));
    const identity = first.workerIdentity ?? '';
    return {
      kind: GATEWAY_IDENTITY.test(identity) ? 'gateway' : 'native',
      identity,
      host: first.hostInfo?.hostName || null,
      pid: first.hostInfo?.processId || null,
      types,
      capacity: types.reduce((sum, entry) => sum + (entry.capacity ?? 0), 0),
      jobsRunning: types.reduce((sum, entry) => sum + entry.running, 0),
      version: first.sdkName ? `${first.sdkName} ${first.sdkVersion ?? ''}`.trim() : null,
      startedAt: Number.isFinite(started) ? new Date(started).toISOString() : null,
      lastHeartbeatAt: new Date(lastHeartbeat).toISOString(),
      // SHUTTING_DOWN is the last status a drained worker reports (seen on 1.32 with TS 1.24); SHUTDOWN alike.
      draining: beats.some((beat) => beat.status !== WorkerStatus.WORKER_STATUS_RUNNING),
      lost: now - lastHeartbeat > lostAfterMs,
    } satisfies WorkerEntry;
  });
}

function runnerEntry(runner: RunnerSnapshot, now: number, lostAfterMs: number): WorkerEntry {
  const types = runner.types
    .map((type) => ({ type, capacity: null, running: runner.jobsByType.filter((held) => held === type).length }))
    .sort((a, b) => a.type.localeCompare(b.type));
  return {
    kind: 'runner',
    identity: runner.worker,
    host: null,
    pid: null,
    types,
    capacity: null,
    jobsRunning: runner.jobsByType.length,
    version: null,
    startedAt: null,
    lastHeartbeatAt: new Date(runner.lastSeenMs).toISOString(),
    draining: false,
    lost: now - runner.lastSeenMs > lostAfterMs,
  };
}
