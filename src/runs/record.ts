/**
 * What a `pipe run` records about itself, for `pipe runs`, `pipe diff` and `pipe report --compare`
 * (src/runs/). Three JSON documents on the run's row (db.saveRunRecord):
 *  - the *record* (small, read for every run by `pipe runs`): the pipeline file and its content
 *    hash, the resolved pipeline params flattened (`training.lr` → 0.01, JSON-typed), the `--set`
 *    overrides, git commit + dirty flag, the metric goals declared in the YAML, counts, duration
 *    and the top-level metrics (`top`: plain stages' final values, and per matrix stage the mean,
 *    std and n over its instances);
 *  - the *metrics* (read by `pipe diff` for the runs it compares): the final metrics of every
 *    stage instance (flattened, by instance id) and the matrix values of each instance;
 *  - the *stages* (read only by `pipe diff` for the runs it compares): per stage instance the
 *    outcome, the execution holding its result, a short fingerprint, the duration, why it ran
 *    (StaleReason[]) and the content hash of its per-epoch curves table when it writes one.
 * Built in memory during the run from what the runner already has — no extra queries.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { frontLibs } from '../lib/front-libs.js';
import { canonicalJson, sha256 } from '../lib/hash.js';
import type { StaleReason } from '../engine/cache/reasons.js';
import type { RunFinish, RunRecorder as EngineRecorder, StageRecord } from '../engine/exec/execute.js';
import { meanStd } from '../lib/stats.js';
import type { RunStore } from './store.js';

export type MetricGoal = 'max' | 'min';
export type FlatValue = number | string | boolean | null;

export interface GitInfo {
  commit: string;
  dirty: boolean;
  branch?: string;
}

export interface RunRecord {
  v: 1;
  name?: string;
  file: string;
  fileHash: string;
  params: Record<string, FlatValue>;
  overrides: string[];
  git?: GitInfo;
  goals: Record<string, MetricGoal>;
  /** `stage.metric` → value for plain stages; for matrix stages the mean (s: std, n: instances) */
  top: Record<string, TopMetric>;
  /**
   * The matrix groups of `pipe runs`' default grouping (every matrix key but the replicate keys,
   * `by`), computed when the run is recorded so that listing runs needs no per-instance metrics:
   * group key → base, metric, mean, std, n. Absent in records written before it existed.
   */
  grouped?: { by: string[]; g: Record<string, { b: string; m: string; v: number; s: number; n: number }> };
  /** stage instance id → flattened metric name → final value (stored in the `metrics` column) */
  metrics: Record<string, Record<string, FlatValue>>;
  /** stage instance id → base stage and matrix values, matrix instances only (in the `metrics` column) */
  matrix: Record<string, { base: string; values: Record<string, string | number | boolean> }>;
  counts: { ran: number; cached: number; failed: number; skipped: number; interrupted: number };
  durationMs: number;
}

export interface TopMetric {
  v: FlatValue;
  s?: number;
  n?: number;
}

/** Matrix keys that only repeat a configuration (pooled by `pipe runs`' default grouping). */
export const REPLICATE_KEYS = /^(folds?|seeds?|reps?|repeats?|repetitions?|replicates?|trials?|runs?|splits?|restarts?)$/i;

/** The default grouping's keys for a run's matrix: every key but the replicate keys, sorted. */
export function defaultKeysOf(matrix: RunRecord['matrix']): string[] {
  const keys = new Set<string>();
  for (const m of Object.values(matrix)) for (const k of Object.keys(m.values)) keys.add(k);
  return [...keys].filter((k) => !REPLICATE_KEYS.test(k)).sort();
}

function defaultGrouped(metrics: RunRecord['metrics'], matrix: RunRecord['matrix']): RunRecord['grouped'] {
  const by = defaultKeysOf(matrix);
  const g: NonNullable<RunRecord['grouped']>['g'] = {};
  for (const [k, x] of matrixGroups(metrics, matrix, by)) g[k] = { b: x.base, m: x.metric, v: x.mean, s: x.std, n: x.n };
  return { by, g };
}

/** A matrix group: the finite numeric values of one metric over the instances of one group. */
export interface MatrixGroup { base: string; metric: string; mean: number; std: number; n: number }

