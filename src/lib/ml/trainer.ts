/**
 * The training loop of the ActMix seed (§A.3, §A.4), written out by hand on TF.js:
 * per epoch e the LR (cosine), temperature T(e) and entropy weight λ(e) are set; the training
 * rows are shuffled with the seeded Rng; per batch L = L_task + λ(e)·H̄ (ActMix only), gradients
 * by tf.variableGrads, global-norm clipping, AdamW. After each epoch the validation loss (task
 * loss only) and metrics are computed; early stopping on val_loss (patience, min_delta) and the
 * best checkpoint (weights and its T) is restored at the end.
 *
 * Data is uploaded once; batches are tf.gather's of an index slice (no per-batch JS copies).
 * Deterministic given the Rng: init, shuffles and dropout masks all come from forks of it.
 */
import type * as TF from '@tensorflow/tfjs';
import type { Rng } from '../rng.js';
import { AdamW, clipByGlobalNorm, type Tf } from './optim.js';
import { epochSchedule } from './schedules.js';
import { classificationMetrics, regressionMetrics, softmaxRows } from './metrics.js';
import type { Mlp } from './mlp.js';

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
  onEpoch?: (r: EpochRecord) => void | Promise<void>;
}

export interface TrainResult {
  curves: EpochRecord[];
  bestEpoch: number;
  bestValLoss: number;
  /** ActMix temperature of the restored checkpoint. */
  bestTemperature: number;
  epochsRun: number;
  stoppedEarly: boolean;
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
    const pred = new Float64Array(n);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < C; k++) if (probs[i * C + k]! > probs[i * C + best]!) best = k;
      pred[i] = best;
      // CE from logits in float64: logsumexp − logit_y
      let m = -Infinity;
      for (let k = 0; k < C; k++) m = Math.max(m, out[i * C + k]!);
      let z = 0;
      for (let k = 0; k < C; k++) z += Math.exp(out[i * C + k]! - m);
      loss += m + Math.log(z) - out[i * C + data.y[i]!]!;
    }
    const metrics = classificationMetrics(data.y, probs, C) as unknown as Record<string, number>;
    return { probs, pred, loss: loss / n, metrics };
  }
  const s = opts.targetScale ?? { mean: 0, std: 1 };
  const pred = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    pred[i] = out[i]! * s.std + s.mean;
    const r = out[i]! - (data.y[i]! - s.mean) / s.std;
    loss += r * r;
  }
  return { pred, loss: loss / n, metrics: regressionMetrics(data.y, pred) as unknown as Record<string, number> };
}

/**
 * Early stopping on the validation loss with best-checkpoint bookkeeping (Lightning's
 * EarlyStopping + ModelCheckpoint, mode min): shared by the TF.js and native trainers so they
 * stop and restore at the same epoch.
 */
export class EarlyStopping {
  best = Infinity;
  bestEpoch = -1;
  bestTemperature: number;
  stoppedEarly = false;
  private wait = 0;
  constructor(private cfg: Pick<TrainConfig, 'patience' | 'min_delta'>, temperature: number) {
    this.bestTemperature = temperature;
  }
  /** Records an epoch; true when it is the new best (take a snapshot then). */
  improved(epoch: number, valLoss: number, temperature: number): boolean {
    if (valLoss < this.best - this.cfg.min_delta) {
      this.best = valLoss;
      this.bestEpoch = epoch;
      this.bestTemperature = temperature;
      this.wait = 0;
      return true;
    }
    this.wait++;
    return false;
  }
  /** Patience exhausted (call after `improved`)? */
  shouldStop(): boolean {
    if (this.cfg.patience > 0 && this.wait >= this.cfg.patience) this.stoppedEarly = true;
    return this.stoppedEarly;
  }
  result(curves: EpochRecord[]): TrainResult {
    return { curves, bestEpoch: this.bestEpoch, bestValLoss: this.best, bestTemperature: this.bestTemperature, epochsRun: curves.length, stoppedEarly: this.stoppedEarly };
  }
}

