/**
 * `pipe diff`: two or more runs side by side. One row per param or metric that differs (all
 * with `all`) with the value in every run, Δ and %Δ of each later run against the first, and
 * whether that is better or worse by the metric's goal; matrix stages per instance and per
 * group (mean ± std); per-epoch curves summarised as best (and its epoch) and last; and, per
 * later run, the stages whose fingerprint differs from the first run's and why (the
 * fingerprints' difference, the same reasons `pipe status` gives).
 */
import { existsSync } from 'node:fs';
import type { RunStore } from './store.js';
import { explainChange, type FingerprintData } from '../engine/cache/fingerprint.js';
import type { StaleReason } from '../engine/cache/reasons.js';
import { groupIdOf, type FlatValue, type MetricGoal, type StageEntry } from './record.js';
import { adjustP, pairedStats } from '../lib/stats.js';
import { baseOf, goalOf, mergedGoals, metricLabels, runMetrics, sameValue, type MetricKey, type RunView } from './model.js';

export interface DiffRow {
  /** `p:<param>` or `m:<label>` */
  id: string;
  kind: 'param' | 'metric';
  /** the metric key (stage.metric), or the param path */
  key: string;
  base?: string;
  metric?: string;
  instance: boolean;
  group: boolean;
  goal?: MetricGoal;
  values: (FlatValue | undefined)[];
  std: (number | undefined)[];
  n: (number | undefined)[];
  /** per run (index 0: undefined): value − first run's value */
  delta: (number | undefined)[];
  /** per run: Δ / |first| × 100 */
  pct: (number | undefined)[];
  /** per run: better (true) / worse (false) by the goal beyond tolerance; null: no goal or no change */
  better: (boolean | null)[];
  /**
   * Group rows, per run (index 0: undefined): the instances of the group matched by id with the
   * first run's, their differences' mean with its 95% t interval, the paired t, Wilcoxon and exact
   * sign-flip p-values, and the t p-value Holm-adjusted over the group rows of the same metric.
   */
  paired?: (PairedCell | undefined)[];
  changed: boolean;
}

export interface PairedCell {
  n: number;
  mean: number;
  ci: [number, number] | null;
  p_t: number | null;
  p_wilcoxon: number | null;
  p_sign_flip: number | null;
  p_adj: number | null;
}

export interface StageDiff {
  stage: string;
  base: string;
  change: 'changed' | 'added' | 'removed';
  /** outcome in the later run */
  outcome?: StageEntry['o'];
  /** the run whose execution computed the later run's result */
  computedIn?: number;
  durationMs?: number;
  reasons: StaleReason[];
}

export interface DiffResult {
  runs: RunView[];
  goals: Record<string, MetricGoal>;
  rows: DiffRow[];
  stages: { from: number; to: number; differ: StageDiff[]; same: number }[];
  curvesMissing: string[];
  /** the curves tables read (for the compare page) */
  curves: CurveTable[];
}

export interface DiffOptions {
  atol?: number;
  rtol?: number;
  groupBy?: string[];
  /** summarise per-epoch curves (reads the curves tables) */
  curves?: boolean;
}

export interface CurveTable {
  run: number;
  stage: string;
  x: string;
  columns: Record<string, number[]>;
}

const X_COLUMNS = ['epoch', 'step', 'iteration', 'iter'];

/** Reads a curves table artifact: numeric columns as arrays, and which column is the x axis. */
export async function readCurves(path: string): Promise<{ x: string; columns: Record<string, number[]> }> {
  const { readTable } = await import('../sdk/table.js');
  const t = await readTable(path);
  const columns: Record<string, number[]> = {};
  for (const f of t.schema.fields) {
    const v = t.getChild(f.name);
    if (!v) continue;
    const arr = v.toArray() as ArrayLike<unknown>;
    if (arr.length && typeof arr[0] !== 'number' && typeof arr[0] !== 'bigint') continue;
    columns[f.name] = Array.from(arr, (x) => Number(x));
  }
  const x = X_COLUMNS.find((c) => c in columns) ?? '';
  if (!x) {
    const n = Object.values(columns)[0]?.length ?? 0;
    columns.index = Array.from({ length: n }, (_, i) => i);
  }
  return { x: x || 'index', columns };
}

