import { ApplicationFailure } from '@temporalio/activity';
import { ActivityNotFoundError } from '@temporalio/client';
import type { RunpackSettings } from '../../config/runpack.js';
import { progressOf } from '../../contracts/runpack.js';
import { FailureTypes } from '../../protocol/failures.js';
import { Errors } from '../errors.js';
import type { GatewayCore } from './gateway-core.js';
import { decodeRunnerJobId, type HeldJob } from './held-jobs.js';
import { RunpackLogs } from './runpack-logs.js';
import { RunpackRunners } from './runpack-runners.js';

/** A job as `jobs/available` and `claim` answer it to a Runpack runner. */
export interface RunpackRunnerJob {
  job_id: string;
  job_type: string;
  input_params: unknown;
  status: 'pending' | 'claimed' | 'in_progress';
  attempt: number;
}

/** The failure type of a Runpack runner's own `error` report: the job ends FAILED with its message, not retried. */
export const RUNPACK_ERROR_TYPE = 'RunpackRunnerError';
const TICK_MS = 500;
/** The longest the gateway waits between two renewals of a held job's lease, ms. */
const MAX_RENEW_MS = 10_000;

/**
 * The Runpack face of the gateway. "Available" means the jobs the gateway holds for the asking runner: a runner's
 * `jobs/available` asks Temporal (through the {@link GatewayCore}'s slots) for a task of its types, and a task that
 * comes is offered to that runner for `claimWindowMs`, its lease renewed by the gateway; no attempt starts before
 * the claim. An offer that lapses goes to the next runner that asks, still the same attempt. Once claimed, the
 * runner's heartbeats keep the job; a runner silent for `heartbeatThresholdMs` loses it (the attempt fails as
 * `WorkerLost`, retried on another runner under the job's policy), while a runner's `error` ends the job FAILED.
 */
