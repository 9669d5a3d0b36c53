import { ApplicationFailure, Context } from '@temporalio/activity';
import { describeIssues } from '../contracts/errors.js';
import type { SignalDefinition } from '@temporalio/common';
import { ExecuteJobResumeSchema, type ExecuteJobInput, type ExecuteJobResult } from '../protocol/activity.js';
import { FailureTypes } from '../protocol/failures.js';
import {
  HEARTBEAT_LOG_LINES,
  HeartbeatDetailsSchema,
  MAX_CHECKPOINT_BYTES,
  MAX_LOG_LINE_CHARS,
  MAX_PROGRESS_MESSAGE_CHARS,
  type HeartbeatDetails,
} from '../protocol/heartbeat.js';
import { streamChunksSignal } from '../protocol/signals.js';
import { HeartbeatSchedule } from './heartbeat-schedule.js';
import { drainStream, isChunkStream } from './stream-chunks.js';
import type { JobContext, JobDefinition } from '../sdk/define-job.js';
import type { BlobStore } from '../storage/blob-store.js';
import { completedResults, keepsInFlight } from './completed-results.js';
import { jobBlobs } from './job-blobs.js';
import { BlobStoreMarkerSchema } from '../protocol/blobs.js';
import { createStoreCheck } from './store-check.js';
import { attemptLog } from './attempt-log.js';
import { attemptGuard } from './stray-errors.js';
import { createBatchers } from './batcher.js';
import { attemptFailure } from './attempt-end.js';

/** A job type ready to run on this worker: its definition and what its `setup` returned. */
export interface ReadyJob {
  definition: JobDefinition;
  resources: unknown;
}

export interface JobActivityDeps {
  jobs: ReadonlyMap<string, ReadyJob>;
  workerId: string;
  /**
   * How fresh a running job's progress is in the API, ms, for jobs whose policy does not say
   * (`policy.progressFreshnessMs`): changes are heartbeated at most this often. Silent jobs renew their lease
   * three times per lease instead. @defaultValue 1000
   */
  progressFreshnessMs?: number;
  /** Where `ctx.log` lines go besides the heartbeat. */
  print?: (line: string) => void;
  /** Large inputs and outputs and the artifacts; the API's store. Unset: no artifacts, every output inline. */
  blobs?: BlobStore;
  /** Outputs whose JSON is larger go to `blobs`, by reference. @defaultValue 262144 */
  payloadThresholdBytes?: number;
  /** Told of each progress report (the pretty log prints some). */
  onProgress?: (jobId: string, attempt: number, percent: number, message: string | null) => void;
  /** Largest log of one attempt kept in `blobs`, bytes. @defaultValue MAX_JOB_LOG_BYTES (1 MiB) */
  maxJobLogBytes?: number;
}

const SIGNAL_TIMEOUT_MS = 5000;

