/**
 * The front half of the engine in one call: load → validate → expand → graph.
 */
import { kindNames, loadKindsFor } from './registry.js';
import { loadPipelineFile } from './load.js';
import { validatePipeline } from './validate.js';
import { expandPipeline } from './expand.js';
import { buildGraph, type PipelineGraph } from './graph.js';

export async function loadGraph(file: string, overrides: string[] = []): Promise<PipelineGraph> {
  const loaded = loadPipelineFile(file);
  const stages = (loaded.data as { stages?: Record<string, { kind?: unknown }> } | null)?.stages;
  const used = stages && typeof stages === 'object' ? Object.values(stages).map((s) => s?.kind).filter((k): k is string => typeof k === 'string') : [];
  const kinds = await loadKindsFor(used);
  const doc = validatePipeline(loaded, kinds, kindNames());
  const expanded = expandPipeline(loaded, doc, kinds, overrides);
  return buildGraph(expanded);
}
