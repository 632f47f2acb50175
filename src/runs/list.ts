/**
 * `pipe runs`: one row per run of a pipeline — run id, name, time, overrides, then the params
 * (`p:`) and the chosen metrics (`m:`: those with a goal in the YAML, else all) — keeping only
 * the columns whose values differ between the listed runs unless `all`.
 */
import { didYouMean, PipeError } from '../engine/errors.js';
import { REPLICATE_KEYS, type FlatValue, type MetricGoal } from './record.js';
import { fmtTime, fmtValue, globRe, goalOf, groupedMetricsOf, mergedGoals, metricLabels, runMetrics, sameValue, topMetricsOf, usesGrouped, type MetricKey, type RunView } from './model.js';

export interface Column {
  id: string;
  kind: 'meta' | 'param' | 'metric';
  /** typed values per run (undefined: the run has no value) */
  values: (FlatValue | undefined)[];
  text: string[];
  goal?: MetricGoal;
  /** shown by default even when constant */
  always?: boolean;
}

/** Matrix keys that index repetitions of one configuration: pooled (mean ± std) by default. */
export { REPLICATE_KEYS };

/**
 * The default grouping of `pipe runs`: every matrix key of the pipeline's instances but the
 * replicate keys (fold, seed, rep, …), so a metric is never pooled over the configurations the
 * matrix compares (e.g. the three activations), only over the repetitions of each.
 */
export function defaultGroupBy(runs: RunView[]): string[] {
  const keys = new Set<string>();
  for (const r of runs) {
    // (a record's own default grouping, when it has one: its matrix is then not loaded)
    if (r.record?.grouped) for (const k of r.record.grouped.by) keys.add(k);
    for (const m of Object.values(r.record?.matrix ?? {})) for (const k of Object.keys(m.values)) keys.add(k);
  }
  return [...keys].filter((k) => !REPLICATE_KEYS.test(k)).sort();
}

/**
 * Folds each run that repeated the previous one — same pipeline file, params and overrides,
 * nothing ran, the same top-level results, unnamed — into it (`repeats`), so five no-op reruns
 * are one row '×6'.
 */
export function collapseRepeats(runs: RunView[]): RunView[] {
  const out: RunView[] = [];
  // means over instances are summed in completion order: equal to 12 significant digits is equal
  const round = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Number(v.toPrecision(12)) : v);
  const top = (r: RunView) => Object.entries(r.record!.top ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, t]) => [k, round(t.v), round(t.s), t.n]);
  const sig = (r: RunView) => (r.record ? JSON.stringify([r.record.fileHash, r.record.params, r.overrides, top(r), r.state]) : null);
  for (const r of runs) {
    const prev = out[out.length - 1];
    const c = r.record?.counts;
    if (prev && !r.name && !r.note && c && c.ran === 0 && !c.failed && !c.interrupted && r.state === 'done' && sig(r) !== null && sig(r) === sig(prev)) {
      prev.repeats = [...(prev.repeats ?? []), r.id];
      continue;
    }
    out.push({ ...r, repeats: undefined });
  }
  return out;
}

export interface ListOptions {
  all?: boolean;
  keep?: string[];
  drop?: string[];
  sortBy?: string;
  sortOrder?: 'asc' | 'desc';
  limit?: number;
  groupBy?: string[];
  /** matrix stages over all their instances (the run record's own top-level means) */
  pool?: boolean;
}

