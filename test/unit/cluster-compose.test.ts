import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../../protocol/search-attributes.js';
import { TEMPORAL_SERVER_VERSION } from '../../scripts/cluster-tools.js';
import {
  CLUSTER_HISTORY_SHARDS,
  DYNAMIC_CONFIG,
  SQL_PASSWORD,
  SQL_USER,
} from '../../scripts/temporal-cluster-config.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';

interface Service {
  image?: string;
  environment?: Record<string, string | number>;
  command?: string[];
}

/**
 * docker-compose.yml's Temporal is the one `npm run test:cluster` proves (scripts/temporal-cluster.ts): the same
 * server version, store, shard count, dynamic config, SQL credentials and search attributes.
 */
describe('docker-compose.yml in step with the cluster test', () => {
  const compose = parse(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
    configs: Record<string, { content: string }>;
  };
  const { temporal, 'temporal-schema': schema, 'temporal-setup': setup } = compose.services;
  const version = TEMPORAL_SERVER_VERSION.replace(/^v/, '');

  it('runs the server version the test builds, with its tools at the same version', () => {
    expect(temporal?.image).toBe(`temporalio/server:${version}`);
    expect(schema?.image).toBe(`temporalio/admin-tools:${version}`);
    expect(setup?.image).toBe(`temporalio/admin-tools:${version}`);
  });

  it('stores on PostgreSQL through the postgres12 plugin, with the shard count and credentials of the test', () => {
    expect(temporal?.environment).toMatchObject({
      DB: 'postgres12',
      NUM_HISTORY_SHARDS: CLUSTER_HISTORY_SHARDS,
      POSTGRES_USER: SQL_USER,
      POSTGRES_PWD: SQL_PASSWORD,
    });
    expect(schema?.environment).toMatchObject({ SQL_PLUGIN: 'postgres12', SQL_USER, SQL_PASSWORD });
    expect(schema?.command?.join('\n')).toMatch(/create-database[\s\S]*setup-schema -v 0\.0[\s\S]*update-schema/);
  });

  it('gives the server the dynamic config of the test', () => {
    expect(compose.configs['temporal-dynamic-config']?.content).toBe(DYNAMIC_CONFIG);
  });

  it('registers every search attribute gpuflow needs, as Keyword', () => {
    const names = SEARCH_ATTRIBUTE_REGISTRATIONS.map((registration) => registration.replace(/=Keyword$/, ''));
    expect(setup?.command?.join('\n')).toContain(`for name in ${names.join(' ')}; do`);
    expect(setup?.command?.join('\n')).toContain('--type Keyword');
  });
});
