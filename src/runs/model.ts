/**
 * Runs as comparable records (the model behind `pipe runs`, `pipe diff`, `pipe report --compare`):
 * resolving run references, metric keys for plain stages, matrix instances and groups
 * (mean ± std), goals, and value formatting. Reads only what src/runs/record.ts recorded.
 *
 * Metric keys: `stage.metric` for a stage without a matrix, `stage[k=v,…].metric` for one matrix
 * instance, and for the instances of a matrix stage aggregated `stage.metric` (all instances) or,
 * with a group-by, `stage[k=v].metric` per value of the grouping keys. A *label* is the metric
 * name alone when only one top-level key (plain stage or group) has that name, else the key.
 */
import type { RunRow } from '../engine/cache/db.js';
import type { RunStore } from './store.js';
import { didYouMean, PipeError } from '../engine/errors.js';
import { fmtNum } from '../lib/format.js';
import { matrixGroups, type FlatValue, type MetricGoal, type RunRecord, type StageEntry } from './record.js';

export interface RunView {
  id: number;
  pipeline: string;
  name: string | null;
  started: number;
  ended: number | null;
  state: string;
  overrides: string[];
  /** null for runs recorded before run records existed (schema < 3) */
  record: RunRecord | null;
  /** `pipe runs note` */
  note?: string | null;
  /** later runs folded into this one by `pipe runs`: same pipeline file, params and results, nothing ran */
  repeats?: number[];
}

export function runView(r: RunRow): RunView {
  let record: RunRecord | null = null;
  if (r.record) {
    try { record = JSON.parse(r.record) as RunRecord; } catch { record = null; }
  }
  return { id: r.id, pipeline: r.pipeline, name: r.name, started: r.started, ended: r.ended, state: r.state, overrides: record?.overrides ?? overridesFromArgv(r.argv), record, note: r.note ?? null };
}

/** Loads the per-instance metrics of a run (the `metrics` column) into its record (for diffs and --group-by). */
export function withMetrics(db: RunStore, v: RunView): RunView {
  if (!v.record) return v;
  let doc: { metrics?: RunRecord['metrics']; matrix?: RunRecord['matrix'] } = {};
  try { doc = JSON.parse(db.runMetrics(v.id) ?? '{}'); } catch { /* unreadable: no metrics */ }
  return { ...v, record: { ...v.record, metrics: doc.metrics ?? {}, matrix: doc.matrix ?? {} } };
}

/** Can a run's metric columns for `groupBy` come from its record's stored default grouping? */
export function usesGrouped(v: RunView, groupBy: string[]): boolean {
  const by = v.record?.grouped?.by;
  return !!by && by.length === groupBy.length && groupBy.every((k) => by.includes(k));
}

/** Plain stages' metrics from `top`, matrix stages per the record's stored default grouping. */
export function groupedMetricsOf(rec: RunRecord): Map<string, MetricValue & MetricKey> {
  const out = new Map<string, MetricValue & MetricKey>();
  for (const [key, v] of topMetricsOf(rec)) if (!v.group) out.set(key, v);
  for (const [gk, x] of Object.entries(rec.grouped!.g)) out.set(gk, { key: gk, base: x.b, metric: x.m, instance: false, group: true, value: x.v, std: x.s, n: x.n });
  return out;
}

/** The top-level metrics of a run from its record alone (plain stages; matrix stages as mean ± std). */
export function topMetricsOf(rec: RunRecord): Map<string, MetricValue & MetricKey> {
  const out = new Map<string, MetricValue & MetricKey>();
  for (const [key, t] of Object.entries(rec.top ?? {})) {
    const { stage, metric } = splitKey(key);
    out.set(key, { key, base: stage, metric, instance: false, group: t.n !== undefined, value: t.v, ...(t.n !== undefined ? { std: t.s, n: t.n } : {}) });
  }
  return out;
}

/** `--set` values of a run recorded before run records (from its argv). */
function overridesFromArgv(argv: string | null): string[] {
  if (!argv) return [];
  let a: string[];
  try { a = JSON.parse(argv) as string[]; } catch { return []; }
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--set' && a[i + 1] !== undefined) out.push(a[++i]!);
    else if (a[i]!.startsWith('--set=')) out.push(a[i]!.slice(6));
  }
  return out;
}

export const runLabel = (r: { id: number; name: string | null }) => (r.name ? `#${r.id} ${r.name}` : `#${r.id}`);

/** The pipeline a command works on: the one given (a name or a YAML file's `name:`), else that of the latest run. */
export function pipelineOf(db: RunStore, given: string | undefined, nameOfFile: (f: string) => string): string {
  const known = db.pipelines().map((p) => p.pipeline);
  if (!given) {
    if (!known.length) throw new PipeError('no runs in the cache yet (pipe run <pipeline.yaml>)');
    return known[0]!;
  }
  const name = /\.ya?ml$/i.test(given) ? nameOfFile(given) : given;
  if (!known.includes(name)) throw new PipeError(`no runs of pipeline '${name}' in the cache${didYouMean(name, known)}${known.length ? ` (pipelines with runs: ${known.join(', ')})` : ''}`);
  return name;
}

/**
 * A run by reference: `12` or `#12` (run id), a run name, `latest` / `HEAD`, or `HEAD~N`
 * (`latest~N`: N runs before the latest of the pipeline).
 */
