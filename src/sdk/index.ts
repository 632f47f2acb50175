/**
 * The stage API — what a stage kind sees: its declaration (`defineStage`, ports, params
 * schema), the context it runs in (`StageContext`: params, inputs, outputs, progress, log,
 * seeded `Rng`) and pipe's table format (Apache Arrow tables and their helpers).
 *
 * A leaf: nothing here imports the engine, run tracking, the CLI or lib; every other part of
 * pipe may import it (checked by dependency-cruiser, `.dependency-cruiser.cjs`).
 */
export * from './stage.js';
export { Rng } from './rng.js';
export * from './table.js';