/** The curves tables of these runs (stage entries with a `curves` hash whose object is still in the store). */
export async function loadCurves(db: RunStore, objectPath: (hash: string) => string, runs: RunView[]): Promise<{ tables: CurveTable[]; missing: string[] }> {
  const tables: CurveTable[] = [];
  const missing: string[] = [];
  const seen = new Map<string, Promise<{ x: string; columns: Record<string, number[]> }>>();
  for (const r of runs) {
    const stages = parseStages(db.runStages(r.id));
    for (const [stage, e] of Object.entries(stages)) {
      if (!e.c) continue;
      const p = objectPath(e.c);
      if (!existsSync(p)) { missing.push(`#${r.id} ${stage}`); continue; }
      if (!seen.has(e.c)) seen.set(e.c, readCurves(p));
      const c = await seen.get(e.c)!;
      tables.push({ run: r.id, stage, x: c.x, columns: c.columns });
    }
  }
  return { tables, missing };
}

export function parseStages(json: string | null): Record<string, StageEntry> {
  if (!json) return {};
  try { return JSON.parse(json) as Record<string, StageEntry>; } catch { return {}; }
}

/** Curve summaries as pseudo-metrics: `<column>.best`, `<column>.best_<x>`, `<column>.last` for columns with a goal. */
function curveMetrics(tables: CurveTable[], run: number, goals: Record<string, MetricGoal>): Record<string, Record<string, FlatValue>> {
  const out: Record<string, Record<string, FlatValue>> = {};
  for (const t of tables) {
    if (t.run !== run) continue;
    const m: Record<string, FlatValue> = {};
    for (const [col, ys] of Object.entries(t.columns)) {
      if (col === t.x || !ys.length) continue;
      const goal = goalOf(goals, { key: `${t.stage}.${col}.best`, base: baseOf(t.stage), metric: `${col}.best` });
      if (!goal) continue;
      let bi = -1;
      ys.forEach((y, i) => { if (Number.isFinite(y) && (bi < 0 || (goal === 'max' ? y > ys[bi]! : y < ys[bi]!))) bi = i; });
      if (bi < 0) continue;
      m[`${col}.best`] = ys[bi]!;
      m[`${col}.best_${t.x}`] = t.columns[t.x]?.[bi] ?? bi;
      m[`${col}.last`] = ys[ys.length - 1]!;
    }
    if (Object.keys(m).length) out[t.stage] = m;
  }
  return out;
}

export async function diffRuns(db: RunStore, objectPath: (hash: string) => string, runs: RunView[], o: DiffOptions = {}): Promise<DiffResult> {
  const tol = { atol: o.atol ?? 0, rtol: o.rtol ?? 0 };
  const goals = mergedGoals(runs);
  let tables: CurveTable[] = [];
  let curvesMissing: string[] = [];
  if (o.curves !== false) ({ tables, missing: curvesMissing } = await loadCurves(db, objectPath, runs));
  const rows: DiffRow[] = [];
  const mkRow = (r: Omit<DiffRow, 'delta' | 'pct' | 'better' | 'changed'>): DiffRow => {
    const a = r.values[0];
    const delta = r.values.map((v, i) => (i > 0 && typeof a === 'number' && typeof v === 'number' ? v - a : undefined));
    const pct = delta.map((d) => (d !== undefined && typeof a === 'number' && a !== 0 ? (d / Math.abs(a)) * 100 : undefined));
    const better = r.values.map((v, i) => {
      if (i === 0 || !r.goal || sameValue(a, v, tol) || delta[i] === undefined) return null;
      return r.goal === 'max' ? delta[i]! > 0 : delta[i]! < 0;
    });
    const changed = r.values.some((v) => !sameValue(r.values[0], v, r.kind === 'metric' ? tol : undefined));
    return { ...r, delta, pct, better, changed };
  };
  // params
  const pkeys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.record!.params)) pkeys.add(k);
  for (const k of [...pkeys].sort()) {
    const values = runs.map((r) => r.record!.params[k]);
    rows.push(mkRow({ id: `p:${k}`, kind: 'param', key: k, instance: false, group: false, values, std: values.map(() => undefined), n: values.map(() => undefined) }));
  }
  // metrics (+ curve summaries)
  const per = runs.map((r) => runMetrics(r.record!, o.groupBy ?? [], curveMetrics(tables, r.id, goals)));
  const keys = new Map<string, MetricKey>();
  for (const m of per) for (const [k, v] of m) if (!keys.has(k)) keys.set(k, v);
  const labels = metricLabels([...keys.values()]);
  const order = [...keys.values()].sort((a, b) => Number(a.instance) - Number(b.instance) || a.key.localeCompare(b.key));
  for (const k of order) {
    const cells = per.map((m) => m.get(k.key));
    rows.push(mkRow({
      id: `m:${labels.get(k.key)}`, kind: 'metric', key: k.key, base: k.base, metric: k.metric, instance: k.instance, group: k.group,
      goal: goalOf(goals, k), values: cells.map((c) => c?.value), std: cells.map((c) => c?.std), n: cells.map((c) => c?.n),
    }));
  }
  pairGroups(rows, runs, o.groupBy ?? []);
  // stages
  const stageMaps = runs.map((r) => parseStages(db.runStages(r.id)));
  const stages: DiffResult['stages'] = [];
  for (let i = 1; i < runs.length; i++) stages.push(stageDiff(db, runs[0]!.id, runs[i]!.id, stageMaps[0]!, stageMaps[i]!));
  return { runs, goals, rows, stages, curvesMissing, curves: tables };
}

