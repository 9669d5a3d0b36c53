import type { FastifyInstance } from 'fastify';
import { Errors } from './errors.js';

/**
 * Deepest nesting of arrays and objects a request body may have; the submission object itself is level 1, so a
 * job input may nest 127 levels. Everything after the parser walks values recursively (the finite-number check,
 * RFC 8785 canonicalization, the payload converter, Python workers' `json`), and about 2,000 levels overflow the
 * stack of the first of them. 128 is far from every such limit and far beyond any real job input.
 */
export const MAX_JSON_DEPTH = 128;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LOWER_U = 0x75;

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text; undefined when it is not valid UTF-8 (RFC 8259 §8.1: JSON text exchanged is UTF-8). */
export function decodeUtf8(body: Buffer): string | undefined {
  try {
    return fatalUtf8.decode(body);
  } catch {
    return undefined;
  }
}

/**
 * What makes this JSON text unfit for a job before it is parsed, in one pass over the raw text that stops at the
 * first problem: nesting deeper than `MAX_JSON_DEPTH`, or a string (value or key) with an unpaired UTF-16
 * surrogate escape such as `"\ud800"`, which has no UTF-8 form, so no canonical form to hash and no faithful copy
 * in another language. Undefined when neither; malformed JSON is left to the parser.
 */
export function jsonTextProblem(text: string): string | undefined {
  let depth = 0;
  let inString = false;
  // The string's last escape was a high surrogate that still waits for its low half.
  let pendingHigh = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!inString) {
      if (code === QUOTE) inString = true;
      else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        depth += 1;
        if (depth > MAX_JSON_DEPTH) return `body: nested deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`;
      } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth -= 1;
      continue;
    }
    if (code === BACKSLASH && text.charCodeAt(i + 1) === LOWER_U) {
      const unit = Number.parseInt(text.slice(i + 2, i + 6), 16);
      const high = unit >= 0xd800 && unit <= 0xdbff;
      const low = unit >= 0xdc00 && unit <= 0xdfff;
      if (pendingHigh !== low) return unpaired(text, i, pendingHigh);
      pendingHigh = high;
      i += 5;
      continue;
    }
    if (pendingHigh) return unpaired(text, i, true);
    if (code === BACKSLASH) i += 1;
    else if (code === QUOTE) inString = false;
  }
  return undefined;
}

function unpaired(text: string, at: number, afterHigh: boolean): string {
  const escape = afterHigh ? text.slice(at - 6, at) : text.slice(at, at + 6);
  return `body: a string holds an unpaired UTF-16 surrogate (${escape} at character ${afterHigh ? at - 6 : at}); strings must be valid Unicode`;
}

/**
 * The API's `application/json` parser. Many clients send `content-type: application/json` with no body on a bodiless
 * POST such as cancel: an empty body is taken as none. The rest must be UTF-8 (a lenient decode turns different bytes
 * into the same U+FFFD, so two inputs would share one job) and pass one cheap scan for depth and lone surrogates
 * before Fastify's own (prototype-poisoning-safe) parser builds anything that later code walks recursively.
 */
export function parseJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer; // parseAs: 'buffer'
    if (raw.length === 0) {
      done(null, undefined);
      return;
    }
    const text = decodeUtf8(raw);
    if (text === undefined) {
      done(new Errors.BadJson('it is not valid UTF-8'), undefined);
      return;
    }
    const problem = jsonTextProblem(text);
    if (problem !== undefined) {
      done(new Errors.Validation(problem), undefined);
      return;
    }
    void parseJson(request, text, done);
  });
}
