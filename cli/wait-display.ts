import cliProgress from 'cli-progress';
import type { JobView } from '../contracts/job.js';
import { formatDuration } from './format.js';

/** What `submit --wait` shows while it waits: a live bar on a terminal, a line per change otherwise (CI logs, pipes). */
export interface WaitDisplay {
  update(view: JobView): void;
  stop(): void;
}

const percentOf = (view: JobView): number =>
  view.status === 'COMPLETED' ? 100 : Math.round(view.progress?.percent ?? 0);

function messageOf(view: JobView): string {
  if (view.error) return `${view.error.type}: ${view.error.message}`;
  return view.progress?.message ?? (view.status === 'IN_QUEUE' ? queueNote(view) : '');
}

/** Why an IN_QUEUE job waits, when the view says: no worker serves its type. */
function queueNote(view: JobView): string {
  if (view.queue?.workers === 0) return `no worker serves "${view.type}" yet`;
  return view.attempt > 0 ? `waiting to retry (attempt ${view.attempt + 1})` : 'waiting for a worker';
}

export function createWaitDisplay(stream: NodeJS.WriteStream, startedAt = Date.now()): WaitDisplay {
  return stream.isTTY ? new BarDisplay(stream) : new LineDisplay(stream, startedAt);
}

class BarDisplay implements WaitDisplay {
  readonly #bar: cliProgress.SingleBar;
  #started = false;

  constructor(stream: NodeJS.WriteStream) {
    this.#bar = new cliProgress.SingleBar(
      {
        stream,
        format: '{bar} {percentage}% | {status} | {duration_formatted} | {message}',
        barsize: 24,
        hideCursor: true,
        // Redrawn a few times a second so that the elapsed time moves while the job is quiet.
        fps: 5,
        etaBuffer: 1,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(view: JobView): void {
    const payload = { status: view.status, message: messageOf(view) };
    if (this.#started) this.#bar.update(percentOf(view), payload);
    else this.#bar.start(100, percentOf(view), payload);
    this.#started = true;
  }

  stop(): void {
    if (this.#started) this.#bar.stop();
  }
}

class LineDisplay implements WaitDisplay {
  #last = '';

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly startedAt: number,
  ) {}

  update(view: JobView): void {
    const percent = view.status === 'IN_PROGRESS' ? ` ${percentOf(view)}%` : '';
    const state = `${view.status}${percent} ${messageOf(view)}`.trim();
    if (state === this.#last) return;
    this.#last = state;
    this.stream.write(`[${formatDuration(Date.now() - this.startedAt).padStart(6)}] ${view.id} ${state}\n`);
  }

  stop(): void {}
}
