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
 * output and MSE on the z-scored target by default (`standardize_target: false` trains on the raw
 * target as the ActMix seed does, with a warning; predictions and metrics are always in target units).
 *
 * A regression target scaled upstream (`standardize` with `target: true`, meta `target_scaler`) is
 * trained on as is and mapped back to target units for predictions and metrics.
 *
 * Outputs: `model` (JSON: spec, T, weights), `curves` (one row per epoch), `predictions` (one row
 * per test row, with the test table's `_row` when present), `metrics` (JSON: test metrics, best epoch, T at the best epoch, …).
 *
 * Built on the training kit: the table plumbing is src/lib/ml/table-trainer.ts (shared with
 * `xgboost`), the epochs are the kit's loop (src/lib/ml/kit/loop.ts) driving the native blas MLP
 * step or the TF.js one. `TrainParams` is derived from the params schema (json-schema-to-ts).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';
import { BACKENDS, backendRuntime } from '../lib/ml/backend.js';
import { ACTIVATIONS, BASES, ACTMIX_PRESETS, ACTMIX_PRESET_NAMES, type ActMixConfig, type Basis, type MlpSpec } from '../lib/ml/mlp.js';
import type { EpochRecord } from '../lib/ml/trainer.js';

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
        dropout: { type: 'number', default: 0.1, minimum: 0, exclusiveMaximum: 1 },
        omega_0: { type: 'number', default: 1, description: 'ω₀ of the sine activation' },
        leaky_slope: { type: 'number', default: 0.01 },
        actmix: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'ActMix preset plus overrides of any of its fields',
          properties: {
            preset: { enum: [...ACTMIX_PRESET_NAMES], default: 'actmix-paper' },
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
        lr: { type: 'number', default: 1e-3, exclusiveMinimum: 0 },
        weight_decay: { type: 'number', default: 1e-4, minimum: 0 },
        grad_clip: { type: 'number', default: 0.5, minimum: 0, description: 'global L2 norm; 0 = off' },
        patience: { type: 'integer', minimum: 0, default: 20, description: 'early-stopping patience in epochs; 0 = off' },
        min_delta: { type: 'number', default: 0, minimum: 0 },
        eta_min_ratio: { type: 'number', default: 0.01, minimum: 0 },
        t_max: { type: 'integer', minimum: 1, description: 'cosine period in epochs (default max_epochs)' },
        beta1: { type: 'number', default: 0.9 },
        beta2: { type: 'number', default: 0.999 },
        eps: { type: 'number', default: 1e-8 },
      },
    },
    standardize_target: { type: 'boolean', default: true, description: "regression: train on the z-scored target (default; predictions and metrics stay in target units). false = the ActMix seed's raw-target training (seed parity; warned: at the seed's learning rate it needs hundreds of epochs — CCPP at 5 epochs: R² ≈ −570)" },
    val_fraction: { type: 'number', default: 0.1, exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'held out of train when no val input is connected' },
    backend: { enum: [...BACKENDS], default: 'auto' },
    alpha_every: { type: 'integer', minimum: 0, default: 1, description: 'ActMix: record the mixing state (logits of every layer and T) before training, every N epochs and after the last, as the `alpha` output; 0 = off' },
  },
} as const;

/** The params after defaults, derived from the schema (so the two cannot disagree). */
export type TrainParams = FromSchema<typeof trainParamsSchema>;

