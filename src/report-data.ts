/**
 * Glue between the engine (graph, statuses, cache) and the report renderer (src/lib/report):
 * collects what the report shows — stages with states and reasons, params, metrics, outputs —
 * from the cache, without running anything.
 */
import { existsSync } from 'node:fs';
import type { ExecutionRow } from './engine/cache/db.js';
import type { PipelineGraph } from './engine/front/graph.js';
import type { StageStatus } from './engine/cache/plan.js';
import { formatReason } from './engine/cache/reasons.js';
import type { Workspace } from './engine/cache/workspace.js';
import { dagHtml, writeReport } from './lib/report/html.js';
import type { ReportData, ReportStage } from './lib/report/types.js';

function durationOf(ws: Workspace, e: ExecutionRow): number | undefined {
  const src = e.cached_from ? (ws.db.execution(e.cached_from)) : e;
  return src?.ended ? src.ended - src.started : undefined;
}

export function reportData(g: PipelineGraph, statuses: StageStatus[], ws: Workspace): ReportData {
  const byId = new Map(statuses.map((s) => [s.id, s]));
  const name = g.pipeline.name;
  const stages: ReportStage[] = g.order.map((st) => {
    const s = byId.get(st.id)!;
    // Fresh: the execution that satisfies it; otherwise the latest done one (its results are
    // shown, marked stale) and the latest failure's error.
    const exec = s.hit ?? ws.db.latest(name, st.id, 'done');
    const last = ws.db.latest(name, st.id);
    const outputs = (s.outputs ?? (exec ? ws.db.outputs(exec.id) : []))
      .filter((o) => ws.store.verify(o.hash) === 'ok')
      .map((o) => {
        const view = ws.db.getView(name, st.id, o.name);
        const path = view && view.hash === o.hash && existsSync(view.path) ? view.path : ws.store.path(o.hash);
        return { name: o.name, type: o.type, path, hash: o.hash };
      });
    return {
      id: st.id, base: st.base, kind: st.kind.kind, state: s.state, reasons: s.reasons.map(formatReason),
      params: st.params, matrix: st.matrix, deps: st.deps,
      metrics: exec?.metrics ? (JSON.parse(exec.metrics) as Record<string, unknown>) : undefined,
      durationMs: exec ? durationOf(ws, exec) : undefined,
      outputs,
      error: last?.state === 'failed' ? last.error ?? undefined : undefined,
    };
  });
  return {
    pipeline: { name, file: g.pipeline.file.file, params: g.pipeline.params },
    generatedAt: new Date().toISOString(),
    stages,
    ...(g.headline.length ? { headline: g.headline.map((h) => ({ text: h.text, items: h.bindings })) } : {}),
  };
}

export async function dagHtmlFor(g: PipelineGraph, st: StageStatus[], ws: Workspace): Promise<string> {
  return dagHtml(reportData(g, st, ws));
}

export function writeReportFor(g: PipelineGraph, st: StageStatus[], ws: Workspace, dir: string): Promise<{ html: string; markdown: string }> {
  return writeReport(reportData(g, st, ws), dir);
}
