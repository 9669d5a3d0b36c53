import { z } from 'zod';

/**
 * The payload encryption settings, `GPUFLOW_ENCRYPTION_KEY` and the ring `GPUFLOW_ENCRYPTION_KEYS`, as config/env.ts
 * parses them (the Python SDK parses them the same way, with the same messages).
 */

/** An encryption key: the base64 of 32 random bytes (`openssl rand -base64 32`). */
const KEY_PROBLEM = 'must be the base64 of 32 random bytes: openssl rand -base64 32';
function aesKey(base64: string): Buffer | undefined {
  const key = Buffer.from(base64, 'base64');
  return /^[A-Za-z0-9+/]+={0,2}$/.test(base64) && key.byteLength === 32 ? key : undefined;
}

/** The id a lone `GPUFLOW_ENCRYPTION_KEY` goes by; a ring that rotates it away lists it as `default:<key>`. */
export const DEFAULT_ENCRYPTION_KEY_ID = 'default';

export interface EncryptionKeyEntry {
  id: string;
  key: Buffer;
}

export const encryptionKey = z.string().transform((raw, ctx): EncryptionKeyEntry[] => {
  const key = aesKey(raw.trim());
  if (!key) {
    ctx.addIssue({ code: 'custom', message: KEY_PROBLEM });
    return z.NEVER;
  }
  return [{ id: DEFAULT_ENCRYPTION_KEY_ID, key }];
});

/** `id:base64key`, comma-separated: the first encrypts, all of them decrypt. */
export const encryptionKeys = z.string().transform((raw, ctx): EncryptionKeyEntry[] => {
  const ring: EncryptionKeyEntry[] = [];
  for (const entry of raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    const key = colon > 0 ? aesKey(entry.slice(colon + 1)) : undefined;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id) || !key || ring.some((known) => known.id === id)) {
      ctx.addIssue({
        code: 'custom',
        message: `each entry must be <id>:<key>, a unique id of A-Z a-z 0-9 . _ - and a key that ${KEY_PROBLEM}`,
      });
      return z.NEVER;
    }
    ring.push({ id, key });
  }
  return ring;
});

/** Both the lone key and the ring set: one of them must go. */
export function encryptionConfigProblems(env: Record<string, unknown>, ctx: z.RefinementCtx): void {
  if (env.GPUFLOW_ENCRYPTION_KEY !== undefined && env.GPUFLOW_ENCRYPTION_KEYS !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['GPUFLOW_ENCRYPTION_KEYS'],
      message: `set GPUFLOW_ENCRYPTION_KEY or GPUFLOW_ENCRYPTION_KEYS, not both (the lone key is "${DEFAULT_ENCRYPTION_KEY_ID}:<key>" in a ring)`,
    });
  }
}
