import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native bridge crashes under worker threads: one forked process per file.
    pool: 'forks',
    globalSetup: ['./test/support/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration files share one dev server; two at a time keeps a 2-core machine responsive.
    maxWorkers: 2,
  },
});
