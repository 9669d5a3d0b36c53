import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { DevChild } from './dev-children.js';

/** Edits come in bursts (an editor writes, renames, touches): restart once they have settled. */
const SETTLE_MS = 300;

/**
 * Watches the directories of the job modules (editors replace a file by renaming, which a watch on the file itself
 * would lose) and calls `onChange` once per burst of changes to a `.ts`/`.js`/`.mjs` file in them.
 */
export function watchModules(modules: string[], onChange: (file: string) => void): FSWatcher[] {
  let timer: NodeJS.Timeout | undefined;
  return [...new Set(modules.map((file) => dirname(file)))].map((dir) =>
    watch(dir, (_event, name) => {
      if (!name || !/\.(ts|js|mjs|mts)$/.test(name)) return;
      clearTimeout(timer);
      timer = setTimeout(() => onChange(`${dir}/${basename(name)}`), SETTLE_MS);
    }),
  );
}

/** Stops a dev child and waits for it: SIGTERM (the worker drains), SIGKILL after `graceMs`. */
export async function stopChild({ child, exited }: DevChild, graceMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(killer);
}