/** The group an instance belongs to: its base, with the values of the `groupBy` keys it has. */
export function groupIdOf(mx: { base: string; values: Record<string, unknown> }, groupBy: string[] = []): string {
  const keys = groupBy.filter((k) => k in mx.values);
  return keys.length ? `${mx.base}[${keys.map((k) => `${k}=${mx.values[k]}`).join(',')}]` : mx.base;
}

/**
 * The one aggregation of matrix instances: per base stage (and per value of the `groupBy` keys
 * the instance has) and metric, mean ± sample std over the instances' finite numbers. Keys read
 * `base.metric` or `base[k=v,…].metric`.
 */
export function matrixGroups(metrics: RunRecord['metrics'], matrix: RunRecord['matrix'], groupBy: string[] = []): Map<string, MatrixGroup> {
  const xs = new Map<string, { base: string; metric: string; xs: number[] }>();
  for (const [id, ms] of Object.entries(metrics)) {
    const mx = matrix[id];
    if (!mx) continue;
    for (const [metric, v] of Object.entries(ms)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const gid = groupIdOf(mx, groupBy);
      const gk = `${gid}.${metric}`;
      const g = xs.get(gk) ?? { base: mx.base, metric, xs: [] };
      g.xs.push(v);
      xs.set(gk, g);
    }
  }
  const out = new Map<string, MatrixGroup>();
  for (const [gk, g] of xs) out.set(gk, { base: g.base, metric: g.metric, ...meanStd(g.xs), n: g.xs.length });
  return out;
}

/** The top-level metrics: plain stages as they are, matrix stages as mean ± std over their instances. */
export function topMetrics(metrics: RunRecord['metrics'], matrix: RunRecord['matrix']): Record<string, TopMetric> {
  const top: Record<string, TopMetric> = {};
  for (const [id, ms] of Object.entries(metrics)) if (!matrix[id]) for (const [m, v] of Object.entries(ms)) top[`${id}.${m}`] = { v };
  for (const [k, g] of matrixGroups(metrics, matrix)) top[k] = { v: g.mean, s: g.std, n: g.n };
  return top;
}

/** The record as stored: (record JSON without the per-instance metrics, metrics JSON). */
export function serializeRecord(r: RunRecord): { record: string; metrics: string } {
  const { metrics, matrix, ...rest } = r;
  return { record: JSON.stringify(rest), metrics: JSON.stringify({ metrics, matrix }) };
}

export type StageOutcomeCode = 'ran' | 'cached' | 'failed' | 'interrupted';

export interface StageEntry {
  /** outcome in this run */
  o: StageOutcomeCode;
  /** the execution that holds the result (for cached stages: the one it was cached from) */
  e: number;
  /** first 16 hex of the fingerprint */
  fp: string;
  /** duration of the execution that computed the result (ms) */
  ms?: number;
  /** why it ran */
  r?: StaleReason[];
  /** content hash of the `curves` table output */
  c?: string;
  error?: string;
}

/** Flattens nested objects to dotted keys; arrays and other objects become canonical JSON strings. */
export function flatten(o: unknown, prefix = '', out: Record<string, FlatValue> = {}): Record<string, FlatValue> {
  if (o && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
      else if (Array.isArray(v)) out[key] = canonicalJson(v);
      else if (v === undefined) continue;
      else out[key] = v as FlatValue;
    }
  }
  return out;
}

/** Metrics keep numbers, booleans and strings; arrays (per-class lists etc.) are left out. */
export function flattenMetrics(o: unknown, prefix = '', out: Record<string, FlatValue> = {}): Record<string, FlatValue> {
  if (o && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) flattenMetrics(v, key, out);
      else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[key] = v;
    }
  }
  return out;
}

/**
 * Git commit and dirty flag of the work tree at `root` — one `git status --porcelain=v2 --branch`
 * call, started when the run starts and awaited when it ends, and only when a `.git` is found
 * at or above `root`; undefined outside a git work tree or without git.
 */
