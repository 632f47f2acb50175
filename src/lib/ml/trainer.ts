/**
 * The MLP of the ActMix seed (§A.3, §A.4) on the kit's loop (src/lib/ml/kit/loop.ts): per
 * epoch e the LR (cosine), temperature T(e) and entropy weight λ(e) are schedules; the training
 * rows are shuffled with the seeded Rng; per batch L = L_task + λ(e)·H̄ (ActMix only), global-norm
 * clipping, AdamW. After each epoch the validation loss (task loss only) and metrics; early
 * stopping on val_loss (patience, min_delta) and the best checkpoint (weights and its T) is
 * restored at the end.
 *
 * `fitMlp` drives a `TrainStep` of an Mlp: `TfMlpStep` here (TF.js: data uploaded once, batches
 * are tf.gather's of an index slice, gradients by tf.variableGrads, losses accumulated on the
 * device), or `NativeMlpStep` (src/lib/ml/blas/trainer.ts: one C call per batch). `trainMlp` /
 * `trainMlpNative` are the two entry points. Deterministic given the Rng: init, shuffles and
 * dropout masks all come from forks of it.
 */
import type * as TF from '@tensorflow/tfjs';
import type { Rng } from '../../sdk/rng.js';
import { AdamW, clipByGlobalNorm, type Tf } from './optim.js';
import { epochSchedule } from './schedules.js';
import { regressionMetrics, scoreProbabilities, softmaxRows } from './metrics.js';
import type { Mlp } from './mlp.js';
import { fit, type EpochLog, type TrainStep, type Batch, type Settings, type Values, type Hook, type SettingChange, type Snapshot } from './kit/loop.js';
import { patience } from './kit/stopping.js';
import { crossEntropy, mse, mat, type Loss } from './kit/losses.js';