/**
 * Paired statistics of the group rows: a group's instances in a later run against the same
 * instances (same id) in the first run; Holm over the groups of one metric, per later run.
 */
function pairGroups(rows: DiffRow[], runs: RunView[], groupBy: string[]): void {
  const groupRows = rows.filter((r) => r.kind === 'metric' && r.group && r.metric);
  if (!groupRows.length) return;
  // per run: group id → instance id → metric values
  const inst = runs.map((r) => {
    const by = new Map<string, Map<string, Record<string, FlatValue>>>();
    const rec = r.record!;
    for (const [id, ms] of Object.entries(rec.metrics ?? {})) {
      const mx = rec.matrix?.[id];
      if (!mx) continue;
      const gid = groupIdOf(mx, groupBy);
      if (!by.has(gid)) by.set(gid, new Map());
      by.get(gid)!.set(id, ms);
    }
    return by;
  });
  for (const r of groupRows) {
    const gid = r.key.slice(0, r.key.length - r.metric!.length - 1);
    r.paired = runs.map((_, i) => {
      if (i === 0) return undefined;
      const a: number[] = [], b: number[] = [];
      for (const [id, ms] of inst[i]!.get(gid) ?? []) {
        const x = ms[r.metric!], y = inst[0]!.get(gid)?.get(id)?.[r.metric!];
        if (typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y)) { a.push(x); b.push(y); }
      }
      if (a.length < 2) return undefined;
      const st = pairedStats(a, b);
      return { n: st.n, mean: st.mean, ci: st.ci, p_t: st.p_t, p_wilcoxon: st.p_wilcoxon, p_sign_flip: st.p_sign_flip, p_adj: st.p_t };
    });
  }
  for (let i = 1; i < runs.length; i++) {
    for (const metric of new Set(groupRows.map((r) => r.metric!))) {
      const fam = groupRows.filter((r) => r.metric === metric && r.paired?.[i]);
      const adj = adjustP(fam.map((r) => r.paired![i]!.p_t), 'holm');
      fam.forEach((r, k) => { r.paired![i]!.p_adj = adj[k]!; });
    }
  }
}

function stageDiff(db: RunStore, fromId: number, toId: number, a: Record<string, StageEntry>, b: Record<string, StageEntry>): DiffResult['stages'][number] {
  const differ: StageDiff[] = [];
  let same = 0;
  const ids = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  const changedIds = ids.filter((id) => a[id]?.fp !== b[id]?.fp).sort((x, y) => x.localeCompare(y, undefined, { numeric: true }));
  same = ids.length - changedIds.length;
  // names of the artifacts the changed stages of the later run wrote (to name an input's producer)
  const producers = new Map<string, string>();
  for (const id of changedIds) {
    const e = b[id];
    if (e && (e.o === 'ran' || e.o === 'cached')) for (const out of db.outputs(e.e)) producers.set(out.hash, `${id}.${out.name}`);
  }
  const fps = db.fpData(changedIds.flatMap((id) => [a[id]?.e, b[id]?.e].filter((x): x is number => x !== undefined)));
  for (const id of changedIds) {
    const ea = a[id];
    const eb = b[id];
    if (!eb) { differ.push({ stage: id, base: baseOf(id), change: 'removed', reasons: [] }); continue; }
    const computedIn = eb.o === 'ran' || eb.o === 'failed' || eb.o === 'interrupted' ? toId : db.execution(eb.e)?.run_id;
    const d: StageDiff = { stage: id, base: baseOf(id), change: ea ? 'changed' : 'added', outcome: eb.o, computedIn, durationMs: eb.ms, reasons: [] };
    if (ea) {
      const before = parse(fps.get(ea.e));
      const now = parse(fps.get(eb.e));
      if (before && now) {
        const sources = Object.fromEntries(Object.entries(now.inputs ?? {}).map(([k, hs]) => [k, hs.map((h) => producers.get(h) ?? 'an upstream stage')]));
        d.reasons = explainChange(before, now, sources);
      }
    } else d.reasons = [{ code: 'never-run' }];
    differ.push(d);
  }
  return { from: fromId, to: toId, differ, same };
}

function parse(s: string | undefined): FingerprintData | null {
  if (!s) return null;
  try { return JSON.parse(s) as FingerprintData; } catch { return null; }
}
