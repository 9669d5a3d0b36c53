import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How one attempt ended on this worker. */
export type AttemptOutcome = 'completed' | 'failed' | 'cancelled';

/**
 * A job worker's own Prometheus metrics: jobs running and capacity per type, attempt durations by type and
 * outcome, and attempts whose lease was lost (a heartbeat answered that the server no longer knows the attempt,
 * or it timed out). The Temporal SDK's runtime metrics are served by the SDK itself on their own port.
 */
export class JobWorkerMetrics {
  readonly registry = new Registry();
  private readonly running: Gauge<'type'>;
  private readonly capacity: Gauge<'type'>;
  private readonly attempts: Histogram<'type' | 'outcome'>;
  private readonly heartbeatFailures: Counter<'type' | 'reason'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.running = new Gauge({
      name: 'gpuflow_worker_jobs_running',
      help: 'Jobs of a type running on this worker now',
      labelNames: ['type'],
      registers,
    });
    this.capacity = new Gauge({
      name: 'gpuflow_worker_capacity',
      help: 'Jobs of a type this worker runs at once (--capacity)',
      labelNames: ['type'],
      registers,
    });
    this.attempts = new Histogram({
      name: 'gpuflow_worker_attempt_duration_seconds',
      help: 'Attempts run on this worker, by type and outcome (completed, failed, cancelled), and how long they ran',
      labelNames: ['type', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14_400],
      registers,
    });
    this.heartbeatFailures = new Counter({
      name: 'gpuflow_worker_heartbeat_failures_total',
      help: 'Attempts whose lease a heartbeat found lost: not_found (the server no longer knows it), timed_out',
      labelNames: ['type', 'reason'],
      registers,
    });
  }

  serves(type: string, capacity: number): void {
    this.capacity.set({ type }, capacity);
    this.running.set({ type }, 0);
  }

  /** Runs one attempt of `type` (inside its activity context) and records how it went. */
  async attempt<T>(type: string, run: () => Promise<T>): Promise<T> {
    this.running.inc({ type });
    const end = this.attempts.startTimer({ type });
    let outcome: AttemptOutcome = 'failed';
    try {
      const result = await run();
      outcome = 'completed';
      return result;
    } catch (err) {
      if (err instanceof CancelledFailure) outcome = 'cancelled';
      const details = Context.current().cancellationDetails;
      if (details?.notFound) this.heartbeatFailures.inc({ type, reason: 'not_found' });
      else if (details?.timedOut) this.heartbeatFailures.inc({ type, reason: 'timed_out' });
      throw err;
    } finally {
      this.running.dec({ type });
      end({ outcome });
    }
  }
}

/** Serves `registry` as `GET /metrics` on `host:port` (port 0: any free one). Resolves once listening. */
export async function serveMetrics(
  registry: Registry,
  port: number,
  host = '0.0.0.0',
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
