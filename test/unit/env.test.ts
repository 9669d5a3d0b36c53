import { describe, expect, it } from 'vitest';
import { EnvError, loadEnv } from '../../config/env.js';

describe('loadEnv', () => {
  it('has defaults for a laptop', () => {
    expect(loadEnv({})).toMatchObject({
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'default',
      GPUFLOW_API_HOST: '127.0.0.1',
      GPUFLOW_API_PORT: 3000,
      GPUFLOW_DATA_DIR: '.data',
      GPUFLOW_API_KEYS: [],
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadEnv({ GPUFLOW_API_PORT: '', TEMPORAL_ADDRESS: '' })).toMatchObject({
      GPUFLOW_API_PORT: 3000,
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
    });
  });

  it('parses API keys with roles; a bare key gets the submit role', () => {
    const env = loadEnv({ GPUFLOW_API_KEYS: 'aaaaaaaaaaaaaaaa:admin, bbbbbbbbbbbbbbbb' });
    expect(env.GPUFLOW_API_KEYS).toEqual([
      { key: 'aaaaaaaaaaaaaaaa', role: 'admin' },
      { key: 'bbbbbbbbbbbbbbbb', role: 'submit' },
    ]);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadEnv({ GPUFLOW_API_PORT: 'http', GPUFLOW_API_KEYS: 'short:root', GPUFLOW_LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    const problems = (error as EnvError).problems.join('\n');
    expect(problems).toMatch(/^GPUFLOW_API_PORT: /m);
    expect(problems).toMatch(/^GPUFLOW_API_KEYS: /m);
    expect(problems).toMatch(/^GPUFLOW_LOG_LEVEL: /m);
  });
});