export function gitInfo(root: string): Promise<GitInfo | undefined> {
  // not in a git work tree: no process at all (a spawn costs ~10 ms of the coordinator's time)
  if (!insideGitTree(root)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    childProcess().execFile('git', ['status', '--porcelain=v2', '--branch', '--untracked-files=no'], { cwd: root, timeout: 5000, maxBuffer: 16 << 20 }, (err, stdout) => {
      if (err) { resolve(undefined); return; }
      let commit = '';
      let branch: string | undefined;
      let dirty = false;
      for (const line of stdout.split('\n')) {
        if (line.startsWith('# branch.oid ')) commit = line.slice(13).trim();
        else if (line.startsWith('# branch.head ')) branch = line.slice(14).trim();
        else if (line && !line.startsWith('#')) dirty = true;
      }
      resolve(commit && commit !== '(initial)' ? { commit, dirty, ...(branch && branch !== '(detached)' ? { branch } : {}) } : undefined);
    });
  });
}

// child_process is loaded by the first run inside a git work tree
const childProcess = () => createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');

function insideGitTree(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return true;
    if (dirname(d) === d) return false;
  }
}

/**
 * The recorder the engine reports to (its `RunRecorder` interface): collects the per-stage facts
 * during a run and, when the run ends, stores the run's record through a `RunStore`.
 */
export class RunRecorder implements EngineRecorder {
  readonly stages: Record<string, StageEntry> = {};
  readonly metrics: Record<string, Record<string, FlatValue>> = {};
  private readonly git: Promise<GitInfo | undefined>;

  constructor(root: string, private readonly store?: RunStore) {
    this.git = gitInfo(root);
  }

  stage(r: StageRecord): void {
    this.stages[r.id] = {
      o: r.outcome, e: r.execution, fp: r.fingerprint.slice(0, 16),
      ...(r.durationMs !== undefined ? { ms: r.durationMs } : {}),
      ...(r.reasons ? { r: r.reasons } : {}),
      ...(r.curves ? { c: r.curves } : {}),
      ...(r.error !== undefined ? { error: r.error } : {}),
    };
    if (r.metrics !== undefined && r.metrics !== null) {
      const m = flattenMetrics(typeof r.metrics === 'string' ? safeParse(r.metrics) : r.metrics);
      if (Object.keys(m).length) this.metrics[r.id] = m;
    }
  }

  /** The record of a finished run (without storing it). */
  async build(info: RunFinish): Promise<RunRecord> {
    const params = flatten(info.params);
    // stage-level overrides (stages.<id>.params.<p>=v) are params of this run too
    for (const o of info.overrides) {
      const eq = o.indexOf('=');
      const path = o.slice(0, eq).replace(/^\+/, '');
      if (eq > 0 && path.startsWith('stages.')) params[path] = parseScalar(o.slice(eq + 1));
    }
    const s = info.summary;
    return {
      v: 1,
      ...(info.name ? { name: info.name } : {}),
      file: info.file,
      fileHash: sha256(info.fileText),
      params,
      overrides: info.overrides,
      ...(await this.git.then((git) => (git ? { git } : {}))),
      goals: info.goals,
      top: topMetrics(this.metrics, info.matrix),
      grouped: defaultGrouped(this.metrics, info.matrix),
      metrics: this.metrics,
      matrix: info.matrix,
      counts: { ran: s.ran, cached: s.cached, failed: s.failed, skipped: s.skipped, interrupted: s.interrupted },
      durationMs: s.durationMs,
    };
  }

  async finish(info: RunFinish): Promise<void> {
    const record = await this.build(info);
    const doc = serializeRecord(record);
    this.store?.saveRunRecord(info.runId, info.name ?? null, doc.record, doc.metrics, JSON.stringify(this.stages));
  }
}

function safeParse(s: string): unknown {
  try { return JSON.parse(s); } catch { return null; }
}

/** A `--set` value as the engine reads it (a YAML value), for the record. */
function parseScalar(s: string): FlatValue {
  let v: unknown;
  try { v = frontLibs().parseYamlValue(s); } catch { v = s; }
  return v === undefined ? null : v !== null && typeof v === 'object' ? canonicalJson(v) : (v as FlatValue);
}

/** Run names: a letter or digit first, then letters, digits, `_ . + -`; not a bare number (that is a run id). */
export const RUN_NAME = /^(?!\d+$)[A-Za-z0-9][A-Za-z0-9_.+-]*$/;
