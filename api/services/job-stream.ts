import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { JobView, StreamChunk } from '../../contracts/job.js';
import { streamChunksSignal } from '../../protocol/signals.js';
import { isTerminal } from '../../contracts/status.js';
import type { JobReader, RunView } from '../../jobs/job-reader.js';
import { fromStoredPayload } from '../../jobs/stored-payloads.js';
import type { WorkerValues } from '../../jobs/worker-values.js';

// A CommonJS package: Node's ESM loader only sees its default export.
const { EventType } = proto.temporal.api.enums.v1;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

const CLOSE_EVENTS: ReadonlySet<number> = new Set([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

/** How often a live stream looks for new progress and status (heartbeats are not history events). */
const VIEW_POLL_MS = 1000;

/** One Server-Sent Event: `progress`, `chunk`, `status` or `done`. */
export interface StreamEvent {
  id?: string;
  event: 'progress' | 'chunk' | 'status' | 'done';
  data: unknown;
}

/**
 * Reads a run's stream chunks back from its history: every `streamChunks` signal, in order, numbered from 1 across
 * the run. Pages on from where it stopped; with `wait`, a read long-polls until the history grows.
 */
class ChunkReader {
  private seq = 0;
  private token: Uint8Array | undefined;
  closed = false;

  constructor(
    private readonly client: Client,
    private readonly values: WorkerValues,
    private readonly jobId: string,
    private readonly runId: string,
  ) {}

  /** The chunks of the next page(s) of history. */
  async read(wait: boolean): Promise<StreamChunk[]> {
    const chunks: StreamChunk[] = [];
    do {
      const page = await this.client.workflowService.getWorkflowExecutionHistory({
        namespace: this.client.options.namespace,
        execution: { workflowId: this.jobId, runId: this.runId },
        nextPageToken: this.token,
        waitNewEvent: wait,
        maximumPageSize: 1000,
      });
      this.token = page.nextPageToken?.length ? page.nextPageToken : undefined;
      const events = page.history?.events ?? [];
      for (const event of events) chunks.push(...(await this.chunksOf(event)));
      // A long poll answers once per change; without waiting, page until the end of the history so far (a running
      // workflow's last page still carries a token, for the next long poll).
      if (wait || events.length === 0) break;
    } while (this.token && !this.closed);
    return chunks;
  }

  private async chunksOf(event: HistoryEvent): Promise<StreamChunk[]> {
    if (event.eventType != null && CLOSE_EVENTS.has(event.eventType)) this.closed = true;
    const signaled = event.workflowExecutionSignaledEventAttributes;
    const payload = signaled?.input?.payloads?.[0];
    if (signaled?.signalName !== streamChunksSignal.name || !payload) return [];
    // Batches come from workers in any language: one that does not fit is skipped (and reported once), not served.
    let raw: unknown;
    try {
      raw = await fromStoredPayload(this.client.options.loadedDataConverter, payload);
    } catch (err) {
      this.values.unreadable(this.jobId, 'streamChunks', err);
      return [];
    }
    const batch = this.values.streamBatch(this.jobId, raw);
    if (!batch) return [];
    return batch.chunks.map((data) => ({
      seq: (this.seq += 1),
      attempt: batch.attempt,
      data: data as StreamChunk['data'],
    }));
  }
}

/** Stream chunks of jobs as the API serves them: JSON polling and Server-Sent Events. */
export class JobStreams {
  constructor(
    private readonly client: Client,
    private readonly jobs: JobReader,
  ) {}

  /** Chunks after `after` so far, the job's status, and whether the stream is over. */
  async poll(
    jobId: string,
    after: number,
  ): Promise<{ chunks: StreamChunk[]; status: JobView['status']; done: boolean }> {
    const { view, chunks } = await this.pollRun(jobId, after);
    return { chunks, status: view.status, done: isTerminal(view.status) };
  }

  /** The job's view, the run it describes, and that run's chunks after `after` so far. */
  async pollRun(jobId: string, after: number): Promise<RunView & { chunks: StreamChunk[] }> {
    // Status first: once it is final, the history read next holds every chunk (they precede the run's end).
    const { view, runId } = await this.jobs.current(jobId);
    const chunks = await new ChunkReader(this.client, this.jobs.values, jobId, runId).read(false);
    return { view, runId, chunks: chunks.filter((chunk) => chunk.seq > after) };
  }

  /**
   * The job's stream as events, from chunk `after` on (a late client gets the chunks so far, then live ones): chunks
   * as they reach the history, progress and status as they change, and `done` with the final view when the run ends.
   */
  async open(jobId: string, after: number, signal: AbortSignal): Promise<AsyncGenerator<StreamEvent>> {
    // Before any event: an unknown job is a plain 404, not a stream.
    return this.events(jobId, await this.jobs.current(jobId), after, signal);
  }

  private async *events(
    jobId: string,
    current: RunView,
    after: number,
    signal: AbortSignal,
  ): AsyncGenerator<StreamEvent> {
    let view = current.view;
    yield { event: 'status', data: { status: view.status, attempt: view.attempt } };
    if (view.progress) yield { event: 'progress', data: view.progress };
    const reader = new ChunkReader(this.client, this.jobs.values, jobId, current.runId);
    // Long polls: each answers when the history grows (a new batch, the run's end).
    const read = (): Promise<StreamChunk[]> => {
      // One signal per read: the client adds an abort listener per call and keeps it, so reads on the stream's own
      // signal would pile listeners up for as long as the stream lasts.
      const one = new AbortController();
      const forward = (): void => one.abort();
      signal.addEventListener('abort', forward, { once: true });
      const pending = this.client
        .withAbortSignal(one.signal, () => reader.read(true))
        .finally(() => signal.removeEventListener('abort', forward));
      // A read still pending when the client leaves is aborted: that rejection is expected, not unhandled.
      pending.catch(() => undefined);
      return pending;
    };
    // With waitNewEvent the first read answers at once with the history so far, and a token to long-poll on from.
    let history = read();
    // Heartbeats are no history events: progress and status come from the view, once a second whatever the chunks do.
    const nextTick = () =>
      new Promise<'tick'>((resolveTick) => setTimeout(() => resolveTick('tick'), VIEW_POLL_MS).unref());
    let tick = nextTick();
    while (!signal.aborted) {
      let next: StreamChunk[] | 'tick';
      try {
        next = await Promise.race([history, tick]);
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      if (next !== 'tick') {
        for (const chunk of next) {
          if (chunk.seq <= after) continue;
          // A chunk means its attempt runs: say so before it, rather than on the next look at the view (up to a
          // second later, after the first chunks).
          if (view.status === 'IN_QUEUE' || view.attempt < chunk.attempt) {
            view = { ...view, status: 'IN_PROGRESS', attempt: chunk.attempt };
            yield { event: 'status', data: { status: view.status, attempt: view.attempt } };
          }
          yield { id: String(chunk.seq), event: 'chunk', data: chunk };
        }
        if (reader.closed) break;
        history = read();
        continue;
      }
      tick = nextTick();
      const latest = (await this.jobs.current(jobId)).view;
      if (latest.status !== view.status || latest.attempt !== view.attempt) {
        yield { event: 'status', data: { status: latest.status, attempt: latest.attempt } };
      }
      if (latest.progress && JSON.stringify(latest.progress) !== JSON.stringify(view.progress)) {
        yield { event: 'progress', data: latest.progress };
      }
      view = latest;
    }
    if (signal.aborted) return;
    const final = await this.jobs.get(jobId);
    yield { event: 'status', data: { status: final.status, attempt: final.attempt } };
    yield { event: 'done', data: final };
  }
}