export interface TrainConfig {
  max_epochs: number;
  batch_size: number;
  lr: number;
  weight_decay: number;
  /** Global L2 norm for gradient clipping (0 = off). */
  grad_clip: number;
  /** Early-stopping patience in epochs (0 = no early stopping). */
  patience: number;
  min_delta: number;
  /** η_min = lr · eta_min_ratio. */
  eta_min_ratio: number;
  /** Cosine period in epochs (default max_epochs). */
  t_max?: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const DEFAULT_TRAIN: TrainConfig = {
  max_epochs: 200, batch_size: 128, lr: 1e-3, weight_decay: 1e-4, grad_clip: 0.5, patience: 20, min_delta: 0,
  eta_min_ratio: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8,
};

export interface Dataset {
  /** Row-major n × d. */
  X: Float32Array;
  n: number;
  d: number;
  /** Class indices or regression targets. */
  y: Float64Array;
}

export interface EpochRecord {
  epoch: number;
  lr: number;
  temperature: number;
  entropy_weight: number;
  /** Batch-size-weighted mean task loss over the epoch. */
  train_loss: number;
  train_total_loss: number;
  val_loss: number;
  /** Mean ActMix entropy H̄ at the end of the epoch (NaN without ActMix). */
  mean_entropy: number;
  /** Validation metrics (accuracy, roc_auc, … or rmse, r2, …). */
  val: Record<string, number>;
}

export interface TrainOptions {
  task: 'classification' | 'regression';
  /** Number of classes (classification). */
  numClasses?: number;
  config: TrainConfig;
  rng: Rng;
  /** Regression only: train on (y − mean)/std; predictions are mapped back. */
  targetScale?: { mean: number; std: number };
  signal?: AbortSignal;
  /** Resume checkpoints (the stage's ctx.checkpoint). */
  resume?: import('../../sdk/stage.js').Checkpointer;
  onEpoch?: (r: EpochRecord) => void | Promise<void>;
  /** Hooks of the kit's loop (they may change lr, temperature, entropy_weight for what follows). */
  hooks?: Hook[];
  /**
   * ActMix: keep the mixing logits of every layer and the temperature before training, every
   * `snapshotEvery` epochs and after the last epoch (`TrainResult.snapshots`; 0/absent = none).
   */
  snapshotEvery?: number;
}

export interface TrainResult {
  curves: EpochRecord[];
  bestEpoch: number;
  bestValLoss: number;
  /** ActMix temperature of the restored checkpoint. */
  bestTemperature: number;
  epochsRun: number;
  /** ActMix state over training (see TrainOptions.snapshotEvery): values `temperature` [T], `logits_<l>` [F·K]. */
  snapshots?: Snapshot[];
  stoppedEarly: boolean;
  /** Settings changed by hooks (empty without hooks). */
  events?: SettingChange[];
}

export interface Evaluation {
  /** Output of the network: class probabilities (n × C) or predictions in target units (n). */
  probs?: Float64Array;
  pred: Float64Array;
  /** Task loss in the training space (CE, or MSE on the possibly standardized target). */
  loss: number;
  metrics: Record<string, number>;
}

/** Outputs of `model` on `data` plus loss and metrics (classification or regression). */
export function evaluate(tf: Tf, model: Mlp, data: Dataset, opts: Pick<TrainOptions, 'task' | 'numClasses' | 'targetScale'>, Xt?: TF.Tensor2D): Evaluation {
  const X = Xt ?? tf.tensor2d(data.X, [data.n, data.d]);
  const out = model.predict(X);
  if (!Xt) X.dispose();
  return evaluateOutputs(out, data, opts);
}

/** Loss and metrics from network outputs (logits, or scaled regression outputs). */
export function evaluateOutputs(out: Float32Array, data: Dataset, opts: Pick<TrainOptions, 'task' | 'numClasses' | 'targetScale'>): Evaluation {
  const n = data.n;
  if (opts.task === 'classification') {
    const C = opts.numClasses ?? 2;
    const probs = softmaxRows(out, n, C);
    const loss = crossEntropy().value(mat(out, n, C), mat(data.y, n)); // float64: logsumexp − logit_y
    return { probs, loss, ...scoreProbabilities(data.y, probs, C) };
  }
  const s = opts.targetScale ?? { mean: 0, std: 1 };
  const pred = Float64Array.from(out, (v) => v * s.std + s.mean);
  const loss = mse().value(mat(out, n), mat(scaledTargets(data, s), n));
  return { pred, loss, metrics: regressionMetrics(data.y, pred) as unknown as Record<string, number> };
}

/** Regression targets in the training space, (y − mean)/std (float64). */
export function scaledTargets(data: Dataset, s: { mean: number; std: number } = { mean: 0, std: 1 }): Float64Array {
  return Float64Array.from(data.y, (v) => (v - s.mean) / s.std);
}

/** Mean ActMix entropy H̄ over layers (NaN without ActMix layers). */
export function meanEntropy(layers: { entropy: ArrayLike<number>; F: number }[]): number {
  if (!layers.length) return NaN;
  let a = 0;
  for (const l of layers) {
    let h = 0;
    for (let f = 0; f < l.entropy.length; f++) h += l.entropy[f]!;
    a += h / l.F;
  }
  return a / layers.length;
}

/** What an MLP step logs after an epoch: val_loss, mean_entropy, val_<metric>. */
export function mlpEval(ev: Evaluation, entropy: number): Values {
  const rec: Record<string, number> = { val_loss: ev.loss, mean_entropy: entropy };
  for (const [k, v] of Object.entries(ev.metrics)) rec[`val_${k}`] = v;
  return rec;
}

function toRecord(r: EpochLog): EpochRecord {
  const val: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.eval)) if (k.startsWith('val_') && k !== 'val_loss') val[k.slice(4)] = v;
  return {
    epoch: r.epoch, lr: r.settings.lr!, temperature: r.settings.temperature!, entropy_weight: r.settings.entropy_weight!,
    train_loss: r.train.loss!, train_total_loss: r.train.total_loss!, val_loss: r.eval.val_loss!, mean_entropy: r.eval.mean_entropy!, val,
  };
}

/** A snapshot's values: `temperature` [T] and `logits_<l>` (F·K, row-major) per ActMix layer (copies). */
export function actmixSnapshot(T: number, logits: ArrayLike<number>[]): Record<string, ArrayLike<number>> {
  const v: Record<string, ArrayLike<number>> = { temperature: Float32Array.of(T) };
  logits.forEach((lg, l) => { v[`logits_${l}`] = Float32Array.from(lg); });
  return v;
}

/** The curve-table row of an epoch: the EpochRecord's fields in order, val metrics as val_<k>. */
export function curveRow(r: EpochRecord): Record<string, number> {
  const { val, ...rest } = r;
  const row: Record<string, number> = { ...rest };
  for (const [k, v] of Object.entries(val)) row[`val_${k}`] = v;
  return row;
}

