/**
 * Glue between the engine (graph, statuses, cache) and the report renderer (src/lib/report):
 * collects what the report shows — stages with states and reasons, params, metrics, outputs —
 * from the cache, without running anything.
 */
import type { PipelineGraph } from './engine/graph.js';
import type { StageStatus } from './engine/plan.js';
import type { Workspace } from './engine/workspace.js';

export async function dagHtmlFor(_g: PipelineGraph, _st: StageStatus[], _ws: Workspace): Promise<string> {
  throw new Error('the HTML renderer is not built yet');
}

export async function writeReportFor(_g: PipelineGraph, _st: StageStatus[], _ws: Workspace, _dir: string): Promise<{ html: string; markdown: string }> {
  throw new Error('the HTML renderer is not built yet');
}
