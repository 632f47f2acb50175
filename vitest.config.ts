import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Engine tests spawn worker processes; two test files at a time suit a 2-core machine (three
    // gained nothing: 619 s against 627 s, with more contention). `npm test` runs the Slurm files,
    // which mostly wait on the Slurm queue, in a vitest process of their own beside these two
    // workers (scripts/vitest-split.mjs).
    maxWorkers: 2,
  },
});
