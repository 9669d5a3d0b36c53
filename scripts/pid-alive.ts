import { existsSync, readFileSync } from 'node:fs';

/**
 * Whether a process is running. An orphan that has exited stays a zombie until init reaps it (and some containers'
 * init never does): that one counts as gone. Where there is no /proc, signal 0 is the whole answer.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!existsSync('/proc/self/stat')) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state letter follows the command name, which is in parentheses and may itself hold spaces or ')'.
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    // Gone between the signal and the read.
    return false;
  }
}
