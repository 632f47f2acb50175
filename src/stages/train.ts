/**
 * `train`: fit an MLP (fixed activation or ActMix) on TF.js and evaluate it on a test table.
 *
 *   train:
 *     kind: train
 *     inputs: { train: std.train, val: std.val, test: std.test }
 *     params:
 *       model: { activation: actmix, hidden: [128, 128], dropout: 0.1, actmix: { preset: actmix-paper } }
 *       training: { max_epochs: 200, batch_size: 128, lr: 0.001, weight_decay: 0.0001, grad_clip: 0.5, patience: 20 }
 *       backend: auto
 *
 * Inputs are tables that follow the dataset conventions of src/lib/table.ts (features already
 * encoded and standardized upstream). `val` drives early stopping and best-checkpoint selection;
 * if it is not connected, a stratified `val_fraction` of `train` is held out (seeded).
 * Classification nets have one logit per class and softmax cross-entropy; regression nets one
 * output and MSE on the raw target (`standardize_target: true` trains on the z-scored target;
 * predictions and metrics are always in target units).
 *
 * A regression target scaled upstream (`standardize` with `target: true`, meta `target_scaler`) is
 * trained on as is and mapped back to target units for predictions and metrics.
 *
 * Outputs: `model` (JSON: spec, T, weights), `curves` (one row per epoch), `predictions` (one row
 * per test row, with the test table's `_row` when present), `metrics` (JSON: test metrics, best epoch, T at the best epoch, …).
 */
import { defineStage } from '../engine/stage.js';
import { readTable, writeTable, withMeta, featureMatrix, ROW_COLUMN, type FeatureMatrix, type Table } from '../lib/table.js';
import { BACKENDS, backendRuntime, type BackendRequest } from '../lib/ml/backend.js';
import { ACTIVATIONS, BASES, ACTMIX_PRESETS, type Activation, type ActMixConfig, type Basis, type MlpSpec } from '../lib/ml/mlp.js';
import type { TrainConfig, Dataset, EpochRecord } from '../lib/ml/trainer.js';
import type { Rng } from '../lib/rng.js';

export interface TrainParams {
  model: {
    activation: Activation;
    hidden: number[];
    dropout: number;
    omega_0: number;
    leaky_slope: number;
    actmix: { preset: keyof typeof ACTMIX_PRESETS } & Partial<ActMixConfig>;
  };
  training: TrainConfig;
  standardize_target: boolean;
  val_fraction: number;
  backend: BackendRequest;
}

const num = (def: number, extra: Record<string, unknown> = {}) => ({ type: 'number', default: def, ...extra });

export const trainParamsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        activation: { enum: [...ACTIVATIONS], default: 'relu' },
        hidden: { type: 'array', items: { type: 'integer', minimum: 1 }, default: [128, 128] },
        dropout: num(0.1, { minimum: 0, exclusiveMaximum: 1 }),
        omega_0: num(1, { description: 'ω₀ of the sine activation' }),
        leaky_slope: num(0.01),
        actmix: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'ActMix preset plus overrides of any of its fields',
          properties: {
            preset: { enum: Object.keys(ACTMIX_PRESETS), default: 'actmix-paper' },
            bases: { type: 'array', items: { enum: [...BASES] }, minItems: 1, uniqueItems: true },
            relu_bias: { type: 'number' },
            omega_0: { type: 'number' },
            t0: { type: 'number', exclusiveMinimum: 0 },
            t_final: { type: 'number', exclusiveMinimum: 0 },
            anneal_epochs: { type: 'integer', minimum: 0 },
            lambda_max: { type: 'number' },
            warmup_epochs: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
    training: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_epochs: { type: 'integer', minimum: 1, default: 200 },
        batch_size: { type: 'integer', minimum: 1, default: 128 },
        lr: num(1e-3, { exclusiveMinimum: 0 }),
        weight_decay: num(1e-4, { minimum: 0 }),
        grad_clip: num(0.5, { minimum: 0, description: 'global L2 norm; 0 = off' }),
        patience: { type: 'integer', minimum: 0, default: 20, description: 'early-stopping patience in epochs; 0 = off' },
        min_delta: num(0, { minimum: 0 }),
        eta_min_ratio: num(0.01, { minimum: 0 }),
        t_max: { type: 'integer', minimum: 1, description: 'cosine period in epochs (default max_epochs)' },
        beta1: num(0.9),
        beta2: num(0.999),
        eps: num(1e-8),
      },
    },
    standardize_target: { type: 'boolean', default: false, description: 'regression: train on the z-scored target' },
    val_fraction: num(0.1, { exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'held out of train when no val input is connected' }),
    backend: { enum: [...BACKENDS], default: 'auto' },
  },
};

