import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Errors a handler lets escape into the process: an `'error'` event nobody listens to (a child process spawned with
 * `signal: ctx.signal` and then cancelled, an emitter in a timer), a throw in a callback, a promise rejected with no
 * handler. Node would end the process, and with it every other job of the worker.
 *
 * Each attempt runs its handler inside an AsyncLocalStorage scope; every callback and promise continuation the
 * handler starts inherits it, and Node still has it in effect when it reports an uncaught error. So the process's
 * `uncaughtException` / `unhandledRejection` listener knows which attempt the error came from and fails that
 * attempt with it (its log gets the stack); the worker serves on. An error raised outside every attempt (a job
 * module's own timer, the SDK) cannot be pinned on a job: the worker drains and exits non-zero so that its
 * supervisor starts a fresh one, rather than run on in a state nobody knows.
 */

interface AttemptScope {
  label: string;
  ended: boolean;
  fail(err: unknown): void;
}

const scopes = new AsyncLocalStorage<AttemptScope>();

/** One attempt's guard: the handler's signal and the scope its code runs in. */
export interface AttemptGuard {
  /**
   * The handler's `ctx.signal`: aborted when `source` (Temporal's cancellation) aborts, but from inside the attempt's
   * scope, so that what its listeners throw (a child process spawned with this signal emits 'error' as it is
   * killed) is pinned on this attempt and not on the SDK code that delivered the cancel.
   */
  readonly signal: AbortSignal;
  /**
   * Runs `body` (the handler and whatever it streams) in the attempt's scope: resolves as it does, or rejects with
   * the first stray error of the attempt, whichever comes first. Once settled, a body still running is abandoned
   * (a handler cannot be stopped from outside; its signal is the way to stop it).
   */
  run<T>(body: () => Promise<T>): Promise<T>;
}

/** The guard of the attempt `label` (`<jobId>#<attempt>`). */
export function attemptGuard(label: string, source: AbortSignal): AttemptGuard {
  let fail: (err: unknown) => void = () => undefined;
  const stray = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Never unhandled: `run` races it, and before `run` nothing can fail it (no handler code has run yet).
  stray.catch(() => undefined);
  const scope: AttemptScope = { label, ended: false, fail: (err) => fail(err) };
  const controller = new AbortController();
  const abort = (): void => scopes.run(scope, () => controller.abort(source.reason));
  if (source.aborted) abort();
  else source.addEventListener('abort', abort, { once: true });
  return {
    signal: controller.signal,
    run: (body) =>
      Promise.race([scopes.run(scope, body), stray]).finally(() => {
        scope.ended = true;
        source.removeEventListener('abort', abort);
      }),
  };
}

export interface StrayErrorHandlerOptions {
  print: (line: string) => void;
  /** An error no running attempt owns: drain and exit. Called once. */
  onUnattributed: (err: unknown) => void;
}

/** Installs the process-wide listeners (once per worker process, in its entry). */
export function installStrayErrorHandler(options: StrayErrorHandlerOptions): void {
  let unattributed = false;
  const onError = (err: unknown, kind: string): void => {
    const scope = scopes.getStore();
    const what = describe(err);
    if (scope && !scope.ended) {
      options.print(`job ${scope.label}: ${kind} from the handler fails the attempt: ${what}`);
      scope.fail(err);
      return;
    }
    if (scope) {
      // Its attempt has already ended: nothing to fail, and nothing else is affected by it.
      options.print(`job ${scope.label}: ${kind} after the attempt ended (ignored): ${what}`);
      return;
    }
    options.print(`worker: ${kind} outside any job: ${what}`);
    if (err instanceof Error && err.stack) options.print(err.stack);
    if (unattributed) return;
    unattributed = true;
    options.onUnattributed(err);
  };
  process.on('uncaughtException', (err) => onError(err, 'uncaught error'));
  process.on('unhandledRejection', (reason) => onError(reason, 'unhandled rejection'));
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
