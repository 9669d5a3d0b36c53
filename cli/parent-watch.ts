// Apart from runtime.ts: every command imports this, and runtime.ts loads the Temporal worker SDK (about 20 MB).

/**
 * After its parent is gone, a child stops within this long whatever its drain is doing: as long as `gpuflow dev`
 * gives a child between SIGTERM and SIGKILL, since no one is left to send the SIGKILL.
 */
const ORPHAN_DEADLINE_MS = 8000;

let stopRequested = false;

/**
 * SIGTERM to this process, once: the process's own handler then drains as for an operator's SIGTERM. Once only, as
 * a second SIGTERM means "exit at once" to the workers (`onShutdownSignal`).
 */
function stopSelf(): void {
  if (stopRequested) return;
  stopRequested = true;
  process.kill(process.pid, 'SIGTERM');
}

let outputWatched = false;

/**
 * Once stdout or stderr cannot be written (EPIPE: the process reading it is gone), stop this process as if sent
 * SIGTERM, writing nothing more. Without a listener a failed write is an uncaught error; a job worker's
 * stray-error handler would print that one to the dead stderr, fail again, and so on forever: a process spinning
 * at full CPU that never exits.
 */
export function stopWhenOutputCloses(): void {
  if (outputWatched) return;
  outputWatched = true;
  for (const stream of [process.stdout, process.stderr]) stream.on('error', stopSelf);
}

/**
 * Under `gpuflow dev` a child's stdin, stdout and stderr are pipes (socket pairs) to dev. When dev dies, even by
 * SIGKILL, stdin ends and the first write fails: the child stops itself as if sent SIGTERM, and exits at the
 * latest `ORPHAN_DEADLINE_MS` later, instead of living on as an orphan that holds ports and the SQLite file.
 */
export function stopWhenParentExits(): void {
  let gone = false;
  const parentGone = (): void => {
    if (gone) return;
    gone = true;
    // Unref'd: a child whose drain ends exits then; one whose drain hangs exits here.
    setTimeout(() => process.exit(1), ORPHAN_DEADLINE_MS).unref();
    stopSelf();
  };
  process.stdin.once('end', parentGone);
  process.stdin.once('error', parentGone);
  for (const stream of [process.stdout, process.stderr]) stream.on('error', parentGone);
  process.stdin.resume();
  // Watching must not keep a drained process alive.
  (process.stdin as { unref?: () => void }).unref?.();
}
