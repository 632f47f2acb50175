/**
 * The front half of the engine in one call: load → validate → expand → graph.
 */
import { loadKinds } from './registry.js';
import { loadPipelineFile } from './load.js';
import { validatePipeline } from './validate.js';
import { expandPipeline } from './expand.js';
import { buildGraph, type PipelineGraph } from './graph.js';

export async function loadGraph(file: string, overrides: string[] = []): Promise<PipelineGraph> {
  const kinds = await loadKinds();
  const loaded = loadPipelineFile(file);
  const doc = validatePipeline(loaded, kinds);
  const expanded = expandPipeline(loaded, doc, kinds, overrides);
  return buildGraph(expanded);
}
