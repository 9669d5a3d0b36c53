import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryBlobStore } from '../../storage/directory-blob-store.js';
import { BlobUnavailableError } from '../../storage/blob-unavailable-error.js';
import { externalizePayload, inputBlobKey, resolvePayload } from '../../storage/payloads.js';
import { createBlobStore } from '../../storage/create-blob-store.js';
import { S3BlobStore } from '../../storage/s3-blob-store.js';
import { loadEnv } from '../../config/env.js';

let dir: string;
let store: DirectoryBlobStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpuflow-blob-unit-'));
  store = new DirectoryBlobStore(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('DirectoryBlobStore', () => {
  it('stores, reads, streams and replaces blobs with their content type', async () => {
    expect(await store.get('artifacts/job-1/a.png')).toBeNull();
    expect(await store.stat('artifacts/job-1/a.png')).toBeNull();
    await store.put('artifacts/job-1/a.png', new Uint8Array([1, 2, 3]), 'image/png');
    expect(await store.get('artifacts/job-1/a.png')).toEqual({
      body: Buffer.from([1, 2, 3]),
      size: 3,
      contentType: 'image/png',
    });
    await store.put('artifacts/job-1/a.png', Buffer.from('text'), 'text/plain');
    const opened = await store.open('artifacts/job-1/a.png');
    expect(opened).toMatchObject({ size: 4, contentType: 'text/plain' });
    const chunks: Buffer[] = [];
    for await (const chunk of opened!.stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('text');
  });

  it('writes through a temporary file and a rename: concurrent readers see a whole blob, nothing is left over', async () => {
    const big = (byte: number) => new Uint8Array(4 * 1024 * 1024).fill(byte);
    await store.put('outputs/j/r.1.json', big(1), 'application/json');
    const reads: Promise<unknown>[] = [];
    const writes = [2, 3, 4].map((byte) => store.put('outputs/j/r.1.json', big(byte), 'application/json'));
    for (let i = 0; i < 10; i += 1) {
      reads.push(
        store.get('outputs/j/r.1.json').then((blob) => {
          expect(blob!.size).toBe(4 * 1024 * 1024);
          expect(new Set(blob!.body).size).toBe(1);
        }),
      );
    }
    await Promise.all([...writes, ...reads]);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('refuses keys that could leave its directory or that mean nothing', async () => {
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', '.hidden', 'a/./b', '', 'a\\b', 'a b', 'a/\0']) {
      await expect(store.put(key, new Uint8Array(1), 'x/y'), key).rejects.toThrow(TypeError);
      await expect(store.get(key), key).rejects.toThrow(/invalid blob key/);
    }
  });
});

describe('payload references', () => {
  it('keeps a value at or under the threshold inline and stores a larger one by content hash, once', async () => {
    expect(await externalizePayload({ a: 1 }, store, 1024, inputBlobKey)).toEqual({ a: 1 });
    const big = { text: 'é'.repeat(1000) };
    const ref = await externalizePayload(big, store, 1024, inputBlobKey);
    expect(ref).toMatchObject({ $gpuflowBlob: { size: 2011 } });
    expect((ref as { $gpuflowBlob: { key: string } }).$gpuflowBlob.key).toMatch(/^inputs\/[0-9a-f]{64}\.json$/);
    const { key } = (ref as { $gpuflowBlob: { key: string } }).$gpuflowBlob;
    expect((await store.stat(key))?.contentType).toBe('application/json');
    expect(await resolvePayload(ref, store)).toEqual(big);
    expect(await externalizePayload(big, store, 1024, inputBlobKey)).toEqual(ref);
    expect(await resolvePayload({ a: 1 }, store)).toEqual({ a: 1 });
  });

  it('stores a value that looks like a reference, so that it comes back as it was', async () => {
    const lookalike = { $gpuflowBlob: { key: 'outputs/other/x.json', size: 1, sha256: 'a'.repeat(64) } };
    const ref = await externalizePayload(lookalike, store, 1024, 'outputs/j/r.1.json');
    expect(ref).not.toEqual(lookalike);
    expect(await resolvePayload(ref, store)).toEqual(lookalike);
  });

  it('fails a reference whose blob is missing or altered', async () => {
    const ref = (await externalizePayload('x'.repeat(2000), store, 1024, 'outputs/j/r.2.json')) as {
      $gpuflowBlob: { key: string; size: number; sha256: string };
    };
    await store.put(ref.$gpuflowBlob.key, Buffer.from(JSON.stringify('y'.repeat(2000))), 'application/json');
    await expect(resolvePayload(ref, store)).rejects.toMatchObject({ reason: 'corrupt' });
    const missing = { $gpuflowBlob: { ...ref.$gpuflowBlob, key: 'outputs/j/none.json' } };
    await expect(resolvePayload(missing, store)).rejects.toBeInstanceOf(BlobUnavailableError);
    await expect(resolvePayload(ref, undefined)).rejects.toThrow(/no blob store/);
  });
});

describe('blob store configuration', () => {
  it('uses <data dir>/blobs by default and S3 when a bucket is set', async () => {
    const env = loadEnv({ GPUFLOW_DATA_DIR: dir });
    expect(env.GPUFLOW_PAYLOAD_THRESHOLD_BYTES).toBe(262_144);
    expect(env.GPUFLOW_MAX_BODY_BYTES).toBe(20_971_520);
    expect((await createBlobStore(env)).location).toBe(`directory ${join(dir, 'blobs')}`);
    const s3 = await createBlobStore(
      loadEnv({ GPUFLOW_S3_BUCKET: 'jobs', GPUFLOW_S3_ENDPOINT: 'http://127.0.0.1:9000', GPUFLOW_S3_PREFIX: 'gf' }),
    );
    expect(s3).toBeInstanceOf(S3BlobStore);
    expect(s3.location).toBe('s3://jobs/gf/ at http://127.0.0.1:9000');
  });

  it('refuses partial S3 settings, naming what is missing', () => {
    expect(() => loadEnv({ GPUFLOW_S3_ENDPOINT: 'http://127.0.0.1:9000' })).toThrow(
      /GPUFLOW_S3_BUCKET: required with GPUFLOW_S3_ENDPOINT/,
    );
    expect(() => loadEnv({ GPUFLOW_S3_BUCKET: 'jobs', GPUFLOW_S3_ACCESS_KEY_ID: 'id' })).toThrow(
      /GPUFLOW_S3_SECRET_ACCESS_KEY: GPUFLOW_S3_ACCESS_KEY_ID and GPUFLOW_S3_SECRET_ACCESS_KEY go together/,
    );
    expect(() => loadEnv({ GPUFLOW_PAYLOAD_THRESHOLD_BYTES: String(4 * 1024 * 1024) })).toThrow(
      /GPUFLOW_PAYLOAD_THRESHOLD_BYTES/,
    );
  });
});
