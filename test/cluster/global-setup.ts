import type { TestProject } from 'vitest/node';
import { startTemporalCluster } from '../../scripts/temporal-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    clusterAddress: string;
    clusterNamespace: string;
    /** The cluster's temp dir, removed with it: the gpuflow processes keep their blobs under it. */
    clusterDir: string;
  }
}

/**
 * One Temporal cluster for the run: built on first use (cached under .tools/), on a private PostgreSQL. The
 * server and PostgreSQL are tied to this process by the kernel, so they stop even if vitest is killed; a temp
 * dir left by a run cut short is removed by the next one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const cluster = await startTemporalCluster();
  process.stderr.write(`[cluster] up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  const interrupted = (): void => void cluster.stop().then(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  project.provide('clusterAddress', cluster.address);
  project.provide('clusterNamespace', cluster.namespace);
  project.provide('clusterDir', cluster.dir);
  return async () => {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await cluster.stop();
  };
}
