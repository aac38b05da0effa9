import { defineConfig } from 'vitest/config';

/**
 * Most test files wait on servers and timers more than they compute, so more of them run at once
 * than there are cores. The replicas file runs three Flowgate processes and measures the shared
 * update budget in real time: it runs alone, after the rest.
 */
const ALONE = ['test/e2e/replicas.test.ts'];

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 3,
    projects: [
      {
        extends: true,
        test: { name: 'main', include: ['test/**/*.test.ts'], exclude: ALONE, sequence: { groupOrder: 0 } },
      },
      { extends: true, test: { name: 'alone', include: ALONE, sequence: { groupOrder: 1 } } },
    ],
  },
});
