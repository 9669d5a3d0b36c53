/**
 * dev's own output, which may be a pipe (`npm run dev | tee log`). When the reader goes away (Ctrl-C reaches `tee`
 * as well, or the pipe is closed), writing fails with EPIPE: instead of crashing, which would leave the Temporal
 * server running in its own process group, dev stops writing and stops its children (`onClosed`).
 */
export function guardStdout(onClosed: () => void): (line: string) => void {
  let open = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (!open) return;
    open = false;
    if (err.code !== 'EPIPE') process.stderr.write(`[dev] stdout failed (${err.message}): stopping\n`);
    onClosed();
  });
  return (line) => {
    if (open) process.stdout.write(line);
  };
}

/**
 * Calls `onOrphaned` once dev's parent is gone (dev is re-parented: `process.ppid` changes), as when the shell or
 * `npm run` that started it is killed outright.
 */
export function watchParent(onOrphaned: () => void, everyMs = 1000): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onOrphaned();
    }
  }, everyMs);
  timer.unref();
}