export function resolveRun(db: RunStore, ref: string, pipeline: string | undefined, all?: RunRow[]): RunRow {
  const r = ref.trim();
  const id = /^#?(\d+)$/.exec(r);
  if (id) {
    const row = db.runRow(Number(id[1]));
    if (!row) throw new PipeError(`no run #${id[1]} in the cache`);
    if (pipeline && row.pipeline !== pipeline) throw new PipeError(`run #${id[1]} is a run of '${row.pipeline}', not of '${pipeline}'`);
    return row;
  }
  const rel = /^(?:HEAD|latest|@)(?:~(\d+))?$/i.exec(r);
  if (rel) {
    pipeline ??= db.pipelines()[0]?.pipeline;
    if (!pipeline) throw new PipeError(`'${ref}': no runs in the cache yet`);
    const rows = all ?? db.runRows(pipeline);
    const back = Number(rel[1] ?? 0);
    const row = rows[rows.length - 1 - back];
    if (!row) throw new PipeError(`'${ref}': pipeline '${pipeline}' has only ${rows.length} run(s)`);
    return row;
  }
  const named = db.runsNamed(r, pipeline);
  if (named.length === 1) return db.runRow(named[0]!.id)!;
  if (named.length > 1) throw new PipeError(`run name '${ref}' is used in several pipelines (${named.map((n) => `#${n.id} in ${n.pipeline}`).join(', ')}); pass the pipeline file first or use the run id`);
  throw new PipeError(`no run '${ref}'${pipeline ? ` in pipeline '${pipeline}'` : ''}${didYouMean(r, db.runNames(pipeline))} (refer to a run by id, e.g. 12 or #12, by name, or as HEAD / HEAD~1)`);
}

// ------------------------------------------------------------------ metrics

export interface MetricValue {
  /** final value, or the mean over a group's instances */
  value: FlatValue;
  std?: number;
  n?: number;
}

export interface MetricKey {
  key: string;
  base: string;
  metric: string;
  /** one instance of a matrix stage */
  instance: boolean;
  /** an aggregate over a matrix stage's instances */
  group: boolean;
}

/** Splits `stage[k=v].metric.sub` into the stage id and the metric name. */
export function splitKey(key: string): { stage: string; metric: string } {
  let depth = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === '.' && depth === 0) return { stage: key.slice(0, i), metric: key.slice(i + 1) };
  }
  return { stage: key, metric: '' };
}

export const baseOf = (stage: string) => stage.replace(/\[.*$/, '');

/**
 * Every metric of a run by key: plain stages, matrix instances, and their group aggregates
 * (mean ± sample std over instances; numbers only). `groupBy`: matrix keys that define the
 * groups (default: one group per matrix stage). `extra` adds per-stage values (curve summaries).
 */
export function runMetrics(rec: RunRecord, groupBy: string[] = [], extra?: Record<string, Record<string, FlatValue>>): Map<string, MetricValue & MetricKey> {
  const out = new Map<string, MetricValue & MetricKey>();
  const metrics: RunRecord['metrics'] = { ...(rec.metrics ?? {}) };
  if (extra) for (const [id, m] of Object.entries(extra)) metrics[id] = { ...(metrics[id] ?? {}), ...m };
  const matrix = rec.matrix ?? {};
  for (const [id, ms] of Object.entries(metrics)) {
    const mx = matrix[id];
    for (const [metric, value] of Object.entries(ms)) {
      out.set(`${id}.${metric}`, { key: `${id}.${metric}`, base: mx ? mx.base : id, metric, instance: !!mx, group: false, value });
    }
  }
  for (const [gk, g] of matrixGroups(metrics, matrix, groupBy)) {
    out.set(gk, { key: gk, base: g.base, metric: g.metric, instance: false, group: true, value: g.mean, std: g.std, n: g.n });
  }
  return out;
}

/** Short labels for top-level (non-instance) keys: the metric name when unambiguous. */
export function metricLabels(keys: MetricKey[]): Map<string, string> {
  const byName = new Map<string, number>();
  for (const k of keys) if (!k.instance) byName.set(k.metric, (byName.get(k.metric) ?? 0) + 1);
  return new Map(keys.map((k) => [k.key, !k.instance && byName.get(k.metric) === 1 ? k.metric : k.key]));
}

/** The goal of a metric key: declared for the key, for `base.metric`, or for the metric name (curve summaries `col.best` / `col.last` inherit the goal declared for the curve column `col`). */
export function goalOf(goals: Record<string, MetricGoal>, k: { key: string; base: string; metric: string }): MetricGoal | undefined {
  const direct = goals[k.key] ?? goals[`${k.base}.${k.metric}`] ?? goals[k.metric];
  if (direct) return direct;
  const m = /^(.*)\.(best|last)$/.exec(k.metric);
  if (m) return goals[`${k.base}.${m[1]}`] ?? goals[m[1]!];
  return undefined;
}

/** Goals of a set of runs: the newest run's declaration wins, older ones fill in. */
export function mergedGoals(runs: RunView[]): Record<string, MetricGoal> {
  const g: Record<string, MetricGoal> = {};
  for (const r of runs) Object.assign(g, r.record?.goals ?? {});
  const last = runs[runs.length - 1]?.record?.goals;
  return last ? { ...g, ...last } : g;
}

// ------------------------------------------------------------- formatting

export { fmtNum };

export function fmtValue(v: FlatValue | undefined, m?: { std?: number; n?: number }): string {
  if (v === undefined) return '—';
  if (v === null) return 'null';
  if (typeof v === 'number') return m?.std !== undefined ? `${fmtNum(v)} ± ${fmtNum(m.std)}` : fmtNum(v);
  return String(v);
}

export function fmtTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function sameValue(a: FlatValue | undefined, b: FlatValue | undefined, tol: { atol: number; rtol: number } = { atol: 0, rtol: 0 }): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) && Number.isNaN(b)) return true;
    return a === b || Math.abs(b - a) <= tol.atol + tol.rtol * Math.abs(a);
  }
  return a === b;
}

/** Simple glob (`*` any run of characters) for --keep / --drop. */
export function globRe(pat: string): RegExp {
  return new RegExp(`^${pat.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

export type { StageEntry };
