/**
 * `split`: one train/val/test split of a table — a holdout split, or ONE fold of a (stratified)
 * k-fold cross-validation. Under a matrix (`fold: {range: 10}`) every instance recomputes the
 * same seeded assignment and takes its own fold, so the folds are disjoint and cover the table.
 *
 *   split:
 *     kind: split
 *     matrix: { fold: { range: 10 } }
 *     inputs: { table: adult.table }
 *     params: { method: stratified-kfold, k: 10, fold: ${matrix.fold}, seed: 1192, drop_missing: true }
 *
 * Protocols (A.6 of the seed systems):
 *  - `clean` (default): test = the fold; val = a (stratified) `val_fraction` of the training
 *    folds, for early stopping; fit scalers/encoders downstream on `train` only.
 *  - `seed-parity`: val = the test fold (the seed's early stopping on the test fold). LEAKY:
 *    reported test metrics are optimistically biased. The output tables carry meta
 *    `protocol: seed-parity`, so encode/standardize (fit_on: auto) fit on all rows, as the seed.
 *
 * Every output row carries `_row`, its index in the input table (downstream stages pass it
 * through; `fit_on: all` uses it to count a row once).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';
import { withTableLimits } from '../sdk/limits.js';

const splitParamsSchema = {
  type: 'object',
  properties: {
    method: { enum: ['holdout', 'kfold', 'stratified-kfold', 'permutation'], default: 'stratified-kfold', description: "stratified-kfold falls back to kfold for a regression target (as the seed); permutation: the Hebbian seed's rule — one seeded permutation, train = first ⌊(1 − val − test)·n⌋ rows, val = next ⌊val·n⌋, test = the rest (no stratification)" },
    k: { type: 'integer', minimum: 2, default: 10 },
    fold: { type: 'integer', minimum: 0, default: 0, description: 'which fold is the test part (0 … k-1)' },
    shuffle: { type: 'boolean', default: true },
    seed: { type: 'integer', description: 'seed of the assignment (default: the stage seed)' },
    test_fraction: { type: 'number', minimum: 0, maximum: 1, default: 0.1, description: 'holdout: fraction of rows in test' },
    val_fraction: { type: 'number', minimum: 0, maximum: 1, default: 0.1, description: 'holdout: fraction of all rows in val; k-fold: fraction of the training folds moved to val (clean protocol)' },
    stratify: { type: 'boolean', default: true, description: 'stratify holdout and inner validation draws by class (classification only)' },
    protocol: { enum: ['clean', 'seed-parity'], default: 'clean', description: 'seed-parity: val = the test fold (leaky, for parity with the seed)' },
    drop_missing: { type: 'boolean', default: false, description: 'drop rows with a missing feature or target before splitting' },
  },
  additionalProperties: false,
} as const;

/** The params after defaults, derived from the schema (so the two cannot disagree). */
export type SplitParams = FromSchema<typeof splitParamsSchema>;

