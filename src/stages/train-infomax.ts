/**
 * `train-infomax`: the single InfoMax layer of the seed-systems reference §B, trained
 * unsupervised on a table's features and evaluated on test rows.
 *
 *   train:
 *     kind: train-infomax
 *     matrix: {activation: [identity, relu, …], hidden: [16, 32, 64], seed: {range: [1, 11]}}
 *     seed: ${matrix.seed}
 *     inputs: {train: mnist.train, test: mnist.test}
 *     params:
 *       model: {activation: '${matrix.activation}', hidden: '${matrix.hidden}'}
 *       loss: {lambda_tc: 1, lambda_wr: 0, tc: frobenius}
 *       training: {optimizer: adam, lr: 0.001, batch_size: 128, epochs: 100}
 *
 * Model z = Wx + b, a = f(z) (optionally softmax(f(z)), the seed's v2), Xavier-uniform W, zero b;
 * f: the six activations of §B.1 and `sigmoid` (an extra);
 * loss §B.2 (src/lib/ml/infomax.ts); the epochs are the kit's `fit` loop (src/lib/ml/kit/loop.ts)
 * driving the native step (backend blas: native/pb_infomax.c, one C call per batch) or the TF.js
 * autodiff step with the kit's optimizer (other backends). Features are the table's feature
 * columns (MNIST `image` expands to 784; use `download-mnist` with `pixels: float32` for x/255,
 * or `input_scale`), the target column is ignored.
 *
 * Outputs: `curves` (one row per epoch: mean over batches of total/entropy/tc/wr, and every
 * `metrics_every` epochs the §B.5 metrics on the first `eval_batches` test batches as test_*),
 * `metrics` (JSON: the run's settings and `final`: §B.5 on the full test set + the last epoch's
 * losses, train time, rows/s), `final` (the same as a one-row table, for plots), `weights`
 * (W and b, a snapshot table). Params types come from the schema (json-schema-to-ts).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';
import { BACKENDS, backendRuntime } from '../lib/ml/backend.js';
import { INFOMAX_ACTIVATIONS as ACTS } from '../lib/ml/infomax.js';   // (the module's top level is constants and functions)

export const trainInfomaxParamsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        activation: { enum: [...ACTS], default: 'relu' },
        hidden: { type: 'integer', minimum: 2, default: 16, description: 'K, the number of units' },
        post_softmax: { type: 'boolean', default: false, description: 'a = softmax(f(z)) (the seed’s v2 model)' },
        leaky_slope: { type: 'number', default: 0.01 },
      },
    },
    loss: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        lambda_tc: { type: 'number', default: 1 },
        lambda_wr: { type: 'number', default: 0 },
        tc: { enum: ['frobenius', 'logdet'], default: 'frobenius', description: 'frobenius: ‖R − I‖²_F (the seed); logdet: exact Gaussian −½ log det(R + δI)' },
        variance_eps: { type: 'number', exclusiveMinimum: 0, default: 1e-6 },
        logdet_delta: { type: 'number', minimum: 0, default: 1e-6 },
      },
    },
    training: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        optimizer: { enum: ['adam', 'sgd'], default: 'adam' },
        lr: { type: 'number', exclusiveMinimum: 0, default: 1e-3 },
        batch_size: { type: 'integer', minimum: -1, default: 128, description: '−1 = full batch; else ≥ 2' },
        epochs: { type: 'integer', minimum: 1, default: 100 },
        beta1: { type: 'number', default: 0.9 },
        beta2: { type: 'number', default: 0.999 },
        eps: { type: 'number', default: 1e-8 },
      },
    },
    metrics_every: { type: 'integer', minimum: 0, default: 10, description: 'epochs between test-set metrics in the curves (0 = only the final ones)' },
    eval_batches: { type: 'integer', minimum: 1, default: 10, description: 'the periodic metrics use the first eval_batches × batch_size test rows (the seed: 10 batches)' },
    train_rows: { type: 'integer', minimum: 0, default: 0, description: 'use only the first N training rows (0 = all)' },
    test_rows: { type: 'integer', minimum: 0, default: 0, description: 'use only the first N test rows (0 = all)' },
    input_scale: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'features are multiplied by this (1/255 for uint8 pixels)' },
    backend: { enum: [...BACKENDS], default: 'auto', description: 'blas: the native step; others: the TF.js step on that TF.js backend' },
  },
} as const;

export type TrainInfomaxParams = FromSchema<typeof trainInfomaxParamsSchema>;

export default defineStage<TrainInfomaxParams>({
  kind: 'train-infomax',
  version: '1',
  description: 'InfoMax single layer (§B): a = f(Wx + b) trained on −Σ log var + λ_tc·TC (+ λ_wr·WR); §B.5 metrics',
  paramsSchema: trainInfomaxParamsSchema,
  inputs: {
    train: { type: 'table', description: 'training rows (features; any target column is ignored)' },
    test: { type: 'table', description: 'test rows for the metrics' },
  },
  outputs: {
    curves: { type: 'table', description: 'per epoch: train_total/entropy/tc/wr and every metrics_every epochs test_* metrics' },
    metrics: { type: 'json', description: 'settings and final §B.5 metrics on the full test set' },
    final: { type: 'table', description: 'the final metrics as one row' },
    weights: { type: 'table', description: 'W (K×n) and b' },
  },
  needs: (p) => (p.backend === 'blas' ? ['blas'] : p.backend === 'tensorflow' ? ['tfjs-node'] : p.backend === 'tensorflow-gpu' ? ['tfjs-node-gpu'] : []),
  prefers: (p) => (p.backend === 'auto' ? ['blas'] : []),
  runtime: (p) => backendRuntime(p.backend),
  async run(ctx) {
    const p = ctx.params;
    const { readTable, featureMatrix, writeTable, makeTable, numericVector, stringVector } = await import('../sdk/table.js');
    const im = await import('../lib/ml/infomax.js');
    const { fit, flatten } = await import('../lib/ml/kit/loop.js');
    const { curvesTable, snapshotTable } = await import('../lib/ml/kit/snapshots.js');
    const { resolveBackend } = await import('../lib/ml/backend.js');

    const { decodedOnce } = await import('../lib/decoded.js');
    // the decoded matrix is shared by every stage this worker runs on the same artifact (a sweep
    // decodes MNIST once per worker): read-only here, so scaling writes a new array
    const load = async (name: 'train' | 'test', limit: number) => {
      const input = ctx.input(name);
      const fm = await decodedOnce(input.hash, 'featureMatrix', (m) => m.X.byteLength, async () => featureMatrix(await readTable(input.path), { view: true }));
      const rows = limit > 0 ? Math.min(limit, fm.n) : fm.n;
      let X = fm.X.subarray(0, rows * fm.d);
      if (p.input_scale !== 1) {
        const src = X, s = p.input_scale;
        X = new Float32Array(src.length);
        for (let i = 0; i < src.length; i++) X[i] = src[i]! * s;
      }
      return { X, n: rows, d: fm.d, dataset: fm.meta.dataset ?? null };
    };
    const train = await load('train', p.train_rows);
    const test = await load('test', p.test_rows);
    if (test.d !== train.d) throw new Error(`train has ${train.d} features, test ${test.d}`);
    const n = train.d, K = p.model.hidden;
    const spec = im.defaultSpec(n, K, p.model.activation, {
      postSoftmax: p.model.post_softmax, leakySlope: p.model.leaky_slope,
      lambdaTc: p.loss.lambda_tc, lambdaWr: p.loss.lambda_wr, tc: p.loss.tc, eps: p.loss.variance_eps, delta: p.loss.logdet_delta,
    });
    const t = p.training;
    if (t.batch_size === 0 || t.batch_size === 1) throw new Error('batch_size must be −1 (full batch) or ≥ 2 (the loss needs variances)');
    const full = t.batch_size === -1 || t.batch_size >= train.n;
    const bs = full ? train.n : t.batch_size;
    const opt = { optimizer: t.optimizer, beta1: t.beta1, beta2: t.beta2, eps: t.eps };
    const init = im.xavierInit(n, K, ctx.rng.fork('init'));

    const evalRows = Math.min(test.n, p.eval_batches * bs);
    const every = p.metrics_every;
    const evaluate = (s: import('../lib/ml/infomax.js').InfomaxStep, epoch: number) => {
      if (!every || (epoch + 1) % every !== 0) return {};
      const A = s.activations(test.X.subarray(0, evalRows * n), evalRows);
      const m = im.metrics(s.params().W, K, n, A, evalRows);
      return Object.fromEntries(Object.entries(m).filter(([, v]) => typeof v === 'number').map(([k, v]) => [`test_${k}`, v as number]));
    };

    const backend = resolveBackend(p.backend).backend;
    let step: import('../lib/ml/infomax.js').InfomaxStep;
    if (backend === 'blas') {
      step = await im.nativeStep(spec, init, train.X, train.n, opt, bs, evaluate);
    } else {
      const { loadTf } = await import('../lib/ml/backend.js');
      const { tf } = await loadTf(p.backend);
      step = await im.tfStep(tf as never, spec, init, train.X, train.n, opt, evaluate);
    }
    ctx.log.info(`${spec.activation}${spec.postSoftmax ? '→softmax' : ''}, K = ${K}, n = ${n}; ${train.n} train / ${test.n} test rows, batch ${full ? 'full' : bs}, ${t.epochs} epochs, ${t.optimizer} lr ${t.lr}; backend ${backend}`);
    try {
      const t0 = performance.now();
      const res = await fit(step, {
        data: full ? { mode: 'full', rows: train.n } : { mode: 'minibatch', rows: train.n, batchSize: bs },
        maxEpochs: t.epochs, rng: ctx.rng.fork('shuffle'), schedules: { lr: t.lr }, finite: ['train_total'], resume: ctx.checkpoint,
        signal: ctx.signal, progress: ctx.progress,
        describe: (r) => `loss ${r.train.total?.toPrecision(5)} · tc ${r.train.tc?.toPrecision(3)} · wr ${r.train.wr?.toPrecision(3)}`,
      });
      const seconds = (performance.now() - t0) / 1000;
      const params = step.params();
      const A = step.activations(test.X, test.n);
      const m = im.metrics(params.W, K, n, A, test.n);
      const last = res.curves.at(-1)!.train;
      const final = {
        ...m,
        final_loss: last.total!, entropy: last.entropy!, tc: last.tc!, wr: last.wr!,
        train_seconds: seconds, rows_per_second: (train.n * res.epochsRun) / seconds,
      };
      const settings = {
        dataset: train.dataset, activation: spec.activation, hidden: K, post_softmax: spec.postSoftmax, seed: ctx.seed,
        lambda_tc: spec.lambdaTc, lambda_wr: spec.lambdaWr, tc: spec.tc, optimizer: t.optimizer, lr: t.lr,
        batch_size: full ? -1 : bs, epochs: res.epochsRun, steps: res.steps, n_train: train.n, n_test: test.n, n_features: n, backend,
      };
      await ctx.output('metrics').writeJSON({ ...settings, final });
      // every row gets every column (the periodic test_* metrics are NaN between evaluations)
      const flat = res.curves.map((r) => { const row = flatten(r); delete row.lr; return row; });
      const keys = [...new Set(flat.flatMap((r) => Object.keys(r)))];
      await writeTable(ctx.output('curves').path, curvesTable(flat.map((r) => Object.fromEntries(keys.map((k) => [k, r[k] ?? NaN])))));
      const cols: Record<string, ReturnType<typeof numericVector>> = {
        activation: stringVector([spec.activation]), hidden: numericVector('int32', [K]), seed: numericVector('int32', [ctx.seed]),
      };
      for (const [k, v] of Object.entries(final)) if (typeof v === 'number') cols[k] = numericVector('float64', [v]);
      await writeTable(ctx.output('final').path, makeTable(cols));
      await writeTable(ctx.output('weights').path, snapshotTable([{ epoch: res.epochsRun - 1, step: res.steps, values: { W: params.W, b: params.b } }], { W: [K, n], b: [K] }));
      ctx.log.info(`${res.epochsRun} epochs in ${seconds.toFixed(1)} s (${Math.round(final.rows_per_second)} rows/s); eff_rank ${m.eff_rank.toFixed(2)}, redundancy ${m.weight_redundancy.toFixed(3)}, dead ${m.dead_units}, output corr ${m.output_correlation.toFixed(3)}`);
      return {
        metrics: {
          eff_rank: m.eff_rank, erank_rv: m.erank_rv, weight_redundancy: m.weight_redundancy, dead_units: m.dead_units,
          output_correlation: m.output_correlation, final_loss: final.final_loss, train_seconds: seconds,
        },
      };
    } finally {
      step.dispose();
    }
  },
});
