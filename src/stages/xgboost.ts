/**
 * `xgboost`: the XGBoost baseline of the ActMix seed (§A.7), with the real library (libxgboost,
 * Debian package `libxgboost0`, through its C API and the koffi FFI; see src/lib/ml/xgboost.ts).
 *
 *   xgb:
 *     kind: xgboost
 *     inputs: { train: std.train, val: std.val, test: std.test }
 *     params: { n_estimators: 500, learning_rate: 0.05, max_depth: 6 }
 *
 * Same tables and metrics as `train`. No early stopping (as in the seed), so under the clean
 * protocol the `val` rows are added to the training rows (`train_on_val: auto`), which makes the
 * booster see the same rows as the seed's XGBClassifier (all folds but the test fold). Under
 * `protocol: seed-parity` the val part *is* the test fold, so `auto` trains on the training
 * folds only (`true` is refused there), and in every case a val row that is also a test row
 * (same `_row`) is never added. Output `train_rows`: the `_row` of every training row.
 * Objective: binary:logistic (2 classes, eval_metric logloss), multi:softprob (> 2),
 * reg:squarederror (regression). tree_method defaults to `hist` (the default of xgboost ≥ 2
 * that the seed's Python package used).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';
import type { Supervised } from '../lib/ml/table-trainer.js';
import type { Dataset } from '../lib/ml/trainer.js';

export const xgbParamsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    n_estimators: { type: 'integer', minimum: 1, default: 500 },
    learning_rate: { type: 'number', exclusiveMinimum: 0, default: 0.05 },
    max_depth: { type: 'integer', minimum: 0, default: 6 },
    min_child_weight: { type: 'number', minimum: 0, default: 1 },
    subsample: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1 },
    colsample_bytree: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1 },
    reg_lambda: { type: 'number', minimum: 0, default: 1 },
    reg_alpha: { type: 'number', minimum: 0, default: 0 },
    gamma: { type: 'number', minimum: 0, default: 0 },
    tree_method: { enum: ['hist', 'approx', 'exact', 'auto'], default: 'hist' },
    nthread: { type: 'integer', minimum: 0, default: 0, description: '0 = all cores (n_jobs -1)' },
    train_on_val: {
      enum: ['auto', true, false], default: 'auto',
      description: 'add the val rows to the training rows (no early stopping); auto = yes, except under protocol seed-parity (val = the test fold: training folds only)',
    },
    base_score: {
      anyOf: [{ type: 'number' }, { const: 'auto' }], default: 'auto',
      description: "initial prediction; 'auto' = mean target (regression) / positive rate (binary), as xgboost >= 2 estimates it (1.x used 0.5)",
    },
    extra: { type: 'object', additionalProperties: { type: ['string', 'number'] }, default: {}, description: 'further XGBoost parameters, passed verbatim' },
  },
} as const;

/** The params after defaults, derived from the schema. */
export type XgbParams = FromSchema<typeof xgbParamsSchema>;

