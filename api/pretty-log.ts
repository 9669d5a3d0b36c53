/**
 * The API's log in pretty mode (`GPUFLOW_LOG_FORMAT=pretty`): pino's JSON lines rewritten as one readable line
 * each; a request that succeeded prints nothing (fastify logs two lines per request), a failed one prints one line
 * with its method, URL, status and time; an error its type and message, never its stack.
 */

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: '', 40: 'warn', 50: 'error', 60: 'fatal' };
/** Requests whose end has not been logged yet (their method and URL come with the first line only). */
const MAX_PENDING = 10_000;

interface PinoLine {
  level?: number;
  time?: number;
  msg?: string;
  reqId?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  err?: { type?: string; message?: string };
}

function clock(at: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}

/** A pino destination (`logger: { stream }`) that writes pretty lines to `out`. */
export function prettyLogStream(out: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {
  const pending = new Map<string, string>();
  return {
    write(chunk: string): void {
      for (const raw of chunk.split('\n')) {
        if (!raw) continue;
        let line: PinoLine;
        try {
          line = JSON.parse(raw) as PinoLine;
        } catch {
          out(raw);
          continue;
        }
        const at = clock(new Date(line.time ?? Date.now()));
        if (line.msg === 'incoming request' && line.reqId) {
          if (pending.size >= MAX_PENDING) pending.clear();
          pending.set(line.reqId, `${line.req?.method ?? '?'} ${line.req?.url ?? '?'}`);
          continue;
        }
        if (line.msg === 'request completed' && line.reqId) {
          const request = pending.get(line.reqId) ?? 'request';
          pending.delete(line.reqId);
          const status = line.res?.statusCode ?? 0;
          if (status >= 400) out(`${at} ${request} → ${status} (${Math.round(line.responseTime ?? 0)} ms)`);
          continue;
        }
        const level = LEVELS[line.level ?? 30] ?? '';
        const err = line.err ? `: ${line.err.type ?? 'Error'}: ${(line.err.message ?? '').split('\n')[0]}` : '';
        out(`${at} ${level ? `${level}: ` : ''}${line.msg ?? ''}${err}`);
      }
    },
  };
}