/**
 * The ActMix seed's training protocol for an MLP step on the kit's loop: cosine LR, T(e), λ(e)
 * (epochSchedule), shuffled minibatches, val_loss monitored (min_delta) with best-checkpoint
 * restore, patience, divergence check; returns the result with the MLP's EpochRecords. The
 * model's temperature ends at the restored checkpoint's T.
 */
export async function fitMlp<C>(model: Mlp, step: TrainStep<C>, rows: number, opts: TrainOptions): Promise<TrainResult> {
  const cfg = { ...DEFAULT_TRAIN, ...opts.config };
  const am = model.spec.actmix;
  const t0 = model.temperature;
  const res = await fit(step, {
    data: { mode: 'minibatch', rows, batchSize: cfg.batch_size },
    maxEpochs: cfg.max_epochs,
    rng: opts.rng,
    schedules: {
      lr: (e) => epochSchedule(e, cfg, am).lr,
      temperature: (e) => epochSchedule(e, cfg, am).temperature,
      entropy_weight: (e) => epochSchedule(e, cfg, am).entropyWeight,
    },
    best: { monitor: 'val_loss', minDelta: cfg.min_delta },
    stop: patience({ monitor: 'val_loss', patience: cfg.patience, minDelta: cfg.min_delta }),
    finite: ['train_loss'],
    signal: opts.signal,
    resume: opts.resume,
    hooks: opts.hooks,
    snapshots: am && opts.snapshotEvery ? { every: opts.snapshotEvery } : undefined,
    onEpoch: opts.onEpoch ? (r) => opts.onEpoch!(toRecord(r)) : undefined,
  });
  const bestTemperature = res.bestSettings?.temperature ?? t0;
  if (res.bestSettings) model.temperature = bestTemperature;
  return { curves: res.curves.map(toRecord), bestEpoch: res.bestEpoch, bestValLoss: res.bestValue, bestTemperature, epochsRun: res.epochsRun, stoppedEarly: res.stoppedEarly, events: res.events, ...(res.snapshots.length ? { snapshots: res.snapshots } : {}) };
}

/** The TF.js implementation of the MLP step (forward, tf.variableGrads, clipping, AdamW on the device). */
export class TfMlpStep implements TrainStep<TF.Tensor[]> {
  private readonly Xt: TF.Tensor2D;
  private readonly Yt: TF.Tensor2D;
  private readonly Xv: TF.Tensor2D;
  private readonly accTask: TF.Variable;
  private readonly accTotal: TF.Variable;
  private readonly opt: AdamW;
  private readonly dropoutRng: Rng;
  private readonly loss: Loss;
  private permT: TF.Tensor1D | null = null;
  private readonly cfg: TrainConfig;

  constructor(private tf: Tf, private model: Mlp, private train: Dataset, private val: Dataset, private opts: TrainOptions) {
    this.cfg = { ...DEFAULT_TRAIN, ...opts.config };
    const C = opts.task === 'classification' ? (opts.numClasses ?? 2) : 1;
    const n = train.n;
    const scale = opts.targetScale ?? { mean: 0, std: 1 };
    this.dropoutRng = opts.rng.fork('dropout');
    this.loss = opts.task === 'classification' ? crossEntropy() : mse();
    // upload once
    this.Xt = tf.tensor2d(train.X, [n, train.d]);
    this.Yt = tf.tidy(() => {
      if (opts.task === 'classification') return tf.oneHot(tf.tensor1d(Int32Array.from(train.y), 'int32'), C).toFloat();
      return tf.tensor2d(Float32Array.from(train.y, (v) => (v - scale.mean) / scale.std), [n, 1]);
    }) as TF.Tensor2D;
    this.Xv = tf.tensor2d(val.X, [val.n, val.d]);
    this.accTask = tf.tidy(() => tf.variable(tf.scalar(0), false));
    this.accTotal = tf.tidy(() => tf.variable(tf.scalar(0), false));
    this.opt = new AdamW(tf, model.variables, { beta1: this.cfg.beta1, beta2: this.cfg.beta2, eps: this.cfg.eps, weightDecay: this.cfg.weight_decay });
  }

