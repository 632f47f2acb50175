/**
 * pipe's public API for a project's own stage kinds (`import { defineStage } from 'pipe-ml'`):
 * the kind API and its types, and `runStageDirect` to test a kind in-process.
 */
export { defineStage, resolvePorts } from './sdk/stage.js';
export type {
  StageKind, StageContext, StageResult, InputSpec, OutputSpec, InputHandle, OutputHandle, PortType, Progress, Logger, JsonSchema, MatrixValues, Scalar,
} from './sdk/stage.js';
export { runStageDirect } from './engine/exec/context.js';
export type { DirectRunOptions, DirectRunResult } from './engine/exec/context.js';
