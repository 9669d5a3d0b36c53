import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import canonicalize from 'canonicalize';
import { v7 as uuidv7 } from 'uuid';
import type { SubmitJob } from './job.js';

const HASH_HEX_CHARS = 32;

function shortHash(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text))).slice(0, HASH_HEX_CHARS);
}

/**
 * sha256 (hex) of the RFC 8785 canonical JSON of `{type, input}`: what a submission asks for, whatever its id. A
 * job started under an idempotency key keeps it, so that the key reused with another input is told apart (409).
 */
export function submissionHashOf(job: Pick<SubmitJob, 'type' | 'input'>): string {
  const canonical = canonicalize({ type: job.type, input: job.input });
  if (canonical === undefined) throw new TypeError('job input is not JSON');
  return bytesToHex(sha256(utf8ToBytes(canonical)));
}

/**
 * The job id, which is also the Temporal workflow id. Identical submissions get the same id, which is how dedup
 * works: `<type>-<sha256 of the RFC 8785 canonical JSON of {type, input}>`, so key order never matters;
 * `<type>-k-<sha256 of the key>` with an idempotency key; `<type>-<uuid v7>` with dedup off.
 */
export function jobIdFor(job: Pick<SubmitJob, 'type' | 'input' | 'idempotencyKey' | 'dedup'>): string {
  if (job.idempotencyKey !== undefined) return `${job.type}-k-${shortHash(job.idempotencyKey)}`;
  if (!job.dedup) return `${job.type}-${uuidv7()}`;
  return `${job.type}-${submissionHashOf(job).slice(0, HASH_HEX_CHARS)}`;
}
