import { setTimeout as sleep } from 'node:timers/promises';
import { NativeConnection } from '@temporalio/worker';
import type { Env } from '../config/env.js';
import { connectionOptions } from '../config/temporal.js';

/** First wait between connection attempts, ms; it doubles up to {@link MAX_RETRY_DELAY_MS}. */
const FIRST_RETRY_DELAY_MS = 500;
/** Longest wait between two attempts, ms: a server that comes up is found within this long. */
const MAX_RETRY_DELAY_MS = 10_000;

/**
 * Errors that say the server is not there (yet): refused, unreachable, unavailable, a DNS name that does not resolve
 * yet (a container starting beside us). Anything else (bad TLS settings, a refused API key) will not heal by waiting.
 */
const TRANSIENT =
  /connect|refused|unavailable|unreachable|timed? ?out|deadline|dns|resolve|reset|transport|broken pipe/i;
const PERMANENT = /unauthenticated|permission|certificate|tls|invalid uri|namespace .* not found/i;

export interface ConnectOptions {
  /** Who is waiting, for the lines: `worker`, `orchestrator`. */
  who: string;
  print?: (line: string) => void;
}

/**
 * Connects a worker process to Temporal, waiting for a server that is not up yet instead of exiting at once: one
 * line per failed attempt saying what it waits for, capped exponential backoff, until it answers. An error that
 * waiting cannot fix is thrown at once.
 */
export async function connectWithBackoff(env: Env, options: ConnectOptions): Promise<NativeConnection> {
  const print = options.print ?? ((line: string) => process.stderr.write(`${line}\n`));
  let delayMs = FIRST_RETRY_DELAY_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const connection = await NativeConnection.connect(connectionOptions(env.temporal));
      if (attempt > 1) print(`${options.who}: connected to Temporal at ${env.TEMPORAL_ADDRESS}`);
      return connection;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (PERMANENT.test(message) || !TRANSIENT.test(message)) throw err;
      print(
        `${options.who}: waiting for Temporal at ${env.TEMPORAL_ADDRESS} (namespace ${env.TEMPORAL_NAMESPACE}): ` +
          `attempt ${attempt} failed (${firstLine(message)}); next try in ${(delayMs / 1000).toFixed(1)} s`,
      );
      // Ctrl-C while waiting ends the process as it would before (no drain handlers are installed yet).
      await sleep(delayMs);
      delayMs = Math.min(MAX_RETRY_DELAY_MS, delayMs * 2);
    }
  }
}

/** What a Rust transport error means, in a few words (its text is a debug dump of nested structs). */
function firstLine(message: string): string {
  if (/ConnectionRefused|connection refused/i.test(message)) return 'connection refused';
  if (/dns|failed to lookup|resolve/i.test(message)) return 'the host name does not resolve';
  if (/timed? ?out|deadline/i.test(message)) return 'no answer in time';
  const line = message.split('\n')[0] ?? message;
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
