import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import canonicalize from 'canonicalize';
import { v7 as uuidv7 } from 'uuid';
import type { SubmitJob } from './job.js';
import { DEFAULT_TENANT } from './tenant.js';

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

function canonicalHash(value: Record<string, unknown>): string {
  const canonical = canonicalize(value);
  if (canonical === undefined) throw new TypeError('job input is not JSON');
  return shortHash(canonical);
}

/**
 * The job id, which is also the Temporal workflow id. Identical submissions of one tenant get the same id, which is
 * how dedup works: `<type>-<sha256 of the RFC 8785 canonical JSON of {type, input}>`, so key order never matters;
 * `<type>-k-<sha256 of the key>` with an idempotency key; `<type>-<uuid v7>` with dedup off. Outside the default
 * tenant the tenant is part of the hashed object (`{type, input, tenant}`, `{idempotencyKey, tenant}`): two tenants
 * never share a job, and nobody learns from an id whether another tenant submitted the same input. The default
 * tenant hashes what it always did, so jobs started before tenants existed keep their ids.
 */
export function jobIdFor(
  job: Pick<SubmitJob, 'type' | 'input' | 'idempotencyKey' | 'dedup'>,
  tenant: string = DEFAULT_TENANT,
): string {
  const scoped = tenant === DEFAULT_TENANT ? {} : { tenant };
  if (job.idempotencyKey !== undefined) {
    const hash =
      tenant === DEFAULT_TENANT
        ? shortHash(job.idempotencyKey)
        : canonicalHash({ idempotencyKey: job.idempotencyKey, ...scoped });
    return `${job.type}-k-${hash}`;
  }
  if (!job.dedup) return `${job.type}-${uuidv7()}`;
  return `${job.type}-${canonicalHash({ type: job.type, input: job.input, ...scoped })}`;
}
