import type { AttemptFacts } from '../../protocol/activity.js';
import { MAX_PROGRESS_MESSAGE_CHARS, type HeartbeatDetails, type Progress } from '../../protocol/heartbeat.js';
import type { StreamBatcher } from './stream-batcher.js';

/** Why a runner must stop a job: the user cancelled it, or the server no longer knows the attempt (a timeout). */
export type StopReason = 'cancel' | 'gone';

/** One attempt that this replica handed to a runner and that has not ended. */
export interface HeldJob {
  /** The RunPod job id the runner knows: `<jobId>~<task token, base64url>`. */
  id: string;
  type: string;
  worker: string;
  jobId: string;
  runId: string;
  attempt: number;
  /** The job's input, resolved (a Runpack runner reads it in its listing of available jobs). */
  input: unknown;
  taskToken: Uint8Array;
  /** The activity's heartbeat timeout: how often the lease must be renewed, ms. */
  heartbeatTimeoutMs: number | undefined;
  /** Full heartbeat details, as the protocol wants them in every heartbeat (progress from progress posts). */
  details: HeartbeatDetails;
  attemptFacts: AttemptFacts;
  /** performance.now() when the runner got the job (handler time is measured from there). */
  handedAtMs: number;
  /** ms the gateway spent between the task's start and the job written to the runner. */
  handOutMs: number;
  /** Settles once the first heartbeat (when one was due) has gone out and the activity has gone asynchronous. */
  handedOff: Promise<void>;
  batcher: StreamBatcher;
  stop?: StopReason;
  /** Date.now() of the last job-stop answer that listed it (re-sent every ~2 s while pings list it). */
  stopSentAtMs?: number;
  /** Date.now() of the last ping that listed it, or of the hand-out. */
  listedAtMs: number;
  ended: boolean;
  /** The attempt runs on `worker`: from the hand-out for a RunPod worker, from the claim for a Runpack runner. */
  started: boolean;
  /** Set for a job held for a Runpack runner (api/gateway/runpack.ts). */
  runpack?: RunpackHold;
}

/** A Runpack job's state beside its attempt: offered to `worker` until claimed, then claimed and heartbeating. */
export interface RunpackHold {
  /** Date.now() until which the offer to `worker` stands; after it, the next runner that asks gets the job. */
  offerUntilMs: number;
  /** The runner's job type spelling (`example_task`), as it asked for it. */
  typeAsked: string;
  /** Date.now() of the claim or of the runner's last heartbeat. */
  lastBeatMs: number;
  /** Date.now() of the last renewal of the lease by the gateway. */
  renewedAtMs: number;
  /** Whether the runner has sent a heartbeat since its claim (`in_progress` rather than `claimed`). */
  beating: boolean;
}

const TOKEN_SEPARATOR = '~';

/**
 * The id a runner gets: the gpuflow job id, readable in the runner's logs, and the attempt's task token, so that
 * any API replica can complete, fail or heartbeat the attempt, and so that a late post from an attempt Temporal
 * has already given up on is refused by the server instead of ending the attempt that replaced it.
 */
export function encodeRunnerJobId(jobId: string, taskToken: Uint8Array): string {
  return `${jobId}${TOKEN_SEPARATOR}${Buffer.from(taskToken).toString('base64url')}`;
}

export function decodeRunnerJobId(id: string): { jobId: string; taskToken: Uint8Array } | undefined {
  const at = id.lastIndexOf(TOKEN_SEPARATOR);
  if (at <= 0 || at === id.length - 1) return undefined;
  const encoded = id.slice(at + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  return { jobId: id.slice(0, at), taskToken: new Uint8Array(Buffer.from(encoded, 'base64url')) };
}

/**
 * `progress_update(job, value)` sends any JSON value. The protocol's progress is `{percent, message}`: `percent`
 * comes from a number, or from a numeric `percent` or `progress` field (else the last one stays); `message` is the
 * value itself, a string as is and anything else as JSON text, so that the RunPod face can show it back as sent.
 */
export function toProgress(value: unknown, previous: Progress | null): Progress {
  const clamp = (n: number): number => Math.round(Math.min(100, Math.max(0, n)) * 100) / 100;
  let percent = previous?.percent ?? 0;
  if (typeof value === 'number' && Number.isFinite(value)) percent = clamp(value);
  else if (value && typeof value === 'object') {
    const field = (value as Record<string, unknown>).percent ?? (value as Record<string, unknown>).progress;
    if (typeof field === 'number' && Number.isFinite(field)) percent = clamp(field);
  }
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? null);
  return { percent, message: text === null ? null : text.slice(0, MAX_PROGRESS_MESSAGE_CHARS) };
}
