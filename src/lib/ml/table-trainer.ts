/**
 * The stage kit of supervised table trainers (`train`, `xgboost`, and the next ones): what every
 * such kind does around its model, so the kinds stop copying it.
 *
 *  - `readSupervised(ctx)`   train / optional val / test tables → row-major datasets, task,
 *                            table metadata; targets required; feature columns checked against
 *                            train (an empty val counts as absent)
 *  - `holdOut`               seeded hold-out of a fraction of the training rows (stratified per
 *                            class via lib/splits `byClass`) when no val table is connected
 *  - `classCount`            number of classes: metadata, largest label + 1, at least 2
 *  - `unscaleUpstreamTarget` a regression target z-scored upstream (`target_scaler`) back in
 *                            target units; `fitTargetScale` for `standardize_target`
 *  - `predictionTable`       one row per test row: row, `_row` (if the test table has it),
 *                            y_true, y_pred, prob_<class>
 *  - `curvesTable` (kit/snapshots.ts), `prefixed` (test_<metric> for the stage's metrics)
 * Import it inside `run` (it loads apache-arrow); kind modules stay cheap to import.
 */
import type { StageContext } from '../../sdk/stage.js';
import { readTable, withMeta, featureMatrix, ROW_COLUMN, type FeatureMatrix, type Table, type TableMeta } from '../../sdk/table.js';
import { byClass } from '../splits.js';
import type { Rng } from '../../sdk/rng.js';
import { tableFromArrays } from 'apache-arrow';
import type { Dataset } from './trainer.js';

export { curvesTable, snapshotTable } from './kit/snapshots.js';

export type Task = 'classification' | 'regression';

export interface Supervised {
  train: Dataset;
  val: Dataset | null;
  test: Dataset;
  testTable: Table;
  featureNames: string[];
  meta: TableMeta;
  task: Task;
  /** With `rows: true`: the `_row` column of each part (when the table has one). */
  rows?: { train?: Int32Array; val?: Int32Array; test?: Int32Array };
}

function toDataset(fm: FeatureMatrix, name: string): Dataset {
  if (!fm.y) throw new Error(`${name} table has no target (schema metadata 'pipe'.target)`);
  return { X: fm.X, n: fm.n, d: fm.d, y: fm.y };
}

function sameFeatures(fm: FeatureMatrix, train: FeatureMatrix, name: string): void {
  if (fm.featureNames.join('\u0000') !== train.featureNames.join('\u0000')) throw new Error(`${name} table has different feature columns from train`);
}

/** Reads the `train`, `val` (when connected and `val` is not false) and `test` inputs. */
export async function readSupervised(ctx: Pick<StageContext<unknown>, 'input' | 'has'>, o: { val?: boolean; rows?: boolean } = {}): Promise<Supervised> {
  const trainTable = await readTable(ctx.input('train').path);
  const trainFm = featureMatrix(trainTable);
  const rows: NonNullable<Supervised['rows']> = {};
  const testTable = await readTable(ctx.input('test').path);
  if (o.rows) { rows.train = sourceRows(trainTable)[ROW_COLUMN]; rows.test = sourceRows(testTable)[ROW_COLUMN]; }
  const testFm = featureMatrix(testTable);
  sameFeatures(testFm, trainFm, 'test');
  let val: Dataset | null = null;
  if (o.val !== false && ctx.has('val')) {
    const valTable = await readTable(ctx.input('val').path);
    const valFm = featureMatrix(valTable);
    if (valFm.n > 0) {
      sameFeatures(valFm, trainFm, 'val');
      val = toDataset(valFm, 'val');
      if (o.rows) rows.val = sourceRows(valTable)[ROW_COLUMN];
    }
  }
  const meta = trainFm.meta;
  return { train: toDataset(trainFm, 'train'), val, test: toDataset(testFm, 'test'), testTable, featureNames: trainFm.featureNames, meta, task: meta.task ?? 'classification', ...(o.rows ? { rows } : {}) };
}

/** The `_row` column of a table (row index in the original dataset), if it has one. */
export function sourceRows(t: Table): Record<string, Int32Array> {
  const c = t.getChild(ROW_COLUMN);
  return c ? { [ROW_COLUMN]: Int32Array.from(c.toArray() as ArrayLike<number>, Number) } : {};
}

