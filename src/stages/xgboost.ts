/**
 * `xgboost`: the XGBoost baseline of the ActMix seed (§A.7), with the real library (libxgboost,
 * Debian package `libxgboost0`, through its C API and the koffi FFI; see src/lib/ml/xgboost.ts).
 *
 *   xgb:
 *     kind: xgboost
 *     inputs: { train: std.train, val: std.val, test: std.test }
 *     params: { n_estimators: 500, learning_rate: 0.05, max_depth: 6 }
 *
 * Same tables and metrics as `train`. No early stopping (as in the seed), so by default the
 * `val` rows are added to the training rows (`train_on_val`), which makes the booster see the
 * same rows as the seed's XGBClassifier (all folds but the test fold).
 * Objective: binary:logistic (2 classes, eval_metric logloss), multi:softprob (> 2),
 * reg:squarederror (regression). tree_method defaults to `hist` (the default of xgboost ≥ 2
 * that the seed's Python package used).
 */
import { defineStage } from '../engine/stage.js';
import { readTable, writeTable, withMeta, featureMatrix, type FeatureMatrix } from '../lib/table.js';

export interface XgbParams {
  n_estimators: number;
  learning_rate: number;
  max_depth: number;
  min_child_weight: number;
  subsample: number;
  colsample_bytree: number;
  reg_lambda: number;
  reg_alpha: number;
  gamma: number;
  tree_method: 'hist' | 'approx' | 'exact' | 'auto';
  nthread: number;
  train_on_val: boolean;
  base_score: number | 'auto';
  extra: Record<string, string | number>;
}

export default defineStage<XgbParams>({
  kind: 'xgboost',
  version: '1',
  description: 'XGBoost baseline through libxgboost (C API via koffi)',
  paramsSchema: {
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
      train_on_val: { type: 'boolean', default: true, description: 'add the val rows to the training rows (no early stopping)' },
      base_score: {
        anyOf: [{ type: 'number' }, { const: 'auto' }], default: 'auto',
        description: "initial prediction; 'auto' = mean target (regression) / positive rate (binary), as xgboost >= 2 estimates it (1.x used 0.5)",
      },
      extra: { type: 'object', additionalProperties: { type: ['string', 'number'] }, default: {}, description: 'further XGBoost parameters, passed verbatim' },
    },
  },
  inputs: {
    train: { type: 'table' },
    val: { type: 'table', optional: true },
    test: { type: 'table' },
  },
  outputs: {
    model: { type: 'file', ext: '.json', description: 'the booster in XGBoost JSON format' },
    predictions: { type: 'table', description: 'one row per test row: row, y_true, y_pred (+ prob_<class>)' },
    metrics: { type: 'json', description: 'test metrics (same keys as the train kind)' },
  },
  needs: () => ['libxgboost'],
  runtime: async () => {
    const { xgboostApi } = await import('../lib/ml/xgboost.js');
    return { xgboost: xgboostApi().version };
  },
  async run(ctx) {
    const p = ctx.params;
    const { xgboostApi, DMatrix, Booster } = await import('../lib/ml/xgboost.js');
    const { classificationMetrics, regressionMetrics } = await import('../lib/ml/metrics.js');
    const { tableFromArrays } = await import('apache-arrow');
    const { sourceRows } = await import('./train.js');
    const a = xgboostApi();

    const tr = featureMatrix(await readTable(ctx.input('train').path));
    const testTable = await readTable(ctx.input('test').path);
    const te = featureMatrix(testTable);
    const same = (f: FeatureMatrix) => f.featureNames.join('\u0000') === tr.featureNames.join('\u0000');
    if (!same(te)) throw new Error('test table has different feature columns from train');
    let X = tr.X, y = tr.y!, n = tr.n;
    if (!y || !te.y) throw new Error('train and test tables need a target (schema metadata pipe.target)');
    if (p.train_on_val && ctx.has('val')) {
      const va = featureMatrix(await readTable(ctx.input('val').path));
      if (!same(va)) throw new Error('val table has different feature columns from train');
      const X2 = new Float32Array((n + va.n) * tr.d);
      X2.set(X); X2.set(va.X, n * tr.d);
      const y2 = new Float64Array(n + va.n);
      y2.set(y); y2.set(va.y!, n);
      X = X2; y = y2; n += va.n;
    }
    const meta = tr.meta;
    const task = meta.task ?? 'classification';
    const scaler = meta.target_scaler as { mean: number; std: number } | undefined;
    if (task === 'regression' && scaler) {
      // a target z-scored upstream: XGBoost fits the target in its own units (as the seed)
      y = Float64Array.from(y, (v) => v * scaler.std + scaler.mean);
      for (let i = 0; i < te.n; i++) te.y[i] = te.y[i]! * scaler.std + scaler.mean;
    }
    let C = 1;
    if (task === 'classification') {
      let mx = 0;
      for (const v of y) mx = Math.max(mx, v);
      for (const v of te.y) mx = Math.max(mx, v);
      C = Math.max(meta.classes?.length ?? 0, mx + 1, 2);
    }
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
          ctx.progress({ done: it + 1, total: p.n_estimators, message: `tree ${it + 1}/${p.n_estimators}` });
          await new Promise((r) => setImmediate(r));
        }
      }
      const raw = booster.predict(dtest);
      const seconds = (performance.now() - t0) / 1000;
      await ctx.output('model').writeBuffer(booster.saveJson());

      const predCols: Record<string, Int32Array | Float64Array> = {
        row: Int32Array.from({ length: te.n }, (_, i) => i),
        ...sourceRows(testTable),
        y_true: Float64Array.from(te.y),
      };
      let metrics: Record<string, number>;
      if (task === 'classification') {
        const probs = new Float64Array(te.n * C);
        if (C === 2) for (let i = 0; i < te.n; i++) { probs[2 * i] = 1 - raw[i]!; probs[2 * i + 1] = raw[i]!; }
        else probs.set(raw);
        const pred = new Float64Array(te.n);
        for (let i = 0; i < te.n; i++) { let b = 0; for (let k = 1; k < C; k++) if (probs[i * C + k]! > probs[i * C + b]!) b = k; pred[i] = b; }
        predCols.y_pred = pred;
        const names = meta.classes ?? Array.from({ length: C }, (_, k) => String(k));
        for (let k = 0; k < C; k++) predCols[`prob_${names[k] ?? k}`] = Float64Array.from({ length: te.n }, (_, i) => probs[i * C + k]!);
        metrics = classificationMetrics(te.y, probs, C) as unknown as Record<string, number>;
      } else {
        predCols.y_pred = Float64Array.from(raw);
        metrics = regressionMetrics(te.y, predCols.y_pred) as unknown as Record<string, number>;
      }
      await writeTable(ctx.output('predictions').path, withMeta(tableFromArrays(predCols), { task, classes: meta.classes, dataset: meta.dataset }));
      await ctx.output('metrics').writeJSON({
        dataset: meta.dataset ?? null, task, model: 'xgboost', xgboost: a.version, params,
        test: metrics, n_train: n, n_test: te.n, n_features: tr.d,
      });
      ctx.log.info(`test ${JSON.stringify(metrics)}; ${seconds.toFixed(1)} s`);
      return { metrics: { ...Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`test_${k}`, v])), train_seconds: seconds } };
    } finally {
      booster.free();
      dtrain.free();
      dtest.free();
    }
  },
});
