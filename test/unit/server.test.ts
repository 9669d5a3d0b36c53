import { describe, expect, it } from 'vitest';
import { runApiServer } from '../../api/server.js';
import { loadEnv } from '../../config/env.js';

describe('the API process', () => {
  it('refuses to listen on a public address without API keys, before touching anything', async () => {
    await expect(runApiServer(loadEnv({ GPUFLOW_API_HOST: '0.0.0.0' }))).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0 without API keys: set GPUFLOW_API_KEYS/,
    );
  });
});