export default defineStage<SplitParams>(withTableLimits({
  kind: 'split',
  version: '2',
  description: 'Train/val/test split: holdout or one fold of (stratified) k-fold CV, seeded, with an inner validation split',
  paramsSchema: splitParamsSchema,
  inputs: { table: { type: 'table', description: 'the table to split' } },
  outputs: {
    train: { type: 'table' },
    val: { type: 'table', description: 'inner validation part (0 rows if val_fraction is 0)' },
    test: { type: 'table' },
    info: { type: 'json', description: 'sizes, class counts and row-set hashes' },
  },
  async run(ctx) {
    const p = ctx.params;
    const { createHash } = await import('node:crypto');
    const { Rng } = await import('../sdk/rng.js');
    const T = await import('../sdk/table.js');
    const S = await import('../lib/splits.js');
    const input = await T.readTable(ctx.input('table').path);
    const meta = T.tableMeta(input);
    const features = T.featureNames(input);
    let table = T.withMeta(input, { features, protocol: p.protocol });
    if (!table.getChild(T.ROW_COLUMN)) table = T.withColumn(table, T.ROW_COLUMN, T.numericVector('int32', S.iota(table.numRows)));
    const seed = p.seed ?? ctx.seed;
    const rng = new Rng(seed);
    const classification = meta.task === 'classification' && !!meta.target;
    let labels: Int32Array | null = null;
    if (classification) labels = T.intColumn(table, meta.target!, -1);
    // rows taking part
    const rows: Int32Array = p.drop_missing ? T.completeRows(table, [...features, ...(meta.target ? [meta.target] : [])]) : S.iota(table.numRows);
    if (!p.drop_missing && labels && labels.includes(-1)) throw new Error(`target column '${meta.target}' has missing values; set drop_missing: true`);
    const n = rows.length;
    const sub = (a: Int32Array | null) => {
      if (!a) return null;
      const out = new Int32Array(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = a[rows[i]!]!;
      return out;
    };
    const strat = p.stratify && classification;
    let train: Int32Array, val: Int32Array, test: Int32Array;
    let method: string = p.method;
    if (p.method === 'permutation') {
      // §E.1: perm = rng.permutation(n); n_train = int(0.7 n), n_val = int(0.15 n), test = the rest
      const perm = p.shuffle ? rng.fork('permutation').permutation(n) : S.iota(n);
      const nTrain = Math.floor((1 - p.val_fraction - p.test_fraction) * n + 1e-9);
      const nVal = Math.floor(p.val_fraction * n + 1e-9);
      if (nTrain < 0) throw new Error(`val_fraction + test_fraction = ${p.val_fraction + p.test_fraction} leaves no training rows`);
      const pick = (a: number, b: number) => {
        const out = new Int32Array(b - a);
        for (let i = a; i < b; i++) out[i - a] = rows[perm[i]!]!;
        return out.sort();
      };
      train = pick(0, nTrain);
      val = pick(nTrain, nTrain + nVal);
      test = pick(nTrain + nVal, n);
      if (p.protocol === 'seed-parity') val = test;
    } else if (p.method === 'holdout') {
      const nTest = S.fractionCount(p.test_fraction, n);
      const a = S.holdOut(rows, nTest, strat ? labels : null, p.shuffle ? rng.fork('test') : null);
      test = a.held;
      if (p.protocol === 'seed-parity') { train = a.kept; val = test; }
      else {
        const nVal = S.fractionCount(p.test_fraction < 1 ? p.val_fraction / (1 - p.test_fraction) : 0, a.kept.length);
        const b = S.holdOut(a.kept, nVal, strat ? labels : null, p.shuffle ? rng.fork('val') : null);
        train = b.kept; val = b.held;
      }
    } else {
      if (p.fold >= p.k) throw new Error(`fold ${p.fold} is out of range for k = ${p.k} (folds 0 … ${p.k - 1})`);
      let stratified = p.method === 'stratified-kfold';
      if (stratified && !classification) {
        ctx.log.warn(`stratified-kfold on a ${meta.task ?? 'non-classification'} table: using plain kfold (as the seed does for regression)`);
        stratified = false;
        method = 'kfold';
      }
      const foldOf = stratified ? S.stratifiedKfoldAssign(sub(labels)!, p.k, p.shuffle ? rng : null) : S.kfoldAssign(n, p.k, p.shuffle ? rng : null);
      let nIn = 0;
      for (let i = 0; i < n; i++) if (foldOf[i] === p.fold) nIn++;
      const inFold = new Int32Array(nIn), outFold = new Int32Array(n - nIn);
      for (let i = 0, a = 0, b = 0; i < n; i++) if (foldOf[i] === p.fold) inFold[a++] = rows[i]!; else outFold[b++] = rows[i]!;
      test = inFold;
      if (p.protocol === 'seed-parity') { train = outFold; val = test; }
      else {
        const nVal = S.fractionCount(p.val_fraction, outFold.length);
        const b = S.holdOut(outFold, nVal, strat ? labels : null, p.shuffle ? rng.fork(`inner-val-${p.fold}`) : null);
        train = b.kept; val = b.held;
      }
    }
    if (p.protocol === 'seed-parity') ctx.log.warn('protocol seed-parity: val is the test fold (early stopping on test data) — leaky, test metrics are optimistic');
    const parts = { train, val, test };
    const info: Record<string, unknown> = {
      method, k: p.method === 'holdout' || p.method === 'permutation' ? null : p.k, fold: p.method === 'holdout' || p.method === 'permutation' ? null : p.fold, seed, shuffle: p.shuffle,
      stratified: method === 'stratified-kfold' || (p.method === 'holdout' && strat), protocol: p.protocol, leaky: p.protocol === 'seed-parity',
      rows_in: table.numRows, rows_used: n, dropped_missing: table.numRows - n, sizes: {}, class_counts: {}, rows_sha256: {},
    };
    for (const [name, idx] of Object.entries(parts)) {
      await T.writeTable(ctx.output(name).path, T.takeRows(table, idx));
      (info.sizes as Record<string, number>)[name] = idx.length;
      (info.rows_sha256 as Record<string, string>)[name] = createHash('sha256').update(new Uint8Array(Int32Array.from(idx).sort().buffer)).digest('hex');
      if (labels) {
        const c = new Array(meta.classes?.length ?? labels.reduce((a, b) => Math.max(a, b), 0) + 1).fill(0) as number[];
        for (let i = 0; i < idx.length; i++) c[labels[idx[i]!]!]!++;
        (info.class_counts as Record<string, number[]>)[name] = c;
      }
    }
    await ctx.output('info').writeJSON(info);
    return { metrics: { train_rows: train.length, val_rows: val.length, test_rows: test.length } };
  },
}));
