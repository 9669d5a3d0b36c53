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

  it('parses API keys with roles; a bare key gets the submit role, a key without a tenant the default tenant', () => {
    const env = loadEnv({ GPUFLOW_API_KEYS: 'aaaaaaaaaaaaaaaa:admin, bbbbbbbbbbbbbbbb' });
    expect(env.GPUFLOW_API_KEYS).toEqual([
      { key: 'aaaaaaaaaaaaaaaa', role: 'admin', tenant: 'default' },
      { key: 'bbbbbbbbbbbbbbbb', role: 'submit', tenant: 'default' },
    ]);
  });

  it('puts a key in the tenant named after @', () => {
    const env = loadEnv({
      GPUFLOW_API_KEYS: 'aaaaaaaaaaaaaaaa:submit@acme,bbbbbbbbbbbbbbbb@globex,cccccccccccccccc:worker=echo|sleep',
    });
    expect(env.GPUFLOW_API_KEYS).toEqual([
      { key: 'aaaaaaaaaaaaaaaa', role: 'submit', tenant: 'acme' },
      { key: 'bbbbbbbbbbbbbbbb', role: 'submit', tenant: 'globex' },
      { key: 'cccccccccccccccc', role: 'worker', types: ['echo', 'sleep'], tenant: 'default' },
    ]);
    // Runners take every tenant's jobs from shared per-type queues: a worker key in a tenant would leak them.
    expect(() => loadEnv({ GPUFLOW_API_KEYS: 'cccccccccccccccc:worker@acme' })).toThrow(/cannot belong to a tenant/);
    expect(() => loadEnv({ GPUFLOW_API_KEYS: 'aaaaaaaaaaaaaaaa:submit@Bad Tenant' })).toThrow(/GPUFLOW_API_KEYS/);
    expect(() => loadEnv({ GPUFLOW_API_KEYS: 'aaaaaaaaaaaaaaaa:submit@' })).toThrow(/GPUFLOW_API_KEYS/);
  });

  it('parses rate limits per role and tenant, and in-flight caps per tenant', () => {
    const env = loadEnv({
      GPUFLOW_RATE_LIMITS: 'submit=600/1m, admin=20/10s, tenant:acme=5/1h',
      GPUFLOW_MAX_JOBS_IN_FLIGHT: 'acme=20,*=500',
    });
    expect(env.GPUFLOW_RATE_LIMITS).toEqual({
      byRole: { submit: { max: 600, windowMs: 60_000 }, admin: { max: 20, windowMs: 10_000 } },
      byTenant: { acme: { max: 5, windowMs: 3_600_000 } },
    });
    expect(env.GPUFLOW_MAX_JOBS_IN_FLIGHT).toEqual({ acme: 20, '*': 500 });
    const empty = loadEnv({});
    expect(empty.GPUFLOW_RATE_LIMITS).toEqual({ byRole: {}, byTenant: {} });
    expect(empty.GPUFLOW_MAX_JOBS_IN_FLIGHT).toEqual({});
    for (const bad of ['root=1/1m', 'submit=0/1m', 'submit=10/1d', 'submit=10', 'tenant:=1/1s']) {
      expect(() => loadEnv({ GPUFLOW_RATE_LIMITS: bad }), bad).toThrow(/GPUFLOW_RATE_LIMITS/);
    }
    for (const bad of ['acme=0', 'acme=x', 'Acme=1', '=1']) {
      expect(() => loadEnv({ GPUFLOW_MAX_JOBS_IN_FLIGHT: bad }), bad).toThrow(/GPUFLOW_MAX_JOBS_IN_FLIGHT/);
    }
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
