/**
 * `train-group`: QuadraticRNN or SequentialMLP on a `generate-group` task (§D.3–§D.5), trained by
 * the kit's one loop.
 *
 *   train:
 *     kind: train-group
 *     inputs: { task: task.task, sequences: task.sequences }
 *     params: { model: quadratic_rnn, hidden_dim: 200, optimizer: adam, lr: 0.001, num_steps: 20000 }
 *
 * Optimizers (§D.4), every step after a global-norm clip to `grad_clip` (0.1):
 *   adam        Adam(lr, β 0.9/0.999, ε 1e-8, no weight decay)
 *   per_neuron  SequentialMLP: scaled SGD, neuron i's gradients × ‖θ_i‖^(2 − degree), degree k + 1
 *   hybrid      QuadraticRNN: per-neuron scaled SGD (lr 1, factor ‖θ_i‖^scaling_factor) on
 *               W_in/W_drive/W_out, Adam(lr) on W_mix
 *   auto        per_neuron for SequentialMLP, else adam
 * `lr` defaults to 1e-3 for adam/hybrid and 1.0 for per_neuron (the seed switches a left-default
 * 1e-3 to 1.0 silently for SequentialMLP; here the default is simply per optimizer).
 * Online (task mode online): every step a fresh batch; every `log_every` steps the loss on a fresh
 * validation batch is logged. Offline: epochs of shuffled minibatches over the task's sequences,
 * the validation sequences after every epoch. Step 0 is evaluated first (initial loss); training
 * stops when 1 − val_loss/initial ≥ `reduction_threshold` (null: never). Parameters are kept every
 * `save_param_interval` steps (+ first and last) for the analysis.
 *
 * Outputs: `curves` (table: step, train_loss, val_loss), `snapshots` (table: step and the
 * parameters), `model` (JSON), `metrics` (initial/final loss, steps, the steps at which each AGF
 * plateau was passed).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';

export const trainGroupSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { enum: ['quadratic_rnn', 'sequential_mlp'], default: 'sequential_mlp' },
    hidden_dim: { type: 'integer', minimum: 1, default: 6 },
    init_scale: { type: 'number', exclusiveMinimum: 0, default: 0.01 },
    transform: { enum: ['quadratic', 'multiplicative'], default: 'quadratic', description: 'QuadraticRNN σ(u, v): (u + v)² or u ⊙ v' },
    optimizer: { enum: ['auto', 'adam', 'per_neuron', 'hybrid'], default: 'auto' },
    lr: { type: 'number', exclusiveMinimum: 0, description: 'default 1e-3 (adam, hybrid W_mix) or 1.0 (per_neuron)' },
    scaling_factor: { type: 'number', default: -3, description: 'hybrid: per-neuron factor exponent' },
    degree: { type: 'integer', minimum: 1, description: 'per_neuron: homogeneity degree (default k + 1)' },
    grad_clip: { type: 'number', minimum: 0, default: 0.1, description: 'global-norm clip before the step (0 = off)' },
    batch_size: { type: 'integer', minimum: 1, default: 1000 },
    num_steps: { type: 'integer', minimum: 1, default: 10000, description: 'online: training steps' },
    epochs: { type: 'integer', minimum: 1, default: 200, description: 'offline: epochs' },
    log_every: { type: 'integer', minimum: 1, default: 10, description: 'online: steps between validation evaluations' },
    reduction_threshold: { anyOf: [{ type: 'number', exclusiveMinimum: 0, maximum: 1 }, { type: 'null' }], default: 0.99 },
    save_param_interval: { type: 'integer', minimum: 1, default: 100, description: 'steps (online) or epochs (offline) between snapshots' },
    backend: { enum: ['auto', 'blas', 'js'], default: 'auto' },
  },
} as const;

export type TrainGroupParams = FromSchema<typeof trainGroupSchema>;

export default defineStage<TrainGroupParams>({
  kind: 'train-group',
  version: '1',
  description: 'QuadraticRNN / SequentialMLP on group composition with Adam, per-neuron or hybrid optimizers (§D)',
  paramsSchema: trainGroupSchema,
  needs: (p) => (p.backend === 'blas' ? ['blas'] : []),
  prefers: (p) => (p.backend === 'auto' ? ['blas'] : []),
  runtime: async (p) => {
    const { resolveMatBackend } = await import('../lib/ml/group-models.js');
    return { group_backend: resolveMatBackend(p.backend) };
  },
  inputs: {
    task: { type: 'json', description: 'generate-group task' },
    sequences: { type: 'table', description: 'generate-group sequences (offline)' },
  },
  outputs: {
    curves: { type: 'table', description: 'step, train_loss, val_loss (step 0: the initial evaluation)' },
    snapshots: { type: 'table', description: 'parameters every save_param_interval' },
    model: { type: 'json' },
    metrics: { type: 'json' },
  },
  async run(ctx) {
    const p = ctx.params;
    const task = await ctx.input('task').readJSON<import('./generate-group.js').GroupTask>();
    const G = await import('../lib/ml/group.js');
    const M = await import('../lib/ml/group-models.js');
    const { Optimizer, perNeuronSgd, hybrid } = await import('../lib/ml/kit/optimizers.js');
    const { fit } = await import('../lib/ml/kit/loop.js');
    const { lossReduction, never } = await import('../lib/ml/kit/stopping.js');
    const { curvesTable, snapshotTable } = await import('../lib/ml/kit/snapshots.js');
    const { readTable, writeTable } = await import('../sdk/table.js');

    const g = { dims: task.dims };
    const n = G.groupOrder(g), k = task.k;
    if (task.seq_to_seq && p.model !== 'quadratic_rnn') throw new Error('seq_to_seq targets need model quadratic_rnn');
    const backend = M.resolveMatBackend(p.backend);
    const mm = M.matmul(backend);
    const ops = M.elementOps(backend);
    const initRng = ctx.rng.fork('init');
    const model = p.model === 'quadratic_rnn'
      ? new M.QuadraticRNN(n, p.hidden_dim, k, { initScale: p.init_scale, transform: p.transform, seqToSeq: task.seq_to_seq, rng: initRng, mm, ops })
      : new M.SequentialMLP(n, p.hidden_dim, k, { initScale: p.init_scale, rng: initRng, mm, ops });
    const opt = p.optimizer === 'auto' ? (p.model === 'sequential_mlp' ? 'per_neuron' : 'adam') : p.optimizer;
    if (opt === 'per_neuron' && p.model !== 'sequential_mlp') throw new Error('optimizer per_neuron is for sequential_mlp (use hybrid for quadratic_rnn)');
    if (opt === 'hybrid' && p.model !== 'quadratic_rnn') throw new Error('optimizer hybrid is for quadratic_rnn');
    const lr = p.lr ?? (opt === 'per_neuron' ? 1.0 : 1e-3);
    const degree = p.degree ?? model.degree;
    const groups = opt === 'adam'
      ? [{ rule: 'adam' as const, params: model.params, beta1: 0.9, beta2: 0.999, eps: 1e-8 }]
      : opt === 'per_neuron'
        ? perNeuronSgd({ wIn: model.get('W_in'), wOut: model.get('W_out'), lr, degree })
        : hybrid({ wIn: model.get('W_in'), wDrive: model.get('W_drive'), wOut: model.get('W_out'), wMix: model.get('W_mix'), scalingFactor: p.scaling_factor });
    const optimizer = new Optimizer(groups, { clipNorm: p.grad_clip, kernels: M.optimizerKernels(backend) });

    const tau = Float32Array.from(task.tau);
    const online = task.mode === 'online';
    let trainSeqs: Int32Array | null = null, valSeqs: Int32Array | null = null;
    if (!online) {
      const t = await readTable(ctx.input('sequences').path);
      const seq = t.getChild('seq')!, split = t.getChild('split')!.toArray() as string[];
      const tr: number[] = [], va: number[] = [];
      for (let i = 0; i < t.numRows; i++) (split[i] === 'val' ? va : tr).push(...Array.from(seq.get(i)!.toArray() as ArrayLike<number>));
      trainSeqs = Int32Array.from(tr); valSeqs = Int32Array.from(va);
    }
    const valRng = ctx.rng.fork('val');
    const dY = new Float32Array(model.outSteps * p.batch_size * n);
    const io = { X: new Float32Array(k * p.batch_size * n), Y: new Float32Array(model.outSteps * p.batch_size * n) };
    const stepOn = (seqs: Int32Array, B: number, rate: number): number => {
      const b = G.batchOf(tau, g, seqs, B, k, task.seq_to_seq, model.layout, io);
      const yhat = model.forward(b.X, B);
      const loss = ops.mse(yhat, b.Y, dY.subarray(0, b.Y.length));
      model.backward(dY.subarray(0, b.Y.length), B);
      optimizer.step(rate);
      return loss;
    };
    const lossOn = (seqs: Int32Array, B: number): number => {
      const b = G.batchOf(tau, g, seqs, B, k, task.seq_to_seq, model.layout, io);
      return ops.mse(model.forward(b.X, B), b.Y);
    };
    const step = {
      step(batch: import('../lib/ml/kit/loop.js').Batch, s: import('../lib/ml/kit/loop.js').Settings) {
        if (online) return { loss: stepOn(G.randomSeqs(batch.rng!, g, batch.size, k), batch.size, s.lr!) };
        const seqs = new Int32Array(batch.size * k);
        for (let r = 0; r < batch.size; r++) seqs.set(trainSeqs!.subarray(batch.perm![batch.start + r]! * k, (batch.perm![batch.start + r]! + 1) * k), r * k);
        return { loss: stepOn(seqs, batch.size, s.lr!) };
      },
      evaluate() {
        if (online) return { val_loss: lossOn(G.randomSeqs(valRng, g, p.batch_size, k), p.batch_size) };
        // the validation set in batches
        const nv = valSeqs!.length / k;
        let s = 0;
        for (let a = 0; a < nv; a += p.batch_size) { const B = Math.min(p.batch_size, nv - a); s += lossOn(valSeqs!.subarray(a * k, (a + B) * k), B) * B; }
        return { val_loss: s / nv };
      },
      checkpoint: () => model.params.map((q) => q.value.slice()),
      restore: (c: (Float32Array | Float64Array)[]) => model.params.forEach((q, i) => q.value.set(c[i]!)),
      snapshot: () => Object.fromEntries(model.params.map((q) => [q.name, q.value.slice()])),
      // resume: parameters, the optimizer's moments and step counter, the validation stream
      state: () => ({ params: model.params.map((q) => q.value.slice()), opt: optimizer.state(), val: valRng.getState() }),
      setState(st: unknown) {
        const v = st as { params: (Float32Array | Float64Array)[]; opt: import('../lib/ml/kit/optimizers.js').OptimizerState; val: import('../sdk/rng.js').RngState };
        model.params.forEach((q, i) => q.value.set(v.params[i]!));
        optimizer.setState(v.opt);
        valRng.setState(v.val);
      },
    };
    const steps = online ? p.num_steps : Math.ceil((trainSeqs!.length / k) / p.batch_size) * p.epochs;
    const stepsPerLog = online ? p.log_every : Math.ceil((trainSeqs!.length / k) / p.batch_size);
    ctx.log.info(`${p.model} d = ${p.hidden_dim} on C_${task.dims.join('×C_')}, k = ${k}; ${opt} lr ${lr}${opt === 'per_neuron' ? ` degree ${degree}` : opt === 'hybrid' ? ` scaling ${p.scaling_factor}` : ''}, clip ${p.grad_clip}; ${online ? `online, ${p.num_steps} steps` : `offline, ${p.epochs} epochs`}; backend ${backend}`);
    const t0 = Date.now();
    const res = await fit(step, {
      data: online ? { mode: 'online', batchSize: p.batch_size, stepsPerEpoch: p.log_every } : { mode: 'minibatch', rows: trainSeqs!.length / k, batchSize: p.batch_size },
      maxEpochs: online ? Math.ceil(p.num_steps / p.log_every) : p.epochs,
      rng: ctx.rng,
      schedules: { lr },
      initialEval: true,
      stop: p.reduction_threshold === null ? never() : lossReduction({ monitor: 'val_loss', threshold: p.reduction_threshold }),
      snapshots: { every: p.save_param_interval, unit: online ? 'step' : 'epoch' },
      finite: ['train_loss', 'val_loss'],
      signal: ctx.signal, resume: ctx.checkpoint,
      progress: (q) => ctx.progress(q),
      describe: (r) => `step ${r.step}/${steps} · val_loss ${r.eval.val_loss!.toPrecision(4)}`,
    });
    const ms = Date.now() - t0;
    const init = res.initial!.val_loss!;
    const rows = [{ step: 0, train_loss: init, val_loss: init }, ...res.curves.map((r) => ({ step: r.step, train_loss: r.train.loss!, val_loss: r.eval.val_loss! }))];
    await writeTable(ctx.output('curves').path, curvesTable(rows));
    const shapes = Object.fromEntries(model.params.map((q) => [q.name, [...q.shape]]));
    await writeTable(ctx.output('snapshots').path, snapshotTable(res.snapshots, shapes));
    await ctx.output('model').writeJSON({ format: 'pipe-group-model/1', model: p.model, n, d: p.hidden_dim, k, transform: p.transform, params: Object.fromEntries(model.params.map((q) => [q.name, { shape: q.shape, values: Array.from(q.value) }])) });
    // the step at which the loss first fell below the midpoint between consecutive AGF levels
    const L = task.levels;
    const passed = L.slice(1).map((lv, m) => {
      const mid = (L[m]! + lv) / 2;
      return rows.find((r) => r.val_loss < mid)?.step ?? null;
    });
    const metrics = {
      model: p.model, optimizer: opt, lr, scaling_factor: opt === 'hybrid' ? p.scaling_factor : null, degree: opt === 'per_neuron' ? degree : null, hidden_dim: p.hidden_dim, k, backend,
      initial_loss: init, final_loss: rows.at(-1)!.val_loss, L0: L[0], levels: L,
      loss_reduction: 1 - rows.at(-1)!.val_loss / init,
      steps: res.steps, stopped_early: res.stoppedEarly, stop_reason: res.stopReason,
      steps_to_level: passed, plateaus_passed: passed.filter((x) => x !== null).length,
      // flat copies for aggregate (one number per plateau; null when not reached)
      ...Object.fromEntries(passed.map((s, m) => [`steps_to_L${m + 1}`, s])),
      steps_per_s: res.steps / (ms / 1000), train_ms: ms,
    };
    await ctx.output('metrics').writeJSON(metrics);
    return { metrics: { final_loss: metrics.final_loss, steps: res.steps, plateaus_passed: metrics.plateaus_passed, steps_per_s: metrics.steps_per_s } };
  },
});
