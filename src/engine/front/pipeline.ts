/**
 * The front half of the engine in one call: load → validate → expand → graph — or the graph a
 * command built before from the same file, overrides and code (graph-cache.ts).
 */
import { kindNames, loadKindsFor } from './registry.js';
import { displayPath, parseYamlText, readPipelineText } from './load.js';
import { validatePipeline } from './validate.js';
import { expandPipeline } from './expand.js';
import { buildGraph, type PipelineGraph } from './graph.js';
import { cachedGraph, storeGraph } from './graph-cache.js';

export async function loadGraph(file: string, overrides: string[] = []): Promise<PipelineGraph> {
  const { absPath, text } = readPipelineText(file);
  const cached = await cachedGraph(absPath, text, overrides, loadKindsFor);
  if (cached) return cached;
  const loaded = parseYamlText(text, displayPath(absPath), absPath);
  const stages = (loaded.data as { stages?: Record<string, { kind?: unknown }> } | null)?.stages;
  const used = stages && typeof stages === 'object' ? Object.values(stages).map((s) => s?.kind).filter((k): k is string => typeof k === 'string') : [];
  const kinds = await loadKindsFor(used);
  const doc = validatePipeline(loaded, kinds, kindNames());
  const expanded = expandPipeline(loaded, doc, kinds, overrides);
  const g = buildGraph(expanded);
  storeGraph(g, text, overrides);
  return g;
}
