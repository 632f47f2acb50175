/**
 * pipe's public API for a project's own stage kinds (`import { defineStage } from 'pipe-ml'`):
 * the stage API (src/sdk/: the kind declaration, its context and types, the seeded `Rng`, the
 * Arrow table helpers) and `runStageDirect` to test a kind in-process.
 */
export * from './sdk/index.js';
export { runStageDirect } from './engine/exec/context.js';
export type { DirectRunOptions, DirectRunResult } from './engine/exec/context.js';
