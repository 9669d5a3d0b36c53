import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

/** `encoding` metadata of an encrypted payload (as in Temporal's encryption samples, every SDK). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key of the ring that encrypted the payload. */
export const KEY_ID_METADATA = 'encryption-key-id';

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const ENCRYPTION_KEY_BYTES = 32;

/** One AES-256 key of a ring: its id travels with each payload it encrypts. */
export interface EncryptionKey {
  id: string;
  /** 32 bytes. */
  key: Uint8Array;
}

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;
const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const text = (bytes: Uint8Array | null | undefined): string | undefined =>
  bytes ? Buffer.from(bytes).toString('utf8') : undefined;

/**
 * Encrypts every payload with the first key of the ring and decrypts with whichever key its id names, so a
 * rotation (a new key first, the old ones after it) still reads what the old keys wrote. Payloads that are not
 * encrypted pass through decoding unchanged: jobs from before the key was set stay readable.
 *
 * Wire format (the same in every language): the original `temporal.api.common.v1.Payload`, protobuf-encoded, is
 * the plaintext; `data` = 12-byte random nonce ‖ AES-256-GCM ciphertext ‖ 16-byte tag, no additional data;
 * metadata `encoding: binary/encrypted` and `encryption-key-id: <id>` (both UTF-8).
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: ReadonlyMap<string, Uint8Array>;
  private readonly current: EncryptionKey;

  constructor(keys: readonly EncryptionKey[]) {
    const [current] = keys;
    if (!current) throw new TypeError('EncryptionCodec: at least one key');
    for (const { id, key } of keys) {
      if (key.byteLength !== ENCRYPTION_KEY_BYTES) {
        throw new TypeError(`EncryptionCodec: key "${id}" has ${key.byteLength} bytes, not ${ENCRYPTION_KEY_BYTES}`);
      }
    }
    this.current = current;
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((payload) => this.encrypt(payload))));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    // A throw in the executor rejects: callers see a rejected promise, never a synchronous throw.
    return new Promise((resolve) => resolve(payloads.map((payload) => this.decrypt(payload))));
  }

  private encrypt(payload: Payload): Payload {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.current.key, nonce);
    const plain = PayloadMessage.encode(payload).finish();
    const data = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(this.current.id) },
      data,
    };
  }

  private decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
    const id = text(payload.metadata?.[KEY_ID_METADATA]) ?? '';
    const key = this.byId.get(id);
    if (!key) throw new Error(`payload encrypted with key "${id}", which is not in GPUFLOW_ENCRYPTION_KEYS`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.byteLength < NONCE_BYTES + TAG_BYTES) throw new Error('encrypted payload too short');
    const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(data.subarray(data.byteLength - TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(data.subarray(NONCE_BYTES, data.byteLength - TAG_BYTES)),
      decipher.final(),
    ]);
    return PayloadMessage.decode(plain);
  }
}

/** The data converter option of clients and workers: the codec when a key ring is configured, else nothing. */
export function encryptionDataConverter(keys: readonly EncryptionKey[] | undefined) {
  return keys && keys.length > 0 ? { payloadCodecs: [new EncryptionCodec(keys)] } : undefined;
}