export function createJobActivities(deps: JobActivityDeps) {
  const print = deps.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const storeOf = createStoreCheck({ store: deps.blobs, workerId: deps.workerId, print });
  const batches = createBatchers(deps.workerId);
  const keeps = keepsInFlight();

  return {
    /** Runs one attempt of a job: parse the input, renew the lease on a timer, run the handler. */
    async executeJob(request: ExecuteJobInput): Promise<ExecuteJobResult> {
      const activity = Context.current();
      const { info } = activity;
      const ready = deps.jobs.get(request.type);
      if (!ready) {
        throw ApplicationFailure.nonRetryable(
          `this worker does not serve job type "${request.type}"`,
          FailureTypes.unknownJobType,
        );
      }
      const runId = info.workflowExecution?.runId;
      // A job scheduled again after a drain goes on counting its attempts, from the drained one's checkpoint.
      const parsedResume = ExecuteJobResumeSchema.safeParse(request.resume);
      const resume = parsedResume.success ? parsedResume.data : undefined;
      const attempt = info.attempt + (resume?.attemptOffset ?? 0);
      const results = deps.blobs && runId ? completedResults(deps.blobs, request.jobId, runId) : undefined;
      // Only a retry can follow a handler that finished: the first attempt of a run skips the read.
      if (results && attempt > 1) {
        const finished = await results.find();
        if (finished) {
          activity.log.info('an earlier attempt of this run finished; completing with its result', {
            finishedAttempt: finished.attemptFacts?.attempt,
          });
          return finished;
        }
      }
      // The checkpoint of an earlier attempt rides along in this attempt's heartbeats until the handler replaces
      // it: an attempt that dies before its first checkpoint must not erase the one before.
      // Details of an earlier attempt may come from a worker in another language: only a valid shape is carried on.
      const parsedPrevious = HeartbeatDetailsSchema.safeParse(
        info.attempt === 1 && resume ? { progress: null, log: [], ...resume } : info.heartbeatDetails,
      );
      const previous = parsedPrevious.success ? parsedPrevious.data : undefined;
      // The view of the running job comes from the pending activity (attempt, worker identity, start time); these
      // facts reach the workflow with the attempt's end (its result, or its failure's details), and ride in its heartbeats (a retry after
      // a lost worker names the lost attempt from them).
      const attemptFacts = {
        attempt,
        workerId: deps.workerId,
        scheduledAt: new Date(info.currentAttemptScheduledTimestampMs).toISOString(),
        startedAt: new Date().toISOString(),
      };
      const details: HeartbeatDetails = { progress: null, log: [], attemptFacts };
      if (previous && 'checkpoint' in previous) details.checkpoint = previous.checkpoint;
      // Every heartbeat that reaches the server is a billable action: changes go out at the job's freshness, a
      // silent job renews its lease three times per lease, and a job that ends sooner sends none. The lease is
      // renewed here, not by the handler: a handler stuck in one long GPU call keeps it, and cancellation (which
      // reaches an activity only in a heartbeat's response) still gets through. Changes made in the same tick
      // (progress, then a checkpoint) go out together: a view that shows some progress has its checkpoint stored.
      const beats = new HeartbeatSchedule({
        send: () => activity.heartbeat(details),
        freshnessMs: request.progressFreshnessMs ?? deps.progressFreshnessMs ?? 1000,
        renewMs: Math.max(1, Math.floor((info.heartbeatTimeoutMs ?? 30_000) / 3)),
      });
      const beatSoon = (): void => beats.changed();
      // Files stay in the store from attempt to attempt, and so does their list.
      const artifacts = [...(previous?.artifacts ?? [])];
      if (artifacts.length > 0) details.artifacts = artifacts;
      const marker = BlobStoreMarkerSchema.safeParse(request.blobStore);
      const store = storeOf(marker.success ? marker.data : undefined);
      const blobs = jobBlobs({
        store,
        thresholdBytes: deps.payloadThresholdBytes,
        jobId: request.jobId,
        runId: runId ?? 'standalone',
        attempt,
        artifacts,
        onArtifact: () => {
          details.artifacts = artifacts;
          beatSoon();
        },
      });
      beats.start();
      const log = attemptLog({
        store,
        jobId: request.jobId,
        attempt,
        maxBytes: deps.maxJobLogBytes,
        // Written as often as progress goes out: a lost worker loses at most that long of its log.
        intervalMs: request.progressFreshnessMs ?? deps.progressFreshnessMs ?? 1000,
        warn: (message) => {
          activity.log.warn(message);
        },
      });
      // A first attempt after a drain carries its checkpoint and artifacts in its input: the server must hold them
      // before this attempt can fail, or its retry (which reads them from the server) would start without them.
      if (info.attempt === 1 && resume && ('checkpoint' in details || artifacts.length > 0)) beats.now();
      const handlerStartedMs = performance.now();
      try {
        const parsed = ready.definition.input.safeParse(await blobs.resolveInput(request.input));
        if (!parsed.success) {
          throw ApplicationFailure.nonRetryable(describeIssues(parsed.error.issues, 'input'), FailureTypes.validation);
        }
        // A stray error of the handler's (an 'error' event nobody listens to) fails this attempt, not the worker.
        const guard = attemptGuard(`${request.jobId}#${attempt}`, activity.cancellationSignal);
        const ctx: JobContext = {
          jobId: request.jobId,
          attempt,
          workerId: deps.workerId,
          resources: ready.resources,
          signal: guard.signal,
          resumeFrom: details.checkpoint,
          artifact: (name, data, contentType) => blobs.artifact(name, data, contentType),
          checkpoint(value) {
            const json = JSON.stringify(value);
            if (json === undefined) throw new TypeError('ctx.checkpoint: the value must be JSON');
            if (Buffer.byteLength(json) > MAX_CHECKPOINT_BYTES) {
              throw new TypeError(
                `ctx.checkpoint: at most ${MAX_CHECKPOINT_BYTES} bytes of JSON: checkpoint where bulky state is saved, not the state itself`,
              );
            }
            details.checkpoint = JSON.parse(json) as unknown;
            beatSoon();
          },
          progress(percent, message) {
            // Two decimals are all a progress bar shows; `3.3583333333333334` is noise in a view.
            const clamped = Number.isFinite(percent) ? Math.round(Math.min(100, Math.max(0, percent)) * 100) / 100 : 0;
            details.progress = { percent: clamped, message: message?.slice(0, MAX_PROGRESS_MESSAGE_CHARS) ?? null };
            deps.onProgress?.(request.jobId, attempt, clamped, details.progress.message);
            beatSoon();
          },
          log(...parts) {
            const line = parts.map((part) => (typeof part === 'string' ? part : safeJson(part))).join(' ');
            const kept = line.slice(0, MAX_LOG_LINE_CHARS);
            details.log = [...details.log, kept].slice(-HEARTBEAT_LOG_LINES);
            log.line(kept);
            print(`[${request.jobId}#${attempt}] ${kept}`);
          },
        };
        // A batched type's item joins the next batch; its lease, progress and end stay this attempt's own.
        const { definition } = ready;
        const output = await guard.run(async () => {
          const result = definition.batch
            ? batches.run(definition, ready.resources, parsed.data, ctx)
            : definition.handler(parsed.data, ctx);
          return isChunkStream(result)
            ? await drainStream(result, {
                send: (chunks) => signalJob(activity, streamChunksSignal, { attempt, chunks }),
                signal: activity.cancellationSignal,
                aggregate: (!definition.batch && definition.aggregateStream) ?? false,
                attempt,
                onCapped: (why) => ctx.log(why),
              })
            : await result;
        });
        const handlerTimeMs = Math.round((performance.now() - handlerStartedMs) * 100) / 100;
        // `undefined` does not survive JSON: a handler that returns nothing completes with `null`.
        const finished = {
          output: await blobs.externalizeOutput(output ?? null),
          artifacts,
          attemptFacts,
          handlerTimeMs,
        };
        // Kept while it is reported, not before (see `keepsInFlight`): if the report is lost, the next attempt
        // completes with it. A store that fails here only loses that protection, never the result.
        if (results) {
          keeps.add(
            results.keep(finished).catch((err: unknown) => {
              activity.log.warn('could not keep the result for a lost completion', { error: String(err) });
            }),
          );
        }
        return finished;
      } catch (err) {
        const failure = attemptFailure(err, activity.cancellationSignal, { attempt, attemptFacts, artifacts, details });
        if (activity.cancellationSignal.aborted) log.line(`attempt ended: ${failure.message}`);
        else log.failed(err);
        throw failure;
      } finally {
        beats.stop();
        // Written before the end is reported: a job seen final has its whole log.
        await log.close();
      }
    },
    /** Resolves once the results still being kept are written (bounded): a stopping worker waits for it. */
    keepsLanded: () => keeps.landed(),
  };
}

/** The activities a job worker registers. */
export type JobActivities = Pick<ReturnType<typeof createJobActivities>, 'executeJob'>;

/**
 * Sends the job's workflow a signal (stream chunks). Bounded, so that a slow server delays the handler a little at
 * most (the lease is being renewed meanwhile).
 */
async function signalJob<Arg>(activity: Context, signal: SignalDefinition<[Arg]>, arg: Arg): Promise<void> {
  const execution = activity.info.workflowExecution;
  if (!execution) return;
  try {
    const handle = activity.client.workflow.getHandle(execution.workflowId, execution.runId);
    await activity.client.withDeadline(Date.now() + SIGNAL_TIMEOUT_MS, () => handle.signal(signal, arg));
  } catch (err) {
    activity.log.warn(`could not signal ${signal.name}`, { error: String(err) });
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
