import { createHash } from 'node:crypto';
import { Errors } from '../errors.js';

/**
 * Cursors of `GET /v1/jobs`: Temporal's next page token in an envelope that names the query it belongs to. The
 * envelope lets the API refuse a damaged cursor, or one from another filter, with a 400 at once: sent as it is,
 * the server answers such a token with UNKNOWN, which the client retries until the request's deadline.
 */
interface CursorEnvelope {
  /** Tag of the visibility query the token continues. */
  q: string;
  /** The page token, base64. */
  t: string;
}

const tagOf = (query: string): string => createHash('sha256').update(query).digest('hex').slice(0, 16);

export function encodeCursor(query: string, token: Uint8Array): string {
  const envelope: CursorEnvelope = { q: tagOf(query), t: Buffer.from(token).toString('base64') };
  return Buffer.from(JSON.stringify(envelope)).toString('base64url');
}

/** The page token inside `cursor`. @throws the 400 GPUFLOW_ERR_VALIDATION unless it is a cursor of `query`. */
export function decodeCursor(query: string, cursor: string): Buffer {
  let envelope: Partial<CursorEnvelope> | undefined;
  try {
    envelope = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorEnvelope>;
  } catch {
    envelope = undefined;
  }
  if (typeof envelope?.t !== 'string' || envelope.t.length === 0 || typeof envelope.q !== 'string') {
    throw new Errors.Validation('cursor: not a nextCursor this API gave out');
  }
  if (envelope.q !== tagOf(query)) {
    throw new Errors.Validation('cursor: it belongs to a listing with other filters (status, type)');
  }
  return Buffer.from(envelope.t, 'base64');
}
