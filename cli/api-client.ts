import type { Env } from '../config/env.js';
import { EXIT } from './exit-codes.js';

/** An error the command prints as one line and exits with `exitCode`. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** What node's fetch says in `cause.code`, in words a user acts on. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name did not resolve',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  UND_ERR_SOCKET: 'the connection closed',
};

function unreachable(baseUrl: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = (cause?.code && NETWORK_REASONS[cause.code]) ?? cause?.message ?? String(err);
  return new CliError(
    `cannot reach the gpuflow API at ${baseUrl}: ${reason}; is \`npm run dev\` running? (set GPUFLOW_API_URL for another address)`,
    EXIT.unreachable,
  );
}

/** A thin client of the HTTP API: JSON in, JSON out, API errors as `CliError`s with the API's code and message. */
export class ApiClient {
  readonly baseUrl: string;
  readonly #key: string | undefined;

  constructor(env: Pick<Env, 'GPUFLOW_API_URL' | 'GPUFLOW_API_KEY'>) {
    this.baseUrl = env.GPUFLOW_API_URL.replace(/\/+$/, '');
    this.#key = env.GPUFLOW_API_KEY;
  }

  async call<T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.#key ? { authorization: `Bearer ${this.#key}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw unreachable(this.baseUrl, err);
    }
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      if (response.ok) throw new CliError(`the API at ${this.baseUrl} answered ${path} with no JSON`, EXIT.failed);
    }
    if (!response.ok) {
      const what = typeof json.code === 'string' ? `${response.status} ${json.code}` : String(response.status);
      throw new CliError(
        `${what}: ${typeof json.message === 'string' ? json.message : response.statusText}`,
        EXIT.failed,
      );
    }
    return json as T;
  }
}

export const jobPath = (id: string, rest = ''): string => `/v1/jobs/${encodeURIComponent(id)}${rest}`;
