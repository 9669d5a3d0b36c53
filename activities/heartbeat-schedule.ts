/** When an attempt's heartbeats go out: each one that reaches the server is a billable action on Temporal Cloud. */
export interface HeartbeatScheduleOptions {
  /** Records one heartbeat with the attempt's current details. */
  send: () => void;
  /** A change (progress, checkpoint, artifact, log) is sent at most this long after it happened, and no sooner. */
  freshnessMs: number;
  /** With nothing to report, the lease is renewed this often: a third of the lease. */
  renewMs: number;
}

/**
 * Heartbeats of one attempt: a change goes out at once when nothing went out for `freshnessMs`, else when that
 * much has passed (changes in between travel together); silence is renewed every `renewMs`. A job that ends
 * before either sends nothing. Cancellation reaches an activity only in a heartbeat's response, so a reporting
 * job learns of a cancel within `freshnessMs` and a silent one within `renewMs`.
 */
export class HeartbeatSchedule {
  private lastSentMs = -Infinity;
  private pending: NodeJS.Timeout | undefined;
  private renewal: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: HeartbeatScheduleOptions) {}

  /** Starts the lease renewals (the first one a `renewMs` from now: the start itself renewed the lease). */
  start(): void {
    this.scheduleRenewal();
  }

  /** Sends now, whatever the freshness: state the server must hold before anything else happens. */
  now(): void {
    if (this.stopped) return;
    clearTimeout(this.pending);
    this.pending = undefined;
    this.lastSentMs = performance.now();
    this.options.send();
    this.scheduleRenewal();
  }

  /** The details changed: they go out within `freshnessMs`. */
  changed(): void {
    if (this.stopped || this.pending) return;
    const waitMs = this.lastSentMs + this.options.freshnessMs - performance.now();
    // Sent on the next microtask at the soonest: changes made in the same tick go out together.
    this.pending = setTimeout(() => this.now(), Math.max(0, waitMs));
  }

  /** Stops; a change not sent yet goes out first (a checkpoint the next attempt must find). */
  stop(): void {
    if (this.pending && !this.stopped) this.now();
    this.stopped = true;
    clearTimeout(this.pending);
    clearTimeout(this.renewal);
  }

  private scheduleRenewal(): void {
    clearTimeout(this.renewal);
    if (!this.stopped) this.renewal = setTimeout(() => this.now(), this.options.renewMs);
  }
}