/** The ActMix config a params block asks for: preset values with the given overrides. */
export function resolveActMix(a: TrainParams['model']['actmix']): ActMixConfig {
  const { preset, ...over } = a;
  const base = ACTMIX_PRESETS[preset ?? 'actmix-paper'];
  const out = { ...base } as ActMixConfig;
  for (const [k, v] of Object.entries(over)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  out.bases = [...out.bases] as Basis[];
  return out;
}

function toDataset(fm: FeatureMatrix, name: string): Dataset {
  if (!fm.y) throw new Error(`${name} table has no target (schema metadata 'pipe'.target)`);
  return { X: fm.X, n: fm.n, d: fm.d, y: fm.y };
}

/** The `_row` column of a table (row index in the original dataset), if it has one. */
export function sourceRows(t: Table): Record<string, Int32Array> {
  const c = t.getChild(ROW_COLUMN);
  return c ? { [ROW_COLUMN]: Int32Array.from(c.toArray() as ArrayLike<number>, Number) } : {};
}

/** Seeded (stratified for classification) hold-out of `frac` of the rows. */
export function holdOut(ds: Dataset, frac: number, classification: boolean, rng: Rng): { train: Dataset; val: Dataset } {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < ds.n; i++) {
    const key = classification ? ds.y[i]! : 0;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(i);
  }
  const valIdx: number[] = [], trIdx: number[] = [];
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const idx = groups.get(key)!;
    rng.shuffle(idx);
    const k = Math.round(idx.length * frac);
    valIdx.push(...idx.slice(0, k));
    trIdx.push(...idx.slice(k));
  }
  const take = (rows: number[]): Dataset => {
    rows.sort((a, b) => a - b);
    const X = new Float32Array(rows.length * ds.d), y = new Float64Array(rows.length);
    rows.forEach((r, i) => { X.set(ds.X.subarray(r * ds.d, (r + 1) * ds.d), i * ds.d); y[i] = ds.y[r]!; });
    return { X, n: rows.length, d: ds.d, y };
  };
  return { train: take(trIdx), val: take(valIdx) };
}

