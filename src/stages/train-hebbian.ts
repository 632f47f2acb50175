/**
 * `train-hebbian`: the MLP of the Hebbian seed (seed-systems §E) — backprop with EMA momentum or
 * Adam, element-wise clip, L2, an optional Oja-like Hebbian increment, an optional per-epoch
 * meta-tuner over (lr, α), and an optional multi-task head — trained by the kit's one loop.
 *
 *   study:
 *     kind: train-hebbian
 *     inputs: { train: prep.train, val: prep.val, test: prep.test }
 *     params: { hidden: [16, 8], lr: 0.05, use_hebbian: true, hebbian_alpha: 0.02, use_meta: true }
 *
 * Inputs are standardized tables with a binary target (generate-synthetic study_success /
 * health_risk, or load-csv of the seed's CSVs). `multi_task: true` adds a second output trained
 * with ½MSE on `score_column` / `score_scale` (risk_score / 100).
 *
 * The best-validation weights are restored before the test (the seed's aliasing bug, which
 * evaluated the last epoch's weights, is fixed; `restore_best: false` reproduces it). A run whose
 * loss turns non-finite or exceeds `explode_loss` is flagged `diverged: 1` (a `diverged` column in
 * the CSV) and, with `stop_on_divergence` (default), stops there. It is still scored the way the
 * seed's loop scores it: with `restore_best` from the restored best-validation weights — an epoch
 * before the blow-up, flagged `diverged_after_best: 1` — and without it from the last weights (the
 * seed's aliasing bug; set `stop_on_divergence: false` to run every epoch as the seed does). Only a
 * run with no finite validation loss at all is unscored (test metrics null).
 *
 * Outputs: `curves` (table: one row per epoch, the seed's columns + val metrics), `log` (the
 * seed's per-epoch CSV: timestamp, epoch, train_loss, val_loss, lr, hebbian_alpha, wnorm_l0, …),
 * `model` (JSON: sizes, activations, W, b), `weights` (.npz in the seed's layout: W0, b0, W1, …),
 * `metrics` (test accuracy/BCE (+MSE), best epoch, tuner choices, divergence), `snapshots`
 * (weights every `snapshot_every` epochs, for weight-norm or over-training analyses).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';

export const hebbianParamsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    hidden: { type: 'array', items: { type: 'integer', minimum: 1 }, default: [16, 8], description: 'hidden layer sizes (study 16, 8; health 32, 16)' },
    activations: { type: 'array', items: { enum: ['relu', 'sigmoid', 'tanh', 'linear'] }, description: 'one per layer incl. the output (default relu for hidden layers, linear output)' },
    multi_task: { type: 'boolean', default: false, description: 'second output: ½MSE on score_column/score_scale with weight mt_weight' },
    score_column: { type: 'string', default: 'risk_score' },
    score_scale: { type: 'number', exclusiveMinimum: 0, default: 100 },
    mt_weight: { type: 'number', minimum: 0, default: 0.5 },
    epochs: { type: 'integer', minimum: 1, default: 25 },
    batch_size: { type: 'integer', minimum: 1, default: 64 },
    lr: { type: 'number', exclusiveMinimum: 0, default: 0.05 },
    optimizer: { enum: ['momentum', 'adam'], default: 'momentum', description: 'momentum: EMA v ← μv + (1−μ)g (the seed without --use-adam)' },
    momentum: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.9 },
    beta1: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.9 },
    beta2: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.999 },
    eps: { type: 'number', exclusiveMinimum: 0, default: 1e-8 },
    weight_decay: { type: 'number', minimum: 0, default: 1e-4 },
    clip: { type: 'number', minimum: 0, default: 5, description: 'element-wise gradient clip (0 = off)' },
    use_hebbian: { type: 'boolean', default: false },
    hebbian_alpha: { type: 'number', minimum: 0, default: 0 },
    hebbian_decay: { type: 'number', minimum: 0, default: 0, description: 'γ of the Oja-like decay (1 = Oja)' },
    use_meta: { type: 'boolean', default: false, description: 'per-epoch tuner over lr × α (single-task only)' },
    meta_steps: { type: 'integer', minimum: 1, default: 1 },
    restore_best: { type: 'boolean', default: true, description: 'false reproduces the seed: the last epoch is tested' },
    explode_loss: { type: 'number', exclusiveMinimum: 0, default: 1000, description: 'a train or val loss above this counts as diverged' },
    stop_on_divergence: { type: 'boolean', default: true, description: 'stop at the first diverged epoch (false: run every epoch, as the seed does)' },
    snapshot_every: { type: 'integer', minimum: 1, default: 1 },
    backend: { enum: ['auto', 'blas', 'js'], default: 'auto', description: "matrix products: blas (pipe's native OpenBLAS library; auto when it loads) or js (typed-array loops)" },
  },
} as const;

export type HebbianParams = FromSchema<typeof hebbianParamsSchema>;

export default defineStage<HebbianParams>({
  kind: 'train-hebbian',
  version: '1',
  description: 'MLP with Oja-like Hebbian plasticity, meta-tuner and multi-task head (the NumPy Hebbian seed, §E)',
  paramsSchema: hebbianParamsSchema,
  needs: (p) => (p.backend === 'blas' ? ['blas'] : []),
  prefers: (p) => (p.backend === 'auto' ? ['blas'] : []),
  // float32 sums in OpenBLAS and in JS round differently: the resolved backend is part of the result
  runtime: async (p) => {
    const { resolveHebbianBackend } = await import('../lib/ml/hebbian.js');
    return { hebbian_backend: resolveHebbianBackend(p.backend) };
  },
  inputs: {
    train: { type: 'table', description: 'standardized training rows, binary target' },
    val: { type: 'table', description: 'validation rows (meta-tuner, best epoch)' },
    test: { type: 'table', description: 'test rows, touched once' },
  },
  outputs: {
    curves: { type: 'table', description: 'one row per epoch: epoch, train_loss, val_loss, lr, hebbian_alpha, wnorm_l*, val metrics' },
    log: { type: 'text', ext: '.csv', description: "the seed's per-epoch CSV (timestamp, epoch, train_loss, val_loss, lr, hebbian_alpha, wnorm_l0, …)" },
    model: { type: 'json', description: 'sizes, activations and the tested weights' },
    weights: { type: 'file', ext: '.npz', description: "the tested weights in the seed's .npz layout (W0, b0, W1, b1, …; W is out × in, float32)" },
    metrics: { type: 'json', description: 'test metrics, best epoch, divergence, meta-tuner choices' },
    snapshots: { type: 'table', description: 'weights every snapshot_every epochs (W0, b0, …)' },
  },
  async run(ctx) {
    const p = ctx.params;
    const { readTable, featureMatrix, numericColumn } = await import('../sdk/table.js');
    const H = await import('../lib/ml/hebbian.js');
    const { fit, flatten } = await import('../lib/ml/kit/loop.js');
    const { curvesTable, snapshotTable } = await import('../lib/ml/kit/snapshots.js');
    const { writeTable } = await import('../sdk/table.js');
    const { npzBytes } = await import('../lib/npz.js');

    const read = async (name: 'train' | 'val' | 'test') => {
      const t = await readTable(ctx.input(name).path);
      const fm = featureMatrix(t);
      if (!fm.y) throw new Error(`${name} table has no target (schema metadata 'pipe'.target)`);
      for (let i = 0; i < fm.n; i++) if (fm.y[i] !== 0 && fm.y[i] !== 1) throw new Error(`${name} target '${fm.meta.target}' must be 0/1; row ${i} has ${fm.y[i]}`);
      let score: Float32Array | null = null;
      if (p.multi_task) {
        if (!t.getChild(p.score_column)) throw new Error(`multi_task needs the column '${p.score_column}' in the ${name} table (score_column)`);
        const c = numericColumn(t, p.score_column);
        score = Float32Array.from(c.values, (v) => v / p.score_scale);
      }
      return { data: { X: fm.X, n: fm.n, d: fm.d, y: Float32Array.from(fm.y), score } as import('../lib/ml/hebbian.js').Data, names: fm.featureNames };
    };
    const tr = await read('train'), va = await read('val'), te = await read('test');
    if (va.names.join() !== tr.names.join() || te.names.join() !== tr.names.join()) throw new Error('train, val and test tables have different feature columns');
    if (p.use_meta && p.multi_task) throw new Error('use_meta: the meta-tuner is single-task only (as in the seed); turn off multi_task or use_meta');
    if (tr.data.n === 0 || va.data.n === 0) throw new Error('train and val need at least one row');

    const outDim = p.multi_task ? 2 : 1;
    const sizes = [tr.data.d, ...p.hidden, outDim];
    const activations = (p.activations ?? [...p.hidden.map(() => 'relu' as const), 'linear' as const]) as import('../lib/ml/hebbian.js').HebbAct[];
    if (activations.length !== sizes.length - 1) throw new Error(`activations: ${sizes.length - 1} layers need ${sizes.length - 1} activations, got ${activations.length}`);
    const cfg = {
      optimizer: p.optimizer, momentum: p.momentum, beta1: p.beta1, beta2: p.beta2, eps: p.eps, weightDecay: p.weight_decay, clip: p.clip,
      useHebbian: p.use_hebbian, gamma: p.hebbian_decay, mtWeight: p.mt_weight,
    };
    const backend = H.resolveHebbianBackend(p.backend);
    const net = new H.HebbianMlp({ sizes, activations }, ctx.rng.fork('init'), backend);
    const step = new H.HebbianStep(net, tr.data, va.data, cfg);
    const trials: import('../lib/ml/hebbian.js').MetaTrial[] = [];
    const hooks = p.use_meta ? [H.metaTunerHook(step, { lr: p.lr, alpha: p.hebbian_alpha, metaSteps: p.meta_steps, rng: ctx.rng.fork('meta'), trials })] : [];
    let diverged: { epoch: number; why: string } | null = null;
    let lastBad = -1; // the last epoch whose loss was non-finite or above explode_loss
    hooks.push({
      at: 'epochEnd',
      run(h) {
        const r = flatten(h.curves.at(-1)!);
        const bad = ['train_loss', 'val_loss'].find((k) => !Number.isFinite(r[k]!) || Math.abs(r[k]!) > p.explode_loss);
        if (bad && !diverged) diverged = { epoch: r.epoch!, why: `${bad.replace('_', ' ')} ${r[bad]}` };
        if (bad) lastBad = r.epoch!;
        if (bad && p.stop_on_divergence) h.stop(`diverged at epoch ${r.epoch}: ${diverged!.why}`);
      },
      state: () => ({ diverged, lastBad }),
      setState(s: unknown) { ({ diverged, lastBad } = s as { diverged: { epoch: number; why: string } | null; lastBad: number }); },
    } as (typeof hooks)[number]);
    ctx.log.info(`${sizes.join('→')} [${activations.join(', ')}], ${tr.data.n} train / ${va.data.n} val / ${te.data.n} test rows; ${p.optimizer}, lr ${p.lr}${p.use_hebbian ? `, Hebbian α ${p.hebbian_alpha} γ ${p.hebbian_decay}` : ''}${p.use_meta ? ', meta-tuner' : ''}${p.multi_task ? `, multi-task w ${p.mt_weight}` : ''}; backend ${backend}`);
    const t0 = Date.now();
    const res = await fit(step, {
      data: { mode: 'minibatch', rows: tr.data.n, batchSize: p.batch_size },
      maxEpochs: p.epochs,
      rng: ctx.rng,
      schedules: { lr: p.lr, alpha: p.hebbian_alpha },
      hooks,
      best: p.restore_best ? { monitor: 'val_loss' } : null,
      snapshots: { every: p.snapshot_every },
      signal: ctx.signal, resume: ctx.checkpoint,
      progress: (q) => ctx.progress(q),
      describe: (r) => `val_loss ${r.eval.val_loss!.toFixed(4)} · val_acc ${r.eval.val_accuracy!.toFixed(3)}`,
    });
    const trainMs = Date.now() - t0;
    // the seed's "best" epoch (lowest val loss) is reported either way; with restore_best it is what is tested
    let bestEpoch = -1, bestVal = Infinity;
    for (const r of res.curves) if ((r.eval.val_loss ?? NaN) < bestVal) { bestVal = r.eval.val_loss!; bestEpoch = r.epoch; }
    const dv = diverged as { epoch: number; why: string } | null;
    // scored as the seed's loop scores: the restored best-validation weights (restore_best), else the
    // last weights; unscored only when no epoch had a finite validation loss
    const scored = p.restore_best ? bestEpoch >= 0 : res.curves.length > 0;
    const raw = scored ? H.evaluateNet(net, te.data, p.mt_weight) : null;
    const fin = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
    const test = raw ? { accuracy: raw.accuracy, bce: fin(raw.bce), mse: fin(raw.mse), loss: fin(raw.loss) } : null;
    // the loss blew up (again) after the epoch whose weights are tested
    const divergedAfterBest = dv && p.restore_best && bestEpoch >= 0 && bestEpoch < lastBad ? 1 : 0;

    const rows = res.curves.map((r) => {
      const f = flatten(r);
      return {
        epoch: r.epoch + 1, train_loss: f.full_train_loss!, val_loss: f.val_loss!, lr: f.lr!, hebbian_alpha: f.alpha!,
        ...Object.fromEntries(net.W.map((_, i) => [`wnorm_l${i}`, f[`wnorm_l${i}`]!])),
        running_train_loss: f.train_loss!, val_bce: f.val_bce!, val_accuracy: f.val_accuracy!, ...(p.multi_task ? { val_mse: f.val_mse! } : {}),
        best: r.epoch === bestEpoch ? 1 : 0, diverged: dv && r.epoch === dv.epoch ? 1 : 0,
      };
    });
    await writeTable(ctx.output('curves').path, curvesTable(rows));
    // the seed's columns, then `diverged` (1 on the epoch a run blew up)
    const csvCols = ['timestamp', 'epoch', 'train_loss', 'val_loss', 'lr', 'hebbian_alpha', ...net.W.map((_, i) => `wnorm_l${i}`), 'diverged'];
    const stamp = new Date().toISOString();
    await ctx.output('log').writeText([csvCols.join(','), ...rows.map((r) => csvCols.map((c) => (c === 'timestamp' ? stamp : String((r as Record<string, number>)[c]))).join(','))].join('\n') + '\n');
    await ctx.output('model').writeJSON({ format: 'pipe-hebbian-mlp/1', sizes, activations, W: net.W.map((w) => Array.from(w)), b: net.b.map((b) => Array.from(b)), tested: p.restore_best ? `best epoch ${bestEpoch + 1}` : 'last epoch' });
    const arrays: Record<string, { data: Float32Array; shape: number[] }> = {};
    net.W.forEach((w, i) => { arrays[`W${i}`] = { data: w, shape: [sizes[i + 1]!, sizes[i]!] }; arrays[`b${i}`] = { data: net.b[i]!, shape: [sizes[i + 1]!] }; });
    await ctx.output('weights').writeBuffer(npzBytes(arrays));
    await writeTable(ctx.output('snapshots').path, snapshotTable(res.snapshots, Object.fromEntries(Object.entries(arrays).map(([k, v]) => [k, v.shape]))));
    const tuned = res.events.filter((e) => e.name === 'lr' || e.name === 'alpha');
    const metrics = {
      // scored from the tested weights (best with restore_best) even when the loss blew up later;
      // null only without any finite validation loss (aggregate counts only the numbers)
      test: { accuracy: test?.accuracy ?? null, bce: test?.bce ?? null, ...(p.multi_task ? { mse: test?.mse ?? null, loss: test?.loss ?? null } : {}), diverged: dv ? 1 : 0, diverged_after_best: divergedAfterBest },
      diverged: dv ? 1 : 0,
      diverged_after_best: divergedAfterBest,
      scored: test ? 1 : 0,
      diverged_epoch: dv ? dv.epoch + 1 : null,
      last_diverged_epoch: dv ? lastBad + 1 : null,
      diverged_reason: dv?.why ?? null,
      best_epoch: bestEpoch + 1,
      best_val_loss: bestVal,
      tested_weights: p.restore_best ? 'best' : 'last',
      epochs_run: res.epochsRun,
      final_lr: res.curves.at(-1)?.settings.lr ?? p.lr,
      final_alpha: res.curves.at(-1)?.settings.alpha ?? p.hebbian_alpha,
      meta: p.use_meta ? { trials: trials.length, choices: res.curves.map((r) => ({ epoch: r.epoch + 1, lr: r.settings.lr, alpha: r.settings.alpha })) } : null,
      settings_changed: tuned.length,
      train_ms: trainMs,
      backend,
      rows: { train: tr.data.n, val: va.data.n, test: te.data.n },
    };
    await ctx.output('metrics').writeJSON(metrics);
    return { metrics: { test_accuracy: test?.accuracy ?? null, test_bce: test?.bce ?? null, best_epoch: bestEpoch + 1, diverged: dv ? 1 : 0, diverged_after_best: divergedAfterBest } };
  },
});
