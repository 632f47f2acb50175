/**
 * What a `pipe run` records about itself, for `pipe runs`, `pipe diff` and `pipe report --compare`
 * (src/lib/runs/). Three JSON documents on the run's row (db.saveRunRecord):
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
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYamlValue } from 'yaml';
import { canonicalJson, sha256 } from './hash.js';
import type { StaleReason } from './reasons.js';

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

/** Mean and sample standard deviation. */
export function meanStd(xs: number[]): { mean: number; std: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}

/** The top-level metrics: plain stages as they are, matrix stages as mean ± std over their instances. */
export function topMetrics(metrics: RunRecord['metrics'], matrix: RunRecord['matrix']): Record<string, TopMetric> {
  const top: Record<string, TopMetric> = {};
  const groups = new Map<string, number[]>();
  for (const [id, ms] of Object.entries(metrics)) {
    const mx = matrix[id];
    for (const [m, v] of Object.entries(ms)) {
      if (!mx) top[`${id}.${m}`] = { v };
      else if (typeof v === 'number' && Number.isFinite(v)) {
        const k = `${mx.base}.${m}`;
        const l = groups.get(k) ?? [];
        l.push(v);
        groups.set(k, l);
      }
    }
  }
  for (const [k, xs] of groups) {
    const { mean, std } = meanStd(xs);
    top[k] = { v: mean, s: std, n: xs.length };
  }
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
    execFile('git', ['status', '--porcelain=v2', '--branch', '--untracked-files=no'], { cwd: root, timeout: 5000, maxBuffer: 16 << 20 }, (err, stdout) => {
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

function insideGitTree(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return true;
    if (dirname(d) === d) return false;
  }
}

/** Collects the per-stage facts during a run (the runner calls `stage` once per stage). */
export class RunRecorder {
  readonly stages: Record<string, StageEntry> = {};
  readonly metrics: Record<string, Record<string, FlatValue>> = {};
  private readonly git: Promise<GitInfo | undefined>;

  constructor(root: string) {
    this.git = gitInfo(root);
  }

  stage(id: string, entry: StageEntry, metrics: unknown): void {
    this.stages[id] = entry;
    if (metrics !== undefined && metrics !== null) {
      const m = flattenMetrics(typeof metrics === 'string' ? safeParse(metrics) : metrics);
      if (Object.keys(m).length) this.metrics[id] = m;
    }
  }

  async finish(info: {
    name?: string; file: string; fileText: string; params: Record<string, unknown>; overrides: string[];
    goals: Record<string, MetricGoal>; matrix: RunRecord['matrix']; counts: RunRecord['counts']; durationMs: number;
  }): Promise<{ record: RunRecord; stages: Record<string, StageEntry> }> {
    const params = flatten(info.params);
    // stage-level overrides (stages.<id>.params.<p>=v) are params of this run too
    for (const o of info.overrides) {
      const eq = o.indexOf('=');
      const path = o.slice(0, eq).replace(/^\+/, '');
      if (eq > 0 && path.startsWith('stages.')) params[path] = parseScalar(o.slice(eq + 1));
    }
    const record: RunRecord = {
      v: 1,
      ...(info.name ? { name: info.name } : {}),
      file: info.file,
      fileHash: sha256(info.fileText),
      params,
      overrides: info.overrides,
      ...(await this.git.then((git) => (git ? { git } : {}))),
      goals: info.goals,
      top: topMetrics(this.metrics, info.matrix),
      metrics: this.metrics,
      matrix: info.matrix,
      counts: info.counts,
      durationMs: info.durationMs,
    };
    return { record, stages: this.stages };
  }
}

function safeParse(s: string): unknown {
  try { return JSON.parse(s); } catch { return null; }
}

/** A `--set` value as the engine reads it (a YAML value), for the record. */
function parseScalar(s: string): FlatValue {
  let v: unknown;
  try { v = parseYamlValue(s); } catch { v = s; }
  return v === undefined ? null : v !== null && typeof v === 'object' ? canonicalJson(v) : (v as FlatValue);
}

/** Run names: a letter or digit first, then letters, digits, `_ . + -`; not a bare number (that is a run id). */
export const RUN_NAME = /^(?!\d+$)[A-Za-z0-9][A-Za-z0-9_.+-]*$/;