  beginEpoch(_epoch: number, s: Settings): void {
    const tf = this.tf;
    this.model.temperature = s.temperature!;
    tf.tidy(() => { this.accTask.assign(tf.zerosLike(this.accTask)); this.accTotal.assign(tf.zerosLike(this.accTotal)); });
  }

  step(b: Batch, s: Settings): void {
    const tf = this.tf, model = this.model;
    if (b.index === 0) this.permT = tf.tensor1d(b.perm!, 'int32');
    const T = s.temperature!, lam = s.entropy_weight!, lr = s.lr!;
    const seeds = Array.from({ length: model.spec.hidden.length }, () => this.dropoutRng.int(0, 2 ** 31 - 2));
    tf.tidy(() => {
      const idx = tf.slice(this.permT!, [b.start], [b.size]);
      const xb = tf.gather(this.Xt, idx) as TF.Tensor2D;
      const yb = tf.gather(this.Yt, idx) as TF.Tensor2D;
      const kept: { task?: TF.Scalar } = {};
      const { value, grads } = tf.variableGrads(() => {
        const { out, entropy } = model.forward(xb, { training: true, temperature: T, dropoutSeeds: seeds });
        const task = this.loss.tf!(tf, out, yb);
        kept.task = tf.keep(tf.clone(task));
        return entropy && lam !== 0 ? (tf.add(task, tf.mul(entropy, lam)) as TF.Scalar) : task;
      }, model.variables);
      const gl = model.variables.map((v) => grads[v.name]!);
      const clipped = clipByGlobalNorm(tf, gl, this.cfg.grad_clip);
      this.opt.apply(clipped.grads, lr);
      this.accTask.assign(tf.add(this.accTask, tf.mul(kept.task!, b.size)));
      this.accTotal.assign(tf.add(this.accTotal, tf.mul(value, b.size)));
      kept.task!.dispose();
    });
  }

  endEpoch(): Values {
    this.permT?.dispose();
    this.permT = null;
    const n = this.train.n;
    return { loss: this.accTask.dataSync()[0]! / n, total_loss: this.accTotal.dataSync()[0]! / n };
  }

  evaluate(_epoch: number, s: Settings): Values {
    const ev = evaluate(this.tf, this.model, this.val, this.opts, this.Xv);
    return mlpEval(ev, meanEntropy(this.model.actmixState(s.temperature)));
  }

  /** ActMix state for the loop's snapshot log: T and the raw logits of every layer. */
  snapshot(): Record<string, ArrayLike<number>> {
    return actmixSnapshot(this.model.temperature, this.model.actmixLogits().map((v) => v.dataSync() as Float32Array));
  }

  checkpoint(): TF.Tensor[] { return this.model.snapshot(); }
  restore(c: TF.Tensor[]): void { this.model.restore(c); }
  release(c: TF.Tensor[]): void { c.forEach((t) => t.dispose()); }
  encodeCheckpoint(c: TF.Tensor[]): unknown { return c.map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync() as Float32Array) })); }
  decodeCheckpoint(s: unknown): TF.Tensor[] { return (s as { shape: number[]; data: Float32Array }[]).map((x) => this.tf.tensor(x.data, x.shape, 'float32')); }

  /** Resume: the variables, AdamW's moments and step counter, the dropout stream. */
  state(): unknown {
    return { vars: this.model.variables.map((v) => Float32Array.from(v.dataSync() as Float32Array)), opt: this.opt.state(), dropout: this.dropoutRng.getState() };
  }

  setState(s: unknown): void {
    const v = s as { vars: Float32Array[]; opt: ReturnType<AdamW['state']>; dropout: import('../../sdk/rng.js').RngState };
    const tf = this.tf;
    this.model.variables.forEach((x, i) => tf.tidy(() => x.assign(tf.tensor(v.vars[i]!, x.shape, 'float32'))));
    this.opt.setState(v.opt);
    this.dropoutRng.setState(v.dropout);
  }

  dispose(): void {
    this.permT?.dispose();
    this.tf.dispose([this.Xt, this.Yt, this.Xv, this.accTask, this.accTotal]);
    this.opt.dispose();
  }
}

export async function trainMlp(tf: Tf, model: Mlp, train: Dataset, val: Dataset, opts: TrainOptions): Promise<TrainResult> {
  const step = new TfMlpStep(tf, model, train, val, opts);
  try {
    return await fitMlp(model, step, train.n, opts);
  } finally {
    step.dispose();
  }
}
