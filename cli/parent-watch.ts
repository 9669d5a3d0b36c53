// Apart from runtime.ts: every command imports this, and runtime.ts loads the Temporal worker SDK (about 20 MB).

/**
 * Under `gpuflow dev` a child's stdin is a pipe from dev. When dev dies, even by SIGKILL, the pipe closes and the
 * child stops itself as if sent SIGTERM, instead of living on as an orphan that holds ports and the SQLite file.
 */
export function stopWhenParentExits(): void {
  process.stdin.once('end', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.resume();
  // Watching must not keep a drained process alive.
  (process.stdin as { unref?: () => void }).unref?.();
}