/** The ActMix config a params block asks for: preset values with the given overrides. */
export function resolveActMix(a: TrainParams['model']['actmix']): ActMixConfig {
  const { preset, ...over } = a;
  const base = ACTMIX_PRESETS[preset ?? 'actmix-paper'];
  const out = { ...base } as ActMixConfig;
  for (const [k, v] of Object.entries(over)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  out.bases = [...out.bases] as Basis[];
  return out;
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
    curves: {
      type: 'table', description: 'one row per epoch: lr, temperature, entropy_weight, losses, mean_entropy, val_* metrics',
      columns: ['epoch', 'lr', 'temperature', 'entropy_weight', 'train_loss', 'train_total_loss', 'val_loss', 'mean_entropy', 'val_<metric> (classification: accuracy, roc_auc, f1_macro, log_loss, …; regression: rmse, mae, r2, …)'],
    },
    predictions: { type: 'table', description: 'one row per test row: row, y_true, y_pred (+ prob_<class>)' },
    metrics: { type: 'json', description: 'test metrics, best epoch, temperature at the best epoch, sizes, backend' },
    alpha: {
      type: 'table', description: 'ActMix state over training: one row per snapshot (epoch −1 = init), epoch, step, temperature, logits_<l> (F·K list per layer; shapes and bases in the metadata)',
      condition: 'model.activation = actmix and alpha_every > 0',
      when: (p: TrainParams) => p.model?.activation === 'actmix' && (p.alpha_every ?? 1) > 0,
      columns: ['epoch', 'step', 'temperature', 'logits_<layer>'],
    },
  },
  // backend blas needs the native library; auto only prefers it (it falls back to wasm, ≈10× slower)
  needs: (p) => (p.backend === 'blas' ? ['blas'] : p.backend === 'tensorflow' ? ['tfjs-node'] : p.backend === 'tensorflow-gpu' ? ['tfjs-node-gpu'] : []),
  prefers: (p) => (p.backend === 'auto' ? ['blas'] : []),
  runtime: (p) => backendRuntime(p.backend),
  async run(ctx) {
    const p = ctx.params;
    const { loadTf } = await import('../lib/ml/backend.js');
    const { Mlp } = await import('../lib/ml/mlp.js');
    const { trainMlp, evaluate, curveRow } = await import('../lib/ml/trainer.js');
    const kit = await import('../lib/ml/table-trainer.js');
    const { writeTable, withMeta } = await import('../sdk/table.js');

    const data = await kit.readSupervised(ctx);
    const { meta, task, test } = data;
    let { train, val } = data;
    if (!val) {
      ({ train, val } = kit.holdOut(train, p.val_fraction, task === 'classification', ctx.rng.fork('val-split')));
      ctx.log.info(`no val rows given: holding out ${val.n} of the training rows for early stopping`);
    }
    const numClasses = task === 'classification' ? kit.classCount(meta, [train, val, test]) : 1;
    // a target the standardize stage scaled: train on it, report in target units
    const upstream = kit.unscaleUpstreamTarget(data, [train, val, test]);
    const targetScale = upstream ?? (task === 'regression' && p.standardize_target ? kit.fitTargetScale(train) : undefined);
    if (task === 'regression' && !upstream && !p.standardize_target) {
      ctx.log.warn('standardize_target: false — training on the raw regression target (the seed\'s protocol, for parity). The output layer starts near 0 while the target may be in the hundreds: at the seed\'s learning rate this needs hundreds of epochs (CCPP, 5 epochs: R² ≈ −570). Leave standardize_target at its default (true) unless you are reproducing the seed.');
    }

    const { tf, backend } = await loadTf(p.backend);
    ctx.log.info(`backend ${backend} (TF.js ${tf.version.tfjs ?? tf.version_core}); ${train.n} train / ${val.n} val / ${test.n} test rows, ${train.d} features, ${task}${task === 'classification' ? ` (${numClasses} classes)` : ''}`);

    const spec: MlpSpec = {
      inputDim: train.d, outputDim: task === 'classification' ? numClasses : 1,
      hidden: [...p.model.hidden], dropout: p.model.dropout, activation: p.model.activation,
      omega0: p.model.omega_0, leakySlope: p.model.leaky_slope,
      ...(p.model.activation === 'actmix' ? { actmix: resolveActMix(p.model.actmix) } : {}),
    };
    const model = Mlp.create(tf, spec, ctx.rng.fork('init'));
    // on the blas backend the whole batch step runs natively (same loop, semantics and curves as the TF.js step)
    const fit = backend === 'blas' ? (await import('../lib/ml/blas/trainer.js')).trainMlpNative : trainMlp;
    const t0 = performance.now();
    try {
      const res = await fit(tf, model, train, val, {
        task, numClasses, config: p.training, rng: ctx.rng.fork('train'), targetScale, signal: ctx.signal, resume: ctx.checkpoint,
        snapshotEvery: spec.actmix ? p.alpha_every : 0,
        onEpoch: (r: EpochRecord) => {
          const key = task === 'classification' ? 'accuracy' : 'rmse';
          ctx.progress({
            done: r.epoch + 1, total: p.training.max_epochs, unit: 'epoch',
            message: `val_${key} ${r.val[key]?.toPrecision(4)} · loss ${r.train_loss.toPrecision(4)}/${r.val_loss.toPrecision(4)}${spec.actmix ? ` · T ${r.temperature.toPrecision(3)} H ${r.mean_entropy.toPrecision(3)}` : ''}`,
          });
        },
      });
      const trainSeconds = (performance.now() - t0) / 1000;
      const opts = { task, numClasses, targetScale } as const;
      const testEv = evaluate(tf, model, test, opts);
      const valEv = evaluate(tf, model, val, opts);

      await ctx.output('model').writeJSON(model.toJSON({
        task, classes: meta.classes ?? null, features: data.featureNames, target: meta.target ?? null,
        target_scale: targetScale ?? null, best_epoch: res.bestEpoch,
      }));
      const curves = kit.curvesTable(res.curves.map(curveRow));
      await writeTable(ctx.output('curves').path, withMeta(curves, { dataset: meta.dataset, model: spec.activation, best_epoch: res.bestEpoch }));
      if (spec.actmix && p.alpha_every > 0) {
        const { snapshotTable } = await import('../lib/ml/kit/snapshots.js');
        const K = spec.actmix.bases.length;
        const shapes: Record<string, number[]> = { temperature: [1] };
        spec.hidden.forEach((F, l) => { shapes[`logits_${l}`] = [F, K]; });
        await writeTable(ctx.output('alpha').path, withMeta(snapshotTable(res.snapshots ?? [], shapes), {
          dataset: meta.dataset, model: 'actmix', bases: spec.actmix.bases, best_epoch: res.bestEpoch, every: p.alpha_every,
        }));
      }
      await writeTable(ctx.output('predictions').path, kit.predictionTable({ ...data, test }, testEv.pred, testEv.probs ? { p: testEv.probs, C: numClasses } : undefined));

      const C = res.curves;
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
          ...kit.prefixed('test_', testEv.metrics),
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
