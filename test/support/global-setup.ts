import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflows } from '../../workers/orchestrator.js';
import { resolveTemporalCli } from '../../scripts/temporal-cli.js';
import { startTemporalDevServer } from '../../scripts/temporal-dev-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCliPath: string;
    workflowBundlePath: string;
  }
}

/**
 * One real Temporal dev server (in memory, headless, free port) for the whole run, and the workflow bundle built
 * once. A missing CLI fails the run with the ways to provide one: integration tests never skip themselves.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cliPath = resolveTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH || undefined });
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-test-'));
  const [server, bundle] = await Promise.all([startTemporalDevServer({ cliPath, uiPort: null }), bundleWorkflows()]);
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);
  project.provide('temporalAddress', server.address);
  project.provide('temporalCliPath', cliPath);
  project.provide('workflowBundlePath', workflowBundlePath);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