export class RunpackGateway {
  readonly runners: RunpackRunners;
  private readonly logs: RunpackLogs;
  private readonly claimWindowMs: number;
  private readonly availableWaitMs: number;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly core: GatewayCore,
    readonly settings: RunpackSettings & { maxJobLogBytes?: number },
  ) {
    this.runners = new RunpackRunners(settings.heartbeatThresholdMs);
    this.logs = new RunpackLogs(core, settings.maxJobLogBytes);
    this.claimWindowMs = settings.claimWindowMs ?? 30_000;
    this.availableWaitMs = settings.availableWaitMs ?? 5_000;
    core.onOffered = (job) => {
      job.runpack = {
        offerUntilMs: Date.now() + this.claimWindowMs,
        typeAsked: job.type,
        lastBeatMs: 0,
        renewedAtMs: Date.now(),
        beating: false,
      };
    };
  }

  /** Jobs held for `runner` of these types (gpuflow type → the runner's spelling), waiting a little for one. */
  async available(runner: string, types: Map<string, string>, signal: AbortSignal): Promise<RunpackRunnerJob[]> {
    this.startTicker();
    const offered = this.offer(runner, types);
    if (offered.length > 0 || this.core.closing || types.size === 0) return offered;
    const stop = new AbortController();
    const both = AbortSignal.any([signal, stop.signal]);
    const waits = [...types.keys()].map(async (type) => {
      this.core.ensureWorker(type);
      const job = await this.core.runners.wait(type, runner, this.availableWaitMs, both, true);
      if (job) stop.abort();
      return job;
    });
    const delivered = (await Promise.all(waits)).filter((job) => job !== null);
    // The held job is recorded just after its delivery (executeJob's next step): wait for it.
    const deadline = Date.now() + 2000;
    while (delivered.some((job) => !this.core.held.get(job.id)?.runpack) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.offer(runner, types);
  }

  /** Claims a job offered to `runner`, or one whose offer to another runner has lapsed: the attempt starts. */
  async claim(runner: string, id: string): Promise<RunpackRunnerJob> {
    const job = this.core.held.get(id);
    if (!job?.runpack || job.ended) throw new Errors.RunnerJobNotFound(id);
    const hold = job.runpack;
    if (job.started) {
      if (job.worker === runner) return this.viewOf(job);
      throw new Errors.NotYourJob('this job is already claimed by another runner');
    }
    if (job.worker !== runner && hold.offerUntilMs > Date.now()) {
      throw new Errors.NotYourJob('this job is offered to another runner: list jobs/available for yours');
    }
    if (job.worker !== runner) this.core.reassign(job, runner);
    hold.lastBeatMs = Date.now();
    await this.core.start(job);
    return this.viewOf(job);
  }

  async heartbeat(
    runner: string,
    id: string,
    body: { progress_current?: number; progress_total?: number; console_output?: string },
  ): Promise<{ status: 'in_progress' }> {
    const job = this.mine(runner, id);
    await this.stopIfTold(job);
    job.runpack.lastBeatMs = Date.now();
    job.runpack.beating = true;
    job.details = {
      ...job.details,
      progress: progressOf(body.progress_current, body.progress_total, job.details.progress),
    };
    await this.logs.write(job, body.console_output);
    await this.core.heartbeat(job);
    await this.stopIfTold(job);
    return { status: 'in_progress' };
  }

  async complete(runner: string, id: string, body: { output_data?: unknown; console_output?: string }): Promise<void> {
    const job = this.held(id);
    if (!job)
      return this.finishElsewhere(id, (token) =>
        this.core.client.activity.complete(token, { output: body.output_data ?? null, artifacts: [] }),
      );
    this.assertMine(job, runner);
    await this.logs.write(job, body.console_output, true);
    if (!(await this.core.complete(job, body.output_data ?? null))) throw lost();
  }

  async error(runner: string, id: string, body: { error_message: string; console_output?: string }): Promise<void> {
    const job = this.held(id);
    const failure = ApplicationFailure.create({
      message: body.error_message,
      type: RUNPACK_ERROR_TYPE,
      nonRetryable: true,
      details: [{ artifacts: [], ...(job ? { attemptFacts: job.attemptFacts } : {}) }],
    });
    if (!job) return this.finishElsewhere(id, (token) => this.core.client.activity.fail(token, failure));
    this.assertMine(job, runner);
    await this.logs.write(job, body.console_output, true);
    if (!(await this.core.fail(job, failure))) throw lost();
  }

  /**
   * Whether gpuflow job `jobId` is only offered (held for a runner, not claimed): Temporal already counts its task
   * as started (`/v1/jobs` says IN_PROGRESS), but for a Runpack client it is still `pending`.
   */
  isOffered(jobId: string): boolean {
    return [...this.core.held.values()].some((job) => job.runpack && job.jobId === jobId && !job.started && !job.ended);
  }

  /** Jobs held for `runner`, claimed or offered (for `/api/admin/runners`). */
  jobsOf(runner: string): number {
    return [...this.core.held.values()].filter((job) => job.runpack && job.worker === runner && !job.ended).length;
  }

  /** Claimed jobs that have not sent a heartbeat yet (Runpack's `claimed`, for `/api/admin/stats`). */
  claimedCount(): number {
    return [...this.core.held.values()].filter((job) => job.runpack && job.started && !job.runpack.beating).length;
  }

  close(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private offer(runner: string, types: Map<string, string>): RunpackRunnerJob[] {
    const now = Date.now();
    const jobs: RunpackRunnerJob[] = [];
    for (const job of this.core.held.values()) {
      const hold = job.runpack;
      if (!hold || job.started || job.ended || job.stop || !types.has(job.type)) continue;
      if (job.worker !== runner && hold.offerUntilMs > now) continue;
      if (job.worker !== runner) this.core.reassign(job, runner);
      if (hold.offerUntilMs <= now) hold.offerUntilMs = now + this.claimWindowMs;
      hold.typeAsked = types.get(job.type) ?? job.type;
      jobs.push(this.viewOf(job));
    }
    return jobs;
  }

  private viewOf(job: HeldJob): RunpackRunnerJob {
    const hold = job.runpack;
    const status = !job.started ? 'pending' : hold?.beating ? 'in_progress' : 'claimed';
    return {
      job_id: job.id,
      job_type: hold?.typeAsked ?? job.type,
      input_params: job.input,
      status,
      attempt: job.attempt,
    };
  }

  private held(id: string): (HeldJob & { runpack: NonNullable<HeldJob['runpack']> }) | undefined {
    const job = this.core.held.get(id);
    return job?.runpack && !job.ended ? (job as HeldJob & { runpack: NonNullable<HeldJob['runpack']> }) : undefined;
  }

  private mine(runner: string, id: string): HeldJob & { runpack: NonNullable<HeldJob['runpack']> } {
    const job = this.held(id);
    if (!job) {
      if (decodeRunnerJobId(id)) throw lost();
      throw new Errors.RunnerJobNotFound(id);
    }
    this.assertMine(job, runner);
    return job;
  }

  private assertMine(job: HeldJob, runner: string): void {
    if (!job.started) throw new Errors.NotYourJob('claim this job before you report on it');
    if (job.worker !== runner) throw new Errors.NotYourJob('this job is held by another runner');
  }

  /** A cancel or a timeout the lease renewal learnt of: the runner is told (409), and a cancel is confirmed. */
  private async stopIfTold(job: HeldJob): Promise<void> {
    if (!job.stop) return;
    await this.logs.flush(job);
    if (job.stop === 'cancel') await this.core.reportCancellation(job);
    else this.core.forget(job);
    throw new Errors.NotYourJob(
      job.stop === 'cancel' ? 'the job was cancelled: stop it' : 'this attempt is over: stop it',
    );
  }

  /** A report on a job this replica does not hold: by task token, which the server refuses once the attempt ended. */
  private async finishElsewhere(id: string, end: (token: Uint8Array) => Promise<void>): Promise<void> {
    const decoded = decodeRunnerJobId(id);
    if (!decoded) throw new Errors.RunnerJobNotFound(id);
    try {
      await end(decoded.taskToken);
    } catch (err) {
      if (err instanceof ActivityNotFoundError) throw lost();
      throw err;
    }
  }

  private startTicker(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => void this.tick(), TICK_MS);
    this.ticker.unref();
  }

  /** Renews the lease of every held Runpack job, and takes a claimed job from a runner past the threshold. */
  private async tick(): Promise<void> {
    const now = Date.now();
    for (const job of [...this.core.held.values()]) {
      const hold = job.runpack;
      if (!hold || job.ended) continue;
      if (job.started && now - hold.lastBeatMs > this.settings.heartbeatThresholdMs) {
        await this.lose(job);
        continue;
      }
      const every = Math.min(MAX_RENEW_MS, (job.heartbeatTimeoutMs ?? 3 * MAX_RENEW_MS) / 3);
      if (now - hold.renewedAtMs < every) continue;
      hold.renewedAtMs = now;
      await this.core.heartbeat(job);
      // An offer cancelled before anyone claimed it has no runner to tell.
      if (job.stop === 'cancel' && !job.started) await this.core.reportCancellation(job);
      else if (job.stop === 'gone' && !job.started) this.core.forget(job);
    }
  }

  private async lose(job: HeldJob): Promise<void> {
    const seconds = Math.round(this.settings.heartbeatThresholdMs / 100) / 10;
    this.core.log.warn({ job: job.jobId, runner: job.worker }, 'runpack: runner missed the heartbeat threshold');
    await this.logs.flush(job);
    await this.core.fail(
      job,
      ApplicationFailure.create({
        message: `runner ${job.worker} sent no heartbeat for ${seconds} s: the job goes to another runner`,
        type: FailureTypes.workerLost,
        details: [{ artifacts: [], attemptFacts: job.attemptFacts }],
      }),
    );
  }
}

const lost = (): Error => new Errors.NotYourJob('this attempt is over (the runner lost the job, or it ended): stop it');
