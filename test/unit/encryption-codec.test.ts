import { createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { loadEnv, encryptionKeysOf } from '../../config/env.js';
import { EncryptionCodec } from '../../storage/encryption-codec.js';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

describe('EncryptionCodec', () => {
  it('writes the documented wire format: nonce, AES-256-GCM ciphertext and tag over the protobuf Payload', async () => {
    const original = defaultPayloadConverter.toPayload({ prompt: 'a secret prompt' });
    const [encrypted] = await new EncryptionCodec([k1]).encode([original]);
    expect(text(encrypted!.metadata!.encoding)).toBe('binary/encrypted');
    expect(text(encrypted!.metadata!['encryption-key-id'])).toBe('k1');
    expect(text(encrypted!.data)).not.toContain('secret');
    // Decrypted by hand, as another language's codec would.
    const data = Buffer.from(encrypted!.data!);
    const decipher = createDecipheriv('aes-256-gcm', k1.key, data.subarray(0, 12));
    decipher.setAuthTag(data.subarray(data.length - 16));
    const plain = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
    const payload = proto.temporal.api.common.v1.Payload.decode(plain);
    expect(defaultPayloadConverter.fromPayload(payload)).toEqual({ prompt: 'a secret prompt' });
  });

  it('reads what an older key of the ring wrote, and passes unencrypted payloads through', async () => {
    const [old] = await new EncryptionCodec([k1]).encode([defaultPayloadConverter.toPayload('old')]);
    const plainPayload = defaultPayloadConverter.toPayload('never encrypted');
    const rotated = new EncryptionCodec([k2, k1]);
    const decoded = await rotated.decode([old!, plainPayload]);
    expect(decoded.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual(['old', 'never encrypted']);
    const [fresh] = await rotated.encode([plainPayload]);
    expect(text(fresh!.metadata!['encryption-key-id'])).toBe('k2');
  });

  it('decrypts a payload the Python SDK codec made (python/tests/fixtures; pytest reads the TS-made one)', async () => {
    const fixture = JSON.parse(
      readFileSync(new URL('../../python/tests/fixtures/python-encrypted-payload.json', import.meta.url), 'utf8'),
    ) as { keys: string; value: unknown; payload: { metadata: Record<string, string>; data: string } };
    const ring = encryptionKeysOf(loadEnv({ GPUFLOW_ENCRYPTION_KEYS: fixture.keys }))!;
    const bytes = (b64: string) => Buffer.from(b64, 'base64');
    const payload = {
      metadata: Object.fromEntries(Object.entries(fixture.payload.metadata).map(([name, b64]) => [name, bytes(b64)])),
      data: bytes(fixture.payload.data),
    };
    const [decoded] = await new EncryptionCodec(ring).decode([payload]);
    expect(text(decoded!.metadata!.encoding)).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(fixture.value);
  });

  it('refuses a payload of a key it lacks, and one that was tampered with', async () => {
    const [encrypted] = await new EncryptionCodec([k1]).encode([defaultPayloadConverter.toPayload('x')]);
    await expect(new EncryptionCodec([k2]).decode([encrypted!])).rejects.toThrow(/key "k1"/);
    const tampered = { ...encrypted!, data: Buffer.from(encrypted!.data!) };
    tampered.data[14] = (tampered.data[14] ?? 0) ^ 1;
    await expect(new EncryptionCodec([k1]).decode([tampered])).rejects.toThrow();
  });
});

describe('encryption settings', () => {
  const b64 = (key: Buffer) => key.toString('base64');
  it('parses one key (id "default") or a ring whose first key encrypts', () => {
    expect(encryptionKeysOf(loadEnv({ GPUFLOW_ENCRYPTION_KEY: b64(k1.key) }))).toEqual([
      { id: 'default', key: k1.key },
    ]);
    const ring = encryptionKeysOf(loadEnv({ GPUFLOW_ENCRYPTION_KEYS: `k2:${b64(k2.key)}, k1:${b64(k1.key)}` }));
    expect(ring?.map((entry) => entry.id)).toEqual(['k2', 'k1']);
    expect(encryptionKeysOf(loadEnv({}))).toBeUndefined();
  });

  it('names every bad setting', () => {
    expect(() => loadEnv({ GPUFLOW_ENCRYPTION_KEY: b64(randomBytes(16)) })).toThrow(
      /GPUFLOW_ENCRYPTION_KEY: must be the base64 of 32/,
    );
    expect(() => loadEnv({ GPUFLOW_ENCRYPTION_KEYS: `k1:${b64(k1.key)},k1:${b64(k2.key)}` })).toThrow(/unique id/);
    expect(() => loadEnv({ GPUFLOW_ENCRYPTION_KEYS: b64(k1.key) })).toThrow(/<id>:<key>/);
    expect(() =>
      loadEnv({ GPUFLOW_ENCRYPTION_KEY: b64(k1.key), GPUFLOW_ENCRYPTION_KEYS: `k2:${b64(k2.key)}` }),
    ).toThrow(/not both/);
  });
});
