import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: gpuflow against a real Temporal cluster (temporal-server built from the Go module, on
 * PostgreSQL), not the dev server. Apart from `npm test`: the first run builds the server (about 35 minutes).
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/cluster/**/*.test.ts'],
    // Temporal's native bridge crashes under worker threads. One file: the scenarios share one stack, in order.
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['./test/cluster/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