export default defineStage<TrainParams>({
  kind: 'train',
  version: '1',
  description: 'Train an MLP / ActMix network on TF.js (AdamW, cosine LR, clipping, early stopping) and evaluate it',
  paramsSchema: trainParamsSchema,
  inputs: {
    train: { type: 'table', description: 'training rows (encoded, standardized)' },
    val: { type: 'table', optional: true, description: 'validation rows for early stopping / checkpoint selection' },
    test: { type: 'table', description: 'test rows, touched once after training' },
  },
  outputs: {
    model: { type: 'json', description: 'architecture, ActMix temperature and weights of the best checkpoint' },
    curves: { type: 'table', description: 'one row per epoch: lr, temperature, entropy_weight, losses, mean_entropy, val_* metrics' },
    predictions: { type: 'table', description: 'one row per test row: row, y_true, y_pred (+ prob_<class>)' },
    metrics: { type: 'json', description: 'test metrics, best epoch, temperature at the best epoch, sizes, backend' },
  },
  // backend blas needs the native library; auto only prefers it (it falls back to wasm, ≈10× slower)
  needs: (p) => (p.backend === 'blas' ? ['blas'] : p.backend === 'tensorflow' ? ['tfjs-node'] : p.backend === 'tensorflow-gpu' ? ['tfjs-node-gpu'] : []),
  prefers: (p) => (p.backend === 'auto' ? ['blas'] : []),
  runtime: (p) => backendRuntime(p.backend),
  async run(ctx) {
    const p = ctx.params;
    const { loadTf } = await import('../lib/ml/backend.js');
    const { Mlp } = await import('../lib/ml/mlp.js');
    const { trainMlp, evaluate } = await import('../lib/ml/trainer.js');
    const { tableFromArrays } = await import('apache-arrow');

    const trainFm = featureMatrix(await readTable(ctx.input('train').path));
    const testTable = await readTable(ctx.input('test').path);
    const testFm = featureMatrix(testTable);
    const meta = trainFm.meta;
    const task = meta.task ?? 'classification';
    let train = toDataset(trainFm, 'train');
    const test = toDataset(testFm, 'test');
    let val: Dataset | null = null;
    if (ctx.has('val')) {
      const valFm = featureMatrix(await readTable(ctx.input('val').path));
      if (valFm.n > 0) {
        if (valFm.featureNames.join('\u0000') !== trainFm.featureNames.join('\u0000')) throw new Error('val table has different feature columns from train');
        val = toDataset(valFm, 'val');
      }
    }
    if (!val) {
      ({ train, val } = holdOut(train, p.val_fraction, task === 'classification', ctx.rng.fork('val-split')));
      ctx.log.info(`no val rows given: holding out ${val.n} of the training rows for early stopping`);
    }
    if (testFm.featureNames.join('\u0000') !== trainFm.featureNames.join('\u0000')) throw new Error('test table has different feature columns from train');

    let numClasses = 1;
    if (task === 'classification') {
      let maxY = 0;
      for (const ds of [train, val, test]) for (const v of ds.y) {
        if (!Number.isInteger(v) || v < 0) throw new Error(`classification target must hold class indices, found ${v}`);
        maxY = Math.max(maxY, v);
      }
      numClasses = Math.max(meta.classes?.length ?? 0, maxY + 1, 2);
    }
    let targetScale: { mean: number; std: number } | undefined;
    const upstream = meta.target_scaler as { mean: number; std: number } | undefined;
    if (task === 'regression' && upstream) {
      // the standardize stage scaled the target: train on it, report in target units
      for (const ds of [train, val, test]) for (let i = 0; i < ds.n; i++) ds.y[i] = ds.y[i]! * upstream.std + upstream.mean;
      targetScale = { mean: upstream.mean, std: upstream.std };
    } else if (task === 'regression' && p.standardize_target) {
      let m = 0;
      for (const v of train.y) m += v;
      m /= train.n;
      let s = 0;
      for (const v of train.y) s += (v - m) ** 2;
      targetScale = { mean: m, std: Math.sqrt(s / train.n) || 1 };
    }

    const { tf, backend } = await loadTf(p.backend);
    ctx.log.info(`backend ${backend} (TF.js ${tf.version.tfjs ?? tf.version_core}); ${train.n} train / ${val.n} val / ${test.n} test rows, ${train.d} features, ${task}${task === 'classification' ? ` (${numClasses} classes)` : ''}`);

    const spec: MlpSpec = {
      inputDim: train.d, outputDim: task === 'classification' ? numClasses : 1,
      hidden: p.model.hidden, dropout: p.model.dropout, activation: p.model.activation,
      omega0: p.model.omega_0, leakySlope: p.model.leaky_slope,
      ...(p.model.activation === 'actmix' ? { actmix: resolveActMix(p.model.actmix) } : {}),
    };
    const model = Mlp.create(tf, spec, ctx.rng.fork('init'));
    // on the blas backend the whole batch step runs natively (same semantics and curves as trainMlp)
    const fit = backend === 'blas' ? (await import('../lib/ml/blas/trainer.js')).trainMlpNative : trainMlp;
    const t0 = performance.now();
    try {
      const res = await fit(tf, model, train, val, {
        task, numClasses, config: p.training, rng: ctx.rng.fork('train'), targetScale, signal: ctx.signal,
        onEpoch: (r: EpochRecord) => {
          const key = task === 'classification' ? 'accuracy' : 'rmse';
          ctx.progress({
            done: r.epoch + 1, total: p.training.max_epochs,
            message: `epoch ${r.epoch + 1}: train ${r.train_loss.toPrecision(4)} val ${r.val_loss.toPrecision(4)} val_${key} ${r.val[key]?.toPrecision(4)}${spec.actmix ? ` T ${r.temperature.toPrecision(3)} H ${r.mean_entropy.toPrecision(3)}` : ''}`,
          });
        },
      });
      const trainSeconds = (performance.now() - t0) / 1000;
      const opts = { task, numClasses, targetScale } as const;
      const testEv = evaluate(tf, model, test, opts);
      const valEv = evaluate(tf, model, val, opts);

      // model
      await ctx.output('model').writeJSON(model.toJSON({
        task, classes: meta.classes ?? null, features: trainFm.featureNames, target: meta.target ?? null,
        target_scale: targetScale ?? null, best_epoch: res.bestEpoch,
      }));

      // curves
      const C = res.curves;
      const col = (f: (r: EpochRecord) => number) => Float64Array.from(C, f);
      const valKeys = Object.keys(C[0]?.val ?? {});
      const curves = tableFromArrays({
        epoch: Int32Array.from(C, (r) => r.epoch),
        lr: col((r) => r.lr), temperature: col((r) => r.temperature), entropy_weight: col((r) => r.entropy_weight),
        train_loss: col((r) => r.train_loss), train_total_loss: col((r) => r.train_total_loss), val_loss: col((r) => r.val_loss),
        mean_entropy: col((r) => r.mean_entropy),
        ...Object.fromEntries(valKeys.map((k) => [`val_${k}`, col((r) => r.val[k] ?? NaN)])),
      });
      await writeTable(ctx.output('curves').path, withMeta(curves, { dataset: meta.dataset, model: spec.activation, best_epoch: res.bestEpoch }));

      // predictions
      const predCols: Record<string, Int32Array | Float64Array> = {
        row: Int32Array.from({ length: test.n }, (_, i) => i),
        ...sourceRows(testTable),
        y_true: Float64Array.from(test.y),
        y_pred: testEv.pred,
      };
      if (testEv.probs) {
        const names = meta.classes ?? Array.from({ length: numClasses }, (_, k) => String(k));
        for (let k = 0; k < numClasses; k++) predCols[`prob_${names[k] ?? k}`] = Float64Array.from({ length: test.n }, (_, i) => testEv.probs![i * numClasses + k]!);
      }
      await writeTable(ctx.output('predictions').path, withMeta(tableFromArrays(predCols), { task, classes: meta.classes, dataset: meta.dataset }));

      // metrics
      const summary = {
        dataset: meta.dataset ?? null, task, model: spec.activation,
        actmix: spec.actmix ?? null, preset: spec.actmix ? (p.model.actmix.preset ?? 'actmix-paper') : null,
        backend,
        test: testEv.metrics, val: valEv.metrics, test_loss: testEv.loss, val_loss: res.bestValLoss,
        best_epoch: res.bestEpoch, epochs_run: res.epochsRun, stopped_early: res.stoppedEarly,
        temperature_at_best: spec.actmix ? res.bestTemperature : null,
        mean_entropy_at_best: spec.actmix ? (C[res.bestEpoch]?.mean_entropy ?? null) : null,
        n_train: train.n, n_val: val.n, n_test: test.n, n_features: train.d,
        standardize_target: task === 'regression' ? Boolean(targetScale) : null,
      };
      await ctx.output('metrics').writeJSON(summary);
      ctx.log.info(`best epoch ${res.bestEpoch} of ${res.epochsRun}; test ${JSON.stringify(testEv.metrics)}; ${trainSeconds.toFixed(1)} s`);
      return {
        metrics: {
          ...Object.fromEntries(Object.entries(testEv.metrics).map(([k, v]) => [`test_${k}`, v])),
          best_epoch: res.bestEpoch, epochs_run: res.epochsRun,
          ...(spec.actmix ? { temperature_at_best: res.bestTemperature } : {}),
          train_seconds: trainSeconds,
        },
      };
    } finally {
      model.dispose();
    }
  },
});
