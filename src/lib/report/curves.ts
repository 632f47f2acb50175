/**
 * Per-epoch curves in the report: every stage whose `curves` table output (a built-in `train`,
 * a Python stage's protocol rows, a `command`'s) has numeric columns gets one interactive chart
 * per stage — one panel per column, one line per matrix instance, x = epoch (or step/iteration,
 * else the row number). Large tables are thinned to at most MAX_POINTS points per line.
 */
import type { ReportStage } from './types.js';

const X_COLUMNS = ['epoch', 'step', 'iteration', 'iter'];
const MAX_POINTS = 400;
const MAX_INSTANCES = 40;

export interface CurvesChart {
  stage: ReportStage;
  title: string;
  spec: Record<string, unknown>;
}

export async function curvesCharts(stages: ReportStage[], exists: (p: string) => Promise<number | undefined>): Promise<CurvesChart[]> {
  const { readTable } = await import('../../sdk/table.js');
  const byBase = new Map<string, ReportStage[]>();
  for (const s of stages) {
    if (!(s.outputs ?? []).some((o) => o.name === 'curves' && o.type === 'table')) continue;
    if (!byBase.has(s.base)) byBase.set(s.base, []);
    byBase.get(s.base)!.push(s);
  }
  const out: CurvesChart[] = [];
  for (const [base, list] of byBase) {
    const values: { instance: string; x: number; column: string; value: number }[] = [];
    let xName = '';
    for (const s of list.slice(0, MAX_INSTANCES)) {
      const o = s.outputs!.find((x) => x.name === 'curves' && x.type === 'table')!;
      const size = await exists(o.path);
      if (size === undefined || size > 16 * 1024 * 1024) continue;
      let t;
      try { t = await readTable(o.path); } catch { continue; }
      if (!t.numRows) continue;
      const cols: Record<string, number[]> = {};
      for (const f of t.schema.fields) {
        const arr = t.getChild(f.name)?.toArray() as ArrayLike<unknown> | undefined;
        if (!arr || !arr.length || (typeof arr[0] !== 'number' && typeof arr[0] !== 'bigint')) continue;
        cols[f.name] = Array.from(arr, Number);
      }
      const x = X_COLUMNS.find((c) => c in cols);
      xName ||= x ?? 'row';
      const xs = x ? cols[x]! : Array.from({ length: t.numRows }, (_, i) => i);
      const stride = Math.max(1, Math.ceil(t.numRows / MAX_POINTS));
      const label = Object.keys(s.matrix ?? {}).length ? Object.entries(s.matrix).map(([k, v]) => `${k}=${v}`).join(', ') : s.id;
      for (const [c, ys] of Object.entries(cols)) {
        if (c === x) continue;
        for (let i = 0; i < ys.length; i += stride) if (Number.isFinite(ys[i]) && Number.isFinite(xs[i])) values.push({ instance: label, x: xs[i]!, column: c, value: ys[i]! });
      }
    }
    if (!values.length) continue;
    const columns = new Set(values.map((v) => v.column)).size;
    out.push({
      stage: list[0]!,
      title: `${base} · curves`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: `${base} · curves`,
        data: { values },
        facet: { field: 'column', type: 'nominal', title: null },
        columns: Math.min(3, columns),
        spec: {
          width: 260, height: 170,
          mark: { type: 'line', tooltip: true },
          encoding: {
            x: { field: 'x', type: 'quantitative', title: xName },
            y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
            color: { field: 'instance', type: 'nominal', title: null },
          },
        },
        resolve: { scale: { y: 'independent' } },
        usermeta: { pipe: { width: Math.min(3, columns) * 300 } },
      },
    });
  }
  return out;
}
