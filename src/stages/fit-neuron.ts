/**
 * `fit-neuron`: the §C playground model fitted to a (x, y) table — seed-systems.md §C.
 *
 *   fit:
 *     kind: fit-neuron
 *     matrix: { polynomial: [linear_pos, …], activation: [tanh, relu, sigmoid, leaky_relu, sine, identity] }
 *     inputs: { data: data.table }               # generate-synthetic, generator playground
 *     params:
 *       model: { type: neuron, activation: '${matrix.activation}' }   # or sigmoid1 / mlp (hidden: [8])
 *       training: { optimizer: gd, lr: 0.002, epochs: 1000, halving_every: 250, snapshot_every: 25 }
 *       init: { stream: seed-order }             # default: independent (this stage's seed)
 *
 * Models: `neuron` ŷ = v·f(wx + b) + c (f ∈ tanh, relu, sigmoid, leaky_relu, sine, identity),
 * `sigmoid1` ŷ = σ(wx) (sigmoid_explore.py), `mlp` 1 → hidden… → 1 with f on the hidden layers.
 * Training: full-batch GD with the seed's hand-written gradients (src/lib/ml/neuron.ts), or
 * Adam; LR halving and best-parameter tracking exactly as §C.2 (src/lib/ml/neuron-train.ts, on
 * the kit's `fit` loop).
 *
 * Init: every parameter ~ N(0, std²). `stream: independent` draws from this stage's seed;
 * `stream: seed-order` reproduces the seed's scheme — one generator seeded `seed` (42) consumed
 * across all runs in the seed's order (polynomials outer, activations inner), so a run takes the
 * draws at its `position` (default: the index of its polynomial × activation in `order`).
 * `rng: numpy` draws from NumPy's `default_rng(seed)` (PCG64 + ziggurat, src/lib/random/numpy.ts),
 * the seed's own stream: with seed-order it reproduces the §C.4 table (test/ml/neuron-numpy.test.ts);
 * `rng: pipe` (the default) uses pipe's xoroshiro128+ / Box–Muller — the same scheme, other numbers.
 *
 * Global optimum (neuron models): the dense (w, b) grid of §C.4 with (v, c) in closed form.
 *
 * Outputs: `metrics` (best/final MSE, Var(y), parameters, optimum and the gap), `curves` (per
 * epoch: lr, train_loss = loss before the update, mse after it), `snapshots` (snapshot, updates,
 * the parameters, mse), `fit` (the true curve, the GD fit and the optimum on `dense_points`
 * points, long format: x, y, curve; a `notes` column with the box text), `frames` (per snapshot
 * the prediction on `frame_points` points plus the true curve with a null snapshot, and the box
 * text per snapshot) — for the `plot` template `fit` and the `animation` kind.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';
import { NEURON_ACTIVATIONS } from '../lib/ml/neuron.js';
import { POLYNOMIAL_NAMES } from '../lib/ml/polynomials.js';

const gridAxis = { type: 'array', items: [{ type: 'number' }, { type: 'number' }, { type: 'integer', minimum: 2 }], minItems: 3, maxItems: 3 } as const;

export const fitNeuronParamsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        type: { enum: ['neuron', 'sigmoid1', 'mlp'], default: 'neuron' },
        activation: { enum: [...NEURON_ACTIVATIONS], default: 'tanh', description: 'f (neuron, mlp hidden layers)' },
        hidden: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 256 }, minItems: 1, default: [8], description: 'mlp: hidden layer sizes' },
        leaky_slope: { type: 'number', default: 0.01 },
      },
    },
    training: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        optimizer: { enum: ['gd', 'adam'], default: 'gd' },
        lr: { type: 'number', exclusiveMinimum: 0, default: 0.002 },
        epochs: { type: 'integer', minimum: 1, maximum: 10000000, default: 1000 },
        halving_every: { type: 'integer', minimum: 0, default: 250, description: 'LR halving check period P (0 = off)' },
        halving_window: { type: 'integer', minimum: 1, default: 50 },
        lr_min: { type: 'number', minimum: 0, default: 1e-5 },
        snapshot_every: { type: 'integer', minimum: 1, default: 25 },
        beta1: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.9 },
        beta2: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.999 },
        eps: { type: 'number', exclusiveMinimum: 0, default: 1e-8 },
      },
    },
    init: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        stream: { enum: ['independent', 'seed-order'], default: 'independent' },
        rng: { enum: ['pipe', 'numpy'], default: 'pipe', description: "numpy: NumPy's default_rng (PCG64, ziggurat normals) as the seed scripts draw; pipe: pipe's Rng" },
        std: { type: 'number', exclusiveMinimum: 0, default: 0.5 },
        seed: { type: 'integer', default: 42, description: 'seed-order: the shared generator\'s seed' },
        position: { type: 'integer', minimum: 0, description: 'seed-order: runs before this one (default: from order)' },
        order: {
          type: 'object', additionalProperties: false, default: {},
          properties: {
            polynomials: { type: 'array', items: { type: 'string' }, default: [...POLYNOMIAL_NAMES] },
            activations: { type: 'array', items: { type: 'string' }, default: [...NEURON_ACTIVATIONS] },
          },
        },
      },
    },
    optimum: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        enabled: { type: 'boolean', default: true, description: 'neuron models: dense-grid global optimum (§C.4)' },
        w: { ...gridAxis, default: [-6, 6, 481] },
        b: { ...gridAxis, default: [-8, 8, 641] },
      },
    },
    dense_points: { type: 'integer', minimum: 2, default: 600 },
    frame_points: { type: 'integer', minimum: 2, default: 120, description: 'points of the curves in each GIF frame' },
  },
} as const;

export type FitNeuronParams = FromSchema<typeof fitNeuronParamsSchema>;

export default defineStage<FitNeuronParams>({
  kind: 'fit-neuron',
  version: '1',
  description: 'Single-neuron / σ(wx) / tiny-MLP fit of a 1-D target by full-batch GD or Adam (§C), with the grid global optimum',
  paramsSchema: fitNeuronParamsSchema,
  inputs: { data: { type: 'table', description: 'columns x and y (generate-synthetic playground; its polynomial is read from the metadata)' } },
  outputs: {
    metrics: { type: 'json' },
    curves: { type: 'table', description: 'per epoch: lr, train_loss (before the update), mse (after)' },
    snapshots: { type: 'table', description: 'snapshot, updates, parameters, mse' },
    fit: { type: 'table', description: 'x, y, curve (true / GD fit / optimum), notes' },
    frames: { type: 'table', description: 'snapshot, x, y, curve, notes: one prediction per snapshot + the true curve' },
  },
  async run(ctx) {
    const p = ctx.params;
    const { readTable, numericColumn, tableMeta, makeTable, numericVector, stringVector, writeTable } = await import('../sdk/table.js');
    const nm = await import('../lib/ml/neuron.js');
    const { evalPolynomial, formula } = await import('../lib/ml/polynomials.js');
    const { trainPlayground } = await import('../lib/ml/neuron-train.js');
    const { Rng } = await import('../sdk/rng.js');
    const { NumpyGenerator } = await import('../lib/random/numpy.js');
    const { curvesTable } = await import('../lib/ml/kit/snapshots.js');

    const table = await readTable(ctx.input('data').path);
    const x = numericColumn(table, 'x').values, y = numericColumn(table, 'y').values;
    if (x.length < 2) throw new Error(`fit-neuron: the data table has ${x.length} rows; at least 2 needed`);
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!) || !Number.isFinite(y[i]!)) throw new Error(`fit-neuron: row ${i} has a missing or non-finite x/y`);
    const gen = (tableMeta(table).generator ?? {}) as { polynomial?: string; coefficients?: { a: number; b: number; c: number; d: number; form?: 'cubic' | 'square' } };
    const polyName = gen.polynomial ?? String(ctx.matrix.polynomial ?? 'data');
    const poly = gen.coefficients ? { ...gen.coefficients, form: gen.coefficients.form ?? (polyName === 'quartic_w' ? 'square' as const : 'cubic' as const) } : null;

    const m = p.model;
    const act = nm.activation(m.activation, m.leaky_slope);
    const model = m.type === 'neuron' ? nm.neuronModel(act) : m.type === 'sigmoid1' ? nm.sigmoid1Model() : nm.mlpModel(act, m.hidden);
    const k = model.names.length;

    // init
    const init = new Float64Array(k);
    let position: number | null = null;
    if (p.init.stream === 'seed-order') {
      position = p.init.position ?? null;
      if (position === null) {
        const pi = p.init.order.polynomials.indexOf(polyName), ai = p.init.order.activations.indexOf(m.activation);
        if (pi < 0) throw new Error(`fit-neuron: init.stream seed-order: polynomial '${polyName}' is not in init.order.polynomials (${p.init.order.polynomials.join(', ')}); give init.position`);
        if (ai < 0) throw new Error(`fit-neuron: init.stream seed-order: activation '${m.activation}' is not in init.order.activations; give init.position`);
        position = pi * p.init.order.activations.length + ai;
      }
      const g = p.init.rng === 'numpy' ? new NumpyGenerator(p.init.seed) : new Rng(p.init.seed);
      for (let i = 0; i < position * k; i++) g.normal();
      for (let i = 0; i < k; i++) init[i] = g.normal(0, p.init.std);
    } else {
      const g = p.init.rng === 'numpy' ? new NumpyGenerator(ctx.seed >>> 0) : ctx.rng.fork('init');
      for (let i = 0; i < k; i++) init[i] = g.normal(0, p.init.std);
    }

    const t = p.training;
    const res = await trainPlayground(model, init, x, y, {
      optimizer: t.optimizer, lr: t.lr, epochs: t.epochs, halvingEvery: t.halving_every, halvingWindow: t.halving_window, lrMin: t.lr_min,
      snapshotEvery: t.snapshot_every, beta1: t.beta1, beta2: t.beta2, eps: t.eps, signal: ctx.signal, resume: ctx.checkpoint,
      progress: (q) => ctx.progress({ done: q.done, total: q.total + (m.type === 'neuron' && p.optimum.enabled ? Math.ceil(q.total / 2) : 0), message: q.message }),
    });

    // global optimum over the (w, b) grid with closed-form (v, c)
    let optimum: { w: number; b: number; v: number; c: number; mse: number } | null = null;
    if (m.type === 'neuron' && p.optimum.enabled) {
      const grid = { w: p.optimum.w as unknown as [number, number, number], b: p.optimum.b as unknown as [number, number, number] };
      const rows = grid.w[2];
      const land = nm.wbLandscape(m.activation, x, y, grid, (i) => {
        if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
        if (i % 40 === 0) ctx.progress({ done: t.epochs + Math.ceil((t.epochs / 2) * (i / rows)), total: t.epochs + Math.ceil(t.epochs / 2), message: 'optimum grid' });
      }, m.leaky_slope);
      optimum = nm.gridOptimum(land);
    }

    const varY = nm.variance(y);
    const xmin = Math.min(...x), xmax = Math.max(...x);
    const dense = nm.linspace(xmin, xmax, p.dense_points);
    const fmt = (v: number) => v.toFixed(4);
    const boxLines = (params: Float64Array, pred: Float64Array) => {
      let lo = Infinity, hi = -Infinity;
      for (const v of pred) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      const named = model.kind === 'mlp' ? [`hidden=[${m.hidden.join(',')}]`, `params=${k}`] : model.names.map((n, i) => `${n}=${fmt(params[i]!)}`);
      return [`x∈[${xmin.toFixed(2)},${xmax.toFixed(2)}]`, ...named, `ŷ∈[${lo.toFixed(2)},${hi.toFixed(2)}]`].join('\n');
    };

    // fit table: true curve, GD fit, optimum
    const fx: number[] = [], fy: number[] = [], fc: string[] = [], fnotes: (string | null)[] = [];
    const pred = new Float64Array(dense.length);
    model.predict(res.params, dense, pred);
    const gdLabel = `${m.type === 'neuron' ? m.activation : m.type === 'mlp' ? `mlp ${m.activation}` : 'σ(wx)'} ${t.optimizer === 'gd' ? 'GD' : 'Adam'} (MSE=${res.bestMse.toFixed(4)})`;
    if (poly) for (const xv of dense) { fx.push(xv); fy.push(evalPolynomial(poly, xv)); fc.push('true polynomial'); fnotes.push(null); }
    dense.forEach((xv, i) => { fx.push(xv); fy.push(pred[i]!); fc.push(gdLabel); fnotes.push(null); });
    if (optimum) {
      const opt = nm.neuronModel(act), op = Float64Array.of(optimum.w, optimum.b, optimum.v, optimum.c), o = new Float64Array(dense.length);
      opt.predict(op, dense, o);
      dense.forEach((xv, i) => { fx.push(xv); fy.push(o[i]!); fc.push(`global optimum (MSE=${optimum!.mse.toFixed(4)})`); fnotes.push(null); });
    }
    fnotes[0] = boxLines(res.params, pred);
    await writeTable(ctx.output('fit').path, makeTable({
      x: numericVector('float64', fx), y: numericVector('float64', fy), curve: stringVector(fc), notes: stringVector(fnotes),
    }, { polynomial: polyName, formula: poly ? formula(poly) : null }));

    // frames: the prediction per snapshot (+ the true curve in every frame)
    const fr = nm.linspace(xmin, xmax, p.frame_points);
    const sx: number[] = [], sy: number[] = [], sc: string[] = [], ss: (number | null)[] = [], sn: (string | null)[] = [];
    if (poly) for (const xv of fr) { sx.push(xv); sy.push(evalPolynomial(poly, xv)); sc.push('true polynomial'); ss.push(null); sn.push(null); }
    const predF = new Float64Array(fr.length);
    const trainingLabel = `${m.type === 'neuron' ? m.activation : m.type === 'mlp' ? `mlp ${m.activation}` : 'σ(wx)'} (training)`;
    res.snapshots.forEach((s, si) => {
      model.predict(s.params, fr, predF);
      fr.forEach((xv, i) => { sx.push(xv); sy.push(predF[i]!); sc.push(trainingLabel); ss.push(si); sn.push(i === 0 ? boxLines(s.params, predF) : null); });
    });
    await writeTable(ctx.output('frames').path, makeTable({
      snapshot: numericVector('int32', ss.map((v) => v ?? 0), ss.map((v) => v !== null)), x: numericVector('float64', sx), y: numericVector('float64', sy),
      curve: stringVector(sc), notes: stringVector(sn),
    }));

    // snapshots and curves
    const snapCols: Record<string, ReturnType<typeof numericVector>> = {
      snapshot: numericVector('int32', res.snapshots.map((_, i) => i)),
      updates: numericVector('int32', res.snapshots.map((s) => s.updates)),
    };
    if (model.kind !== 'mlp') model.names.forEach((n, j) => { snapCols[n] = numericVector('float64', res.snapshots.map((s) => s.params[j]!)); });
    snapCols.mse = numericVector('float64', res.snapshots.map((s) => s.mse));
    await writeTable(ctx.output('snapshots').path, makeTable(snapCols, { parameters: model.names }));
    await writeTable(ctx.output('curves').path, curvesTable(res.curves));

    const named = (arr: Float64Array, prefix = '') => (model.kind === 'mlp' ? {} : Object.fromEntries(model.names.map((n, i) => [prefix + n, arr[i]!])));
    const metrics = {
      polynomial: polyName, activation: m.type === 'sigmoid1' ? 'sigmoid' : m.activation, model: m.type, optimizer: t.optimizer,
      init_stream: p.init.stream, init_rng: p.init.rng, init_position: position, epochs: t.epochs, lr: t.lr, lr_final: res.lrFinal, halvings: res.halvings,
      best_mse: res.bestMse, best_updates: res.bestUpdates, final_mse: res.finalMse, var_y: varY,
      constant_only: res.bestMse >= 0.99 * varY,
      ...named(res.params), ...named(res.init, 'init_'),
      optimum_mse: optimum?.mse ?? null, optimum_w: optimum?.w ?? null, optimum_b: optimum?.b ?? null, optimum_v: optimum?.v ?? null, optimum_c: optimum?.c ?? null,
      gap: optimum ? res.bestMse - optimum.mse : null,
      snapshots: res.snapshots.length, parameters: k,
    };
    await ctx.output('metrics').writeJSON(metrics);
    return { metrics: { best_mse: res.bestMse, final_mse: res.finalMse, var_y: varY, optimum_mse: optimum?.mse ?? null, snapshots: res.snapshots.length } };
  },
});