export async function trainMlp(tf: Tf, model: Mlp, train: Dataset, val: Dataset, opts: TrainOptions): Promise<TrainResult> {
  const cfg = { ...DEFAULT_TRAIN, ...opts.config };
  const C = opts.task === 'classification' ? (opts.numClasses ?? 2) : 1;
  const scale = opts.targetScale ?? { mean: 0, std: 1 };
  const shuffleRng = opts.rng.fork('shuffle');
  const dropoutRng = opts.rng.fork('dropout');
  const am = model.spec.actmix;
  const n = train.n;
  const L = model.spec.hidden.length;

  // upload once
  const Xt = tf.tensor2d(train.X, [n, train.d]);
  const Yt = tf.tidy(() => {
    if (opts.task === 'classification') return tf.oneHot(tf.tensor1d(Int32Array.from(train.y), 'int32'), C).toFloat();
    return tf.tensor2d(Float32Array.from(train.y, (v) => (v - scale.mean) / scale.std), [n, 1]);
  });
  const Xv = tf.tensor2d(val.X, [val.n, val.d]);
  const accTask = tf.tidy(() => tf.variable(tf.scalar(0), false));
  const accTotal = tf.tidy(() => tf.variable(tf.scalar(0), false));
  const opt = new AdamW(tf, model.variables, { beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weight_decay });
  const curves: EpochRecord[] = [];
  const es = new EarlyStopping(cfg, model.temperature);
  let bestSnap: TF.Tensor[] | null = null;
  const perm = new Int32Array(n);

  const lossFn = (out: TF.Tensor2D, yb: TF.Tensor2D): TF.Scalar =>
    opts.task === 'classification'
      ? (tf.neg(tf.mean(tf.sum(tf.mul(yb, tf.logSoftmax(out)), 1))) as TF.Scalar)
      : (tf.mean(tf.square(tf.sub(out, yb))) as TF.Scalar);

  try {
    for (let epoch = 0; epoch < cfg.max_epochs; epoch++) {
      const { lr, temperature: T, entropyWeight: lam } = epochSchedule(epoch, cfg, am);
      model.temperature = T;
      for (let i = 0; i < n; i++) perm[i] = i;
      shuffleRng.shuffle(perm);
      const permT = tf.tensor1d(perm, 'int32');
      tf.tidy(() => { accTask.assign(tf.zerosLike(accTask)); accTotal.assign(tf.zerosLike(accTotal)); });
      for (let s = 0; s < n; s += cfg.batch_size) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
        const bs = Math.min(cfg.batch_size, n - s);
        const seeds = Array.from({ length: L }, () => dropoutRng.int(0, 2 ** 31 - 2));
        tf.tidy(() => {
          const idx = tf.slice(permT, [s], [bs]);
          const xb = tf.gather(Xt, idx) as TF.Tensor2D;
          const yb = tf.gather(Yt, idx) as TF.Tensor2D;
          const kept: { task?: TF.Scalar } = {};
          const { value, grads } = tf.variableGrads(() => {
            const { out, entropy } = model.forward(xb, { training: true, temperature: T, dropoutSeeds: seeds });
            const task = lossFn(out, yb);
            kept.task = tf.keep(tf.clone(task));
            return entropy && lam !== 0 ? (tf.add(task, tf.mul(entropy, lam)) as TF.Scalar) : task;
          }, model.variables);
          const gl = model.variables.map((v) => grads[v.name]!);
          const clipped = clipByGlobalNorm(tf, gl, cfg.grad_clip);
          opt.apply(clipped.grads, lr);
          accTask.assign(tf.add(accTask, tf.mul(kept.task!, bs)));
          accTotal.assign(tf.add(accTotal, tf.mul(value, bs)));
          kept.task!.dispose();
        });
      }
      permT.dispose();
      const trainLoss = accTask.dataSync()[0]! / n;
      const trainTotal = accTotal.dataSync()[0]! / n;
      const ev = evaluate(tf, model, val, opts, Xv);
      const st = model.actmixState(T);
      const meanEntropy = st.length ? st.reduce((a, l) => a + l.entropy.reduce((x, y) => x + y, 0) / l.F, 0) / st.length : NaN;
      const rec: EpochRecord = { epoch, lr, temperature: T, entropy_weight: lam, train_loss: trainLoss, train_total_loss: trainTotal, val_loss: ev.loss, mean_entropy: meanEntropy, val: ev.metrics };
      curves.push(rec);
      if (!Number.isFinite(trainLoss)) throw new Error(`training diverged at epoch ${epoch} (train loss ${trainLoss})`);
      if (es.improved(epoch, ev.loss, T)) {
        bestSnap?.forEach((t) => t.dispose());
        bestSnap = model.snapshot();
      }
      await opts.onEpoch?.(rec);
      await new Promise((r) => setImmediate(r));
      if (es.shouldStop()) break;
    }
    if (bestSnap) {
      model.restore(bestSnap);
      model.temperature = es.bestTemperature;
    }
    return es.result(curves);
  } finally {
    bestSnap?.forEach((t) => t.dispose());
    tf.dispose([Xt, Yt, Xv, accTask, accTotal]);
    opt.dispose();
  }
}
