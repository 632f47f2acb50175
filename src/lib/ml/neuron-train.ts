/**
 * Training of the §C playground models on the kit's loop (`fit`, kit/loop.ts) with a
 * typed-array step: full batch (all points in one step), the loss computed before the update
 * (`train_loss`, what the seed logs), `mse` of the parameters after it (`evaluate`), plain
 * gradient descent (`sgd`, θ ← θ − lr·g as the seed) or Adam, the §C.2 LR halving
 * (`plateauHalving`) and best-parameter tracking over the states the seed scores: the initial
 * one and every state before an update (`initialEval`, `scoreLast: false`), restored at the end.
 * Snapshots: the initial state, every `snapshotEvery` updates and the final state — the seed's
 * epochs 0, N, 2N, … before their update plus the final parameters.
 */
import { fit, flatten, type FitResult, type TrainStep } from './kit/loop.js';
import { plateauHalving } from './kit/hooks.js';
import { Optimizer, param } from './kit/optimizers.js';
import type { PlaygroundModel } from './neuron.js';

export interface PlaygroundTraining {
  optimizer: 'gd' | 'adam';
  lr: number;
  epochs: number;
  /** LR halving period P (0 = off), window, floor. */
  halvingEvery: number;
  halvingWindow: number;
  lrMin: number;
  snapshotEvery: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  signal?: AbortSignal;
  progress?: (p: { done: number; total: number; message?: string }) => void;
  /** Resume checkpoints (the stage's ctx.checkpoint). */
  resume?: import('../../sdk/stage.js').Checkpointer;
}

export interface PlaygroundFit {
  /** The restored (best) parameters. */
  params: Float64Array;
  init: Float64Array;
  bestMse: number;
  /** Updates before the best state (0 = the initial parameters). */
  bestUpdates: number;
  /** MSE of the parameters after the last update. */
  finalMse: number;
  snapshots: { updates: number; params: Float64Array; mse: number }[];
  curves: Record<string, number>[];
  lrFinal: number;
  halvings: number;
  result: FitResult;
}

class PlaygroundStep implements TrainStep<Float64Array> {
  readonly theta;
  readonly opt: Optimizer;
  constructor(readonly model: PlaygroundModel, init: Float64Array, readonly x: Float64Array, readonly y: Float64Array, t: PlaygroundTraining) {
    this.theta = param('theta', Float64Array.from(init));
    this.opt = new Optimizer([t.optimizer === 'adam'
      ? { rule: 'adam', params: [this.theta], beta1: t.beta1 ?? 0.9, beta2: t.beta2 ?? 0.999, eps: t.eps ?? 1e-8 }
      : { rule: 'sgd', params: [this.theta] }]);
  }
  get p(): Float64Array { return this.theta.value as Float64Array; }
  step(_b: unknown, s: Readonly<Record<string, number>>) {
    const loss = this.model.lossGrad(this.p, this.x, this.y, this.theta.grad as Float64Array);
    this.opt.step(s.lr!);
    return { loss };
  }
  evaluate() { return { mse: this.model.lossGrad(this.p, this.x, this.y) }; }
  checkpoint() { return Float64Array.from(this.p); }
  restore(c: Float64Array) { this.p.set(c); }
  snapshot() { return { theta: Float64Array.from(this.p) }; }
  state() { return { theta: Float64Array.from(this.p), opt: this.opt.state() }; }
  setState(s: unknown) {
    const v = s as { theta: Float64Array; opt: import('./kit/optimizers.js').OptimizerState };
    this.p.set(v.theta);
    this.opt.setState(v.opt);
  }
}

export async function trainPlayground(model: PlaygroundModel, init: Float64Array, x: Float64Array, y: Float64Array, t: PlaygroundTraining): Promise<PlaygroundFit> {
  if (init.length !== model.names.length) throw new Error(`init has ${init.length} values, the ${model.kind} model ${model.names.length} parameters`);
  const step = new PlaygroundStep(model, init, x, y, t);
  const res = await fit(step, {
    data: { mode: 'full', rows: x.length },
    maxEpochs: t.epochs,
    schedules: { lr: t.lr },
    hooks: t.halvingEvery > 0 ? [plateauHalving({ every: t.halvingEvery, window: t.halvingWindow, min: t.lrMin })] : [],
    best: { monitor: 'mse', scoreLast: false },
    initialEval: true,
    snapshots: { every: t.snapshotEvery },
    finite: ['train_loss'],
    signal: t.signal,
    resume: t.resume,
    progress: t.progress,
    describe: (r) => `loss ${r.train.loss!.toPrecision(4)}`,
  });
  const scratch = new Float64Array(init.length);
  const snapshots = res.snapshots.map((s) => {
    const params = Float64Array.from(s.values.theta as Float64Array);
    scratch.set(params);
    return { updates: s.step, params, mse: model.lossGrad(scratch, x, y) };
  });
  const last = res.curves.at(-1)!;
  return {
    params: Float64Array.from(step.p),
    init: Float64Array.from(init),
    bestMse: res.bestValue,
    bestUpdates: res.bestEpoch + 1,
    finalMse: last.eval.mse!,
    snapshots,
    curves: res.curves.map(flatten),
    lrFinal: last.settings.lr!,
    halvings: res.events.filter((e) => e.name === 'lr').length,
    result: res,
  };
}
