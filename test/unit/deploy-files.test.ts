import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  deploy?: { resources?: { reservations?: { devices?: { driver: string; capabilities: string[] }[] } } };
}

/**
 * No Docker engine runs here, so the compose file cannot be started by the tests; this keeps it from rotting:
 * it parses, its gpuflow services run real gpuflow commands on files that exist, and the worker reserves a GPU.
 */
describe('docker-compose.yml and Dockerfile', () => {
  const compose = parse(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');

  it('runs Temporal on PostgreSQL with its Web UI, and the three gpuflow processes from the one image', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'orchestrator',
      'postgresql',
      'temporal',
      'temporal-schema',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
    expect(compose.services.temporal?.environment?.DB).toMatch(/^postgres/);
    for (const name of ['api', 'orchestrator', 'worker']) {
      const service = compose.services[name]!;
      expect(service.build).toBe('.');
      expect(service.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    }
    expect(compose.services.api?.command).toEqual(['api']);
    expect(compose.services.orchestrator?.command).toEqual(['orchestrator']);
  });

  it('starts the worker on job modules that exist in the image, with a GPU reserved', () => {
    const [command, ...args] = compose.services.worker!.command!;
    expect(command).toBe('worker');
    const modules = args.filter((arg) => arg.endsWith('.ts'));
    expect(modules.length).toBeGreaterThan(0);
    for (const module of modules) {
      expect(existsSync(join(PROJECT_ROOT, module))).toBe(true);
      expect(dockerfile).toContain(`COPY ${module.split('/')[0]} `);
    }
    // The same metrics ports as deploy/worker.yaml.
    expect(args).toEqual(expect.arrayContaining(['--metrics-port', '9464', '--sdk-metrics-port', '9465']));
    const devices = compose.services.worker!.deploy?.resources?.reservations?.devices ?? [];
    expect(devices).toContainEqual(expect.objectContaining({ driver: 'nvidia', capabilities: ['gpu'] }));
  });

  // That it copies every source folder is checked against package.json `files` in layout.test.ts.
  it('runs the bin', () => {
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/gpuflow\.js"\]/);
  });
});