export default defineStage<XgbParams>({
  kind: 'xgboost',
  version: '2',
  description: 'XGBoost baseline through libxgboost (C API via koffi)',
  paramsSchema: xgbParamsSchema,
  inputs: {
    train: { type: 'table' },
    val: { type: 'table', optional: true },
    test: { type: 'table' },
  },
  outputs: {
    model: { type: 'file', ext: '.json', description: 'the booster in XGBoost JSON format' },
    predictions: { type: 'table', description: 'one row per test row: row, y_true, y_pred (+ prob_<class>)' },
    metrics: { type: 'json', description: 'test metrics (same keys as the train kind)' },
    train_rows: { type: 'table', description: 'the _row (index in the original dataset) of every row the booster was trained on' },
  },
  needs: () => ['libxgboost'],
  runtime: async () => {
    const { xgboostApi } = await import('../lib/ml/xgboost.js');
    return { xgboost: xgboostApi().version };
  },
  async run(ctx) {
    const p = ctx.params;
    const { xgboostApi, DMatrix, Booster } = await import('../lib/ml/xgboost.js');
    const { scoreProbabilities, regressionMetrics } = await import('../lib/ml/metrics.js');
    const kit = await import('../lib/ml/table-trainer.js');
    const { writeTable } = await import('../sdk/table.js');
    const { tableFromArrays } = await import('apache-arrow');
    const a = xgboostApi();

    const data = await kit.readSupervised(ctx, { rows: true });
    const { meta, task, test: te } = data;
    const leaky = meta.protocol === 'seed-parity';
    if (p.train_on_val === true && leaky) {
      throw new Error('train_on_val: true under protocol seed-parity would train on the test fold (its val part is the test fold); use auto or false');
    }
    const addVal = p.train_on_val === 'auto' ? !leaky : p.train_on_val;
    // no early stopping: the val rows join the training rows (as the seed's XGBClassifier saw
    // them) — never a row that is also in the test part
    const { train: tr, rows: trainRows } = xgbTrainingSet(data, addVal);
    if (leaky) ctx.log.info(`protocol seed-parity: training on the training folds only (${tr.n} rows; val = test fold not added)`);
    // a target z-scored upstream: XGBoost fits the target in its own units (as the seed)
    kit.unscaleUpstreamTarget(data, [tr, te]);
    const { X, y, n } = tr;
    const C = task === 'classification' ? kit.classCount(meta, [tr, te]) : 1;
    const objective = task === 'regression' ? 'reg:squarederror' : C === 2 ? 'binary:logistic' : 'multi:softprob';
    const params: Record<string, string | number> = {
      objective,
      ...(task === 'classification' ? { eval_metric: C === 2 ? 'logloss' : 'mlogloss' } : {}),
      ...(C > 2 ? { num_class: C } : {}),
      eta: p.learning_rate, max_depth: p.max_depth, min_child_weight: p.min_child_weight,
      subsample: p.subsample, colsample_bytree: p.colsample_bytree, lambda: p.reg_lambda, alpha: p.reg_alpha,
      gamma: p.gamma, tree_method: p.tree_method, seed: ctx.seed, verbosity: 1,
      ...(p.nthread > 0 ? { nthread: p.nthread } : {}),
      base_score: p.base_score !== 'auto' ? p.base_score : task === 'regression' || C === 2 ? y.reduce((a, v) => a + v, 0) / n : 0.5,
      ...p.extra,
    };
    ctx.log.info(`xgboost ${a.version} (${a.path}); ${n} training rows, ${tr.d} features; ${JSON.stringify(params)}`);

    const dtrain = new DMatrix(a, X, n, tr.d, Float32Array.from(y));
    const dtest = new DMatrix(a, te.X, te.n, te.d);
    const booster = new Booster(a, dtrain, params);
    const t0 = performance.now();
    try {
      for (let it = 0; it < p.n_estimators; it++) {
        if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
        booster.update(it, dtrain);
        if ((it + 1) % 25 === 0 || it + 1 === p.n_estimators) {
          ctx.progress({ done: it + 1, total: p.n_estimators, unit: 'tree' });
          await new Promise((r) => setImmediate(r));
        }
      }
      const raw = booster.predict(dtest);
      const seconds = (performance.now() - t0) / 1000;
      await ctx.output('model').writeBuffer(booster.saveJson());
      await writeTable(ctx.output('train_rows').path, tableFromArrays({ _row: trainRows }));

      let metrics: Record<string, number>;
      if (task === 'classification') {
        const probs = new Float64Array(te.n * C);
        if (C === 2) for (let i = 0; i < te.n; i++) { probs[2 * i] = 1 - raw[i]!; probs[2 * i + 1] = raw[i]!; }
        else probs.set(raw);
        const scored = scoreProbabilities(te.y, probs, C);
        metrics = scored.metrics;
        await writeTable(ctx.output('predictions').path, kit.predictionTable(data, scored.pred, { p: probs, C }));
      } else {
        const pred = Float64Array.from(raw);
        metrics = regressionMetrics(te.y, pred) as unknown as Record<string, number>;
        await writeTable(ctx.output('predictions').path, kit.predictionTable(data, pred));
      }
      await ctx.output('metrics').writeJSON({
        dataset: meta.dataset ?? null, task, model: 'xgboost', xgboost: a.version, params,
        test: metrics, n_train: n, n_test: te.n, n_features: tr.d, train_on_val: addVal, protocol: meta.protocol ?? null,
      });
      ctx.log.info(`test ${JSON.stringify(metrics)}; ${seconds.toFixed(1)} s`);
      return { metrics: { ...kit.prefixed('test_', metrics), train_seconds: seconds } };
    } finally {
      booster.free();
      dtrain.free();
      dtest.free();
    }
  },
});

/**
 * The booster's training rows: the train part, plus (when `addVal`) every val row whose `_row`
 * is not a test row. `rows` are their `_row` indices (−1 where a table has no `_row`).
 */
export function xgbTrainingSet(data: Supervised, addVal: boolean): { train: Dataset; rows: Int32Array } {
  const r = data.rows ?? {};
  const trRows = r.train ?? new Int32Array(data.train.n).fill(-1);
  if (!addVal || !data.val) return { train: data.train, rows: trRows };
  const vaRows = r.val ?? new Int32Array(data.val.n).fill(-1);
  const testSet = new Set(r.test ?? []);
  const keep: number[] = [];
  for (let i = 0; i < data.val.n; i++) if (vaRows[i]! < 0 || !testSet.has(vaRows[i]!)) keep.push(i);
  const val = keep.length === data.val.n ? data.val : takeRowsOf(data.val, keep);
  const X = new Float32Array((data.train.n + val.n) * data.train.d);
  X.set(data.train.X); X.set(val.X, data.train.n * data.train.d);
  const y = new Float64Array(data.train.n + val.n);
  y.set(data.train.y); y.set(val.y, data.train.n);
  const rows = new Int32Array(data.train.n + val.n);
  rows.set(trRows); rows.set(keep.map((i) => vaRows[i]!), data.train.n);
  return { train: { X, n: data.train.n + val.n, d: data.train.d, y }, rows };
}

function takeRowsOf(ds: Dataset, idx: number[]): Dataset {
  const X = new Float32Array(idx.length * ds.d), y = new Float64Array(idx.length);
  idx.forEach((r, i) => { X.set(ds.X.subarray(r * ds.d, (r + 1) * ds.d), i * ds.d); y[i] = ds.y[r]!; });
  return { X, n: idx.length, d: ds.d, y };
}