export function buildColumns(runs: RunView[], groupBy: string[] = [], pool = false): { columns: Column[]; chosen: Set<string> } {
  const goals = mergedGoals(runs);
  const cols: Column[] = [];
  const meta = (id: string, values: (FlatValue | undefined)[], text: string[], always = false) => cols.push({ id, kind: 'meta', values, text, always });
  meta('run', runs.map((r) => r.id), runs.map((r) => `#${r.id}${r.repeats?.length ? ` ×${r.repeats.length + 1}` : ''}`), true);
  meta('repeats', runs.map((r) => (r.repeats?.length ? r.repeats.join(',') : undefined)), runs.map((r) => (r.repeats?.length ? r.repeats.map((x) => `#${x}`).join(' ') : '')));
  meta('note', runs.map((r) => r.note ?? undefined), runs.map((r) => r.note ?? ''));
  meta('name', runs.map((r) => r.name ?? undefined), runs.map((r) => r.name ?? ''));
  meta('time', runs.map((r) => r.started), runs.map((r) => fmtTime(r.started)), true);
  meta('overrides', runs.map((r) => (r.overrides.length ? r.overrides.join(' ') : undefined)), runs.map((r) => r.overrides.join(' ')));
  meta('state', runs.map((r) => r.state), runs.map((r) => r.state));
  const git = runs.map((r) => (r.record?.git ? `${r.record.git.commit.slice(0, 8)}${r.record.git.dirty ? '+dirty' : ''}` : undefined));
  meta('git', git, git.map((g) => g ?? ''));
  const dur = runs.map((r) => r.record?.durationMs ?? (r.ended ? r.ended - r.started : undefined));
  meta('duration', dur, dur.map((d) => (d === undefined ? '' : `${(d / 1000).toFixed(1)}s`)));
  const counts = runs.map((r) => (r.record ? `${r.record.counts.ran}/${r.record.counts.cached}` : undefined));
  meta('ran/cached', counts, counts.map((c) => c ?? ''));

  const paramKeys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.record?.params ?? {})) paramKeys.add(k);
  for (const k of [...paramKeys].sort()) {
    const values = runs.map((r) => (r.record ? r.record.params[k] : undefined));
    cols.push({ id: `p:${k}`, kind: 'param', values, text: values.map((v) => fmtValue(v)) });
  }

  const perRun = runs.map((r) => (!r.record ? new Map() : !pool && usesGrouped(r, groupBy) ? groupedMetricsOf(r.record) : !pool && r.record.matrix ? runMetrics(r.record, groupBy) : topMetricsOf(r.record)));
  const keys = new Map<string, MetricKey>();
  for (const m of perRun) for (const [k, v] of m) if (!v.instance && !keys.has(k)) keys.set(k, v);
  const labels = metricLabels([...keys.values()]);
  const declared = Object.keys(goals).length > 0;
  const chosen = new Set<string>();
  for (const k of [...keys.keys()].sort()) {
    const key = keys.get(k)!;
    const values = perRun.map((m) => m.get(k)?.value);
    const goal = goalOf(goals, key);
    const id = `m:${labels.get(k)}`;
    cols.push({ id, kind: 'metric', values, text: values.map((v) => fmtValue(v)), goal });
    if (!declared || goal) chosen.add(id);
  }
  return { columns: cols, chosen };
}

const DEFAULT_META = new Set(['run', 'repeats', 'name', 'time', 'overrides', 'state', 'git', 'note']);

function matchColumns(pattern: string, columns: Column[]): Column[] {
  const re = globRe(pattern);
  // a bare name matches p:name / m:name too
  return columns.filter((c) => re.test(c.id) || (!/^[pm]:/.test(pattern) && re.test(c.id.replace(/^[pm]:/, ''))));
}

function unknownColumn(what: string, pattern: string, columns: Column[]): PipeError {
  return new PipeError(`${what} '${pattern}': no such column${didYouMean(pattern, columns.map((c) => c.id))} (columns: ${columns.map((c) => c.id).join(', ')})`);
}

/** Picks and orders the runs and columns of the listing. */
export function listRuns(runs0: RunView[], o: ListOptions): { runs: RunView[]; columns: Column[] } {
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) throw new PipeError(`--limit must be a positive integer`);
  let runs = o.limit ? runs0.slice(-o.limit) : runs0;
  const { columns: all, chosen } = buildColumns(runs, o.groupBy, o.pool);
  const changed = (c: Column) => c.values.some((v) => !sameValue(v, c.values[0]));
  const keep = new Set<Column>();
  for (const p of o.keep ?? []) {
    const m = matchColumns(p, all);
    if (!m.length) throw unknownColumn('--keep', p, all);
    for (const c of m) keep.add(c);
  }
  const drop = new Set<Column>();
  for (const p of o.drop ?? []) {
    const m = matchColumns(p, all);
    if (!m.length) throw unknownColumn('--drop', p, all);
    for (const c of m) drop.add(c);
  }
  let cols = all.filter((c) => {
    if (drop.has(c)) return false;
    if (keep.has(c) || o.all) return true;
    if (c.kind === 'meta') return DEFAULT_META.has(c.id) && (c.always || (c.id === 'state' ? c.values.some((v) => v !== 'done') : c.values.some((v) => v !== undefined && v !== '') && (c.id === 'git' ? changed(c) : true)));
    if (c.kind === 'metric' && !chosen.has(c.id)) return false;
    return changed(c);
  });
  if (o.sortBy) {
    const m = matchColumns(o.sortBy, all);
    if (!m.length) throw unknownColumn('--sort-by', o.sortBy, all);
    if (m.length > 1) throw new PipeError(`--sort-by '${o.sortBy}' matches several columns (${m.map((c) => c.id).join(', ')}); name one`);
    const c = m[0]!;
    const dir = o.sortOrder === 'desc' ? -1 : 1;
    const idx = runs.map((_, i) => i).sort((a, b) => {
      const x = c.values[a];
      const y = c.values[b];
      if (x === undefined || x === null) return y === undefined || y === null ? a - b : 1;
      if (y === undefined || y === null) return -1;
      const d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return d ? d * dir : a - b;
    });
    runs = idx.map((i) => runs[i]!);
    cols = cols.map((col) => ({ ...col, values: idx.map((i) => col.values[i]), text: idx.map((i) => col.text[i]!) }));
    if (!cols.includes(c) && !cols.some((x) => x.id === c.id)) cols.push({ ...c, values: idx.map((i) => c.values[i]), text: idx.map((i) => c.text[i]!) });
  }
  return { runs, columns: cols };
}
