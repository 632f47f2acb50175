import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Engine tests spawn worker processes. Three test files at a time on a 2-core machine: several
    // files spend most of their time waiting (the Slurm cluster's queue, locks, timeouts), so a
    // third keeps both cores busy (the suite took 627 s with two).
    maxWorkers: 3,
  },
});