/** Rows `rows` (ascending) of a dataset. */
export function takeRows(ds: Dataset, rows: ArrayLike<number>): Dataset {
  const X = new Float32Array(rows.length * ds.d), y = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    X.set(ds.X.subarray(r * ds.d, (r + 1) * ds.d), i * ds.d);
    y[i] = ds.y[r]!;
  }
  return { X, n: rows.length, d: ds.d, y };
}

/** The rows of `a` followed by those of `b`. */
export function concatRows(a: Dataset, b: Dataset): Dataset {
  const X = new Float32Array((a.n + b.n) * a.d);
  X.set(a.X); X.set(b.X, a.n * a.d);
  const y = new Float64Array(a.n + b.n);
  y.set(a.y); y.set(b.y, a.n);
  return { X, n: a.n + b.n, d: a.d, y };
}

/**
 * Seeded hold-out of `frac` of the rows: per class (classification; ascending class order) the
 * class's rows are shuffled and the first round(size · frac) held out. Both parts keep the
 * original row order.
 */
export function holdOut(ds: Dataset, frac: number, classification: boolean, rng: Rng): { train: Dataset; val: Dataset } {
  const all = Int32Array.from({ length: ds.n }, (_, i) => i);
  const groups = classification ? [...byClass(all, ds.y).values()] : [Array.from(all)];
  const valIdx: number[] = [], trIdx: number[] = [];
  for (const idx of groups) {
    rng.shuffle(idx);
    const k = Math.round(idx.length * frac);
    for (let i = 0; i < idx.length; i++) (i < k ? valIdx : trIdx).push(idx[i]!);
  }
  const sorted = (r: number[]) => r.sort((a, b) => a - b);
  return { train: takeRows(ds, sorted(trIdx)), val: takeRows(ds, sorted(valIdx)) };
}

/** Number of classes of a classification task: max(metadata classes, largest label + 1, 2); labels must be class indices. */
export function classCount(meta: TableMeta, sets: Dataset[]): number {
  let maxY = 0;
  for (const ds of sets) for (const v of ds.y) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`classification target must hold class indices, found ${v}`);
    maxY = Math.max(maxY, v);
  }
  return Math.max(meta.classes?.length ?? 0, maxY + 1, 2);
}

/** A regression target the standardize stage z-scored (`target_scaler`): back to target units, in place. */
export function unscaleUpstreamTarget(s: Pick<Supervised, 'meta' | 'task'>, sets: Dataset[]): { mean: number; std: number } | undefined {
  const up = s.meta.target_scaler as { mean: number; std: number } | undefined;
  if (s.task !== 'regression' || !up) return undefined;
  for (const ds of sets) for (let i = 0; i < ds.n; i++) ds.y[i] = ds.y[i]! * up.std + up.mean;
  return { mean: up.mean, std: up.std };
}

/** Mean and population std of the training target (std 0 → 1). */
export function fitTargetScale(train: Dataset): { mean: number; std: number } {
  let m = 0;
  for (const v of train.y) m += v;
  m /= train.n;
  let s = 0;
  for (const v of train.y) s += (v - m) ** 2;
  return { mean: m, std: Math.sqrt(s / train.n) || 1 };
}

/** The predictions artifact: row, _row, y_true, y_pred (+ prob_<class> for n × C probabilities). */
export function predictionTable(s: Pick<Supervised, 'testTable' | 'test' | 'meta' | 'task'>, pred: Float64Array, probs?: { p: ArrayLike<number>; C: number }): Table {
  const n = s.test.n;
  const cols: Record<string, Int32Array | Float64Array> = {
    row: Int32Array.from({ length: n }, (_, i) => i),
    ...sourceRows(s.testTable),
    y_true: Float64Array.from(s.test.y),
    y_pred: pred,
  };
  if (probs) {
    const { p, C } = probs;
    const names = s.meta.classes ?? Array.from({ length: C }, (_, k) => String(k));
    for (let k = 0; k < C; k++) cols[`prob_${names[k] ?? k}`] = Float64Array.from({ length: n }, (_, i) => p[i * C + k]!);
  }
  return withMeta(tableFromArrays(cols), { task: s.task, classes: s.meta.classes, dataset: s.meta.dataset });
}

/** `{test_accuracy: …}` from `{accuracy: …}`. */
export function prefixed(prefix: string, m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [`${prefix}${k}`, v]));
}
