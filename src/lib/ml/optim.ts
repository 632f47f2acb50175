/**
 * Optimisation pieces TF.js does not have, written to match PyTorch exactly:
 *  - AdamW with decoupled weight decay (torch.optim.AdamW, amsgrad = false):
 *        θ ← θ·(1 − lr·wd);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
 *        θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
 *  - global-norm gradient clipping (torch.nn.utils.clip_grad_norm_):
 *        g ← g · min(1, c / (‖g‖₂ + 1e-6)), ‖g‖₂ over all parameters jointly
 *  - PyTorch nn.Linear init: W, b ~ U(−1/√fan_in, 1/√fan_in), drawn from the seeded Rng.
 * TF.js is passed in (imported dynamically by the caller) so this module stays cheap to import.
 * The same rules on host arrays, with parameter groups and the other optimizers of the seeds
 * (SGD, EMA momentum, Adam, per-neuron scaled SGD, hybrid): src/lib/ml/kit/optimizers.ts.
 */
import type * as TF from '@tensorflow/tfjs';
import type { Rng } from '../../sdk/rng.js';

export type Tf = typeof TF;

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  weightDecay: number;
  /** Number of steps taken (t in the bias corrections). */
  step = 0;
  private m: TF.Variable[];
  private v: TF.Variable[];

  constructor(private tf: Tf, readonly params: TF.Variable[], opts: AdamWOptions = {}) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.m = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    this.v = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  }

  /** One update with learning rate `lr`; `grads[i]` belongs to `params[i]`. Does not dispose grads. */
  apply(grads: TF.Tensor[], lr: number): void {
    const tf = this.tf;
    this.step++;
    const t = this.step;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    const stepSize = lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    const decay = 1 - lr * this.weightDecay;
    tf.tidy(() => {
      const b1 = tf.scalar(this.beta1), b1c = tf.scalar(1 - this.beta1);
      const b2 = tf.scalar(this.beta2), b2c = tf.scalar(1 - this.beta2);
      const dec = tf.scalar(decay), ss = tf.scalar(stepSize), sb = tf.scalar(sqrtBc2), eps = tf.scalar(this.eps);
      this.params.forEach((p, i) => {
        const g = grads[i]!;
        const m = this.m[i]!, v = this.v[i]!;
        const mNew = tf.add(tf.mul(m, b1), tf.mul(g, b1c));
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), b2c));
        m.assign(mNew);
        v.assign(vNew);
        const denom = tf.add(tf.div(tf.sqrt(vNew), sb), eps);
        const pDecayed = this.weightDecay !== 0 ? tf.mul(p, dec) : p;
        p.assign(tf.sub(pDecayed, tf.mul(tf.div(mNew, denom), ss)));
      });
    });
  }

  /** Resume: the step counter and the moments, copied to the host. */
  state(): { step: number; m: Float32Array[]; v: Float32Array[] } {
    return { step: this.step, m: this.m.map((x) => Float32Array.from(x.dataSync() as Float32Array)), v: this.v.map((x) => Float32Array.from(x.dataSync() as Float32Array)) };
  }

  setState(s: { step: number; m: Float32Array[]; v: Float32Array[] }): void {
    const tf = this.tf;
    this.step = s.step;
    this.m.forEach((x, i) => tf.tidy(() => x.assign(tf.tensor(s.m[i]!, x.shape, 'float32'))));
    this.v.forEach((x, i) => tf.tidy(() => x.assign(tf.tensor(s.v[i]!, x.shape, 'float32'))));
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/**
 * Clips `grads` to a global L2 norm of at most `maxNorm` (returns new tensors; the caller
 * disposes both lists) and the pre-clip norm as a scalar tensor. `maxNorm <= 0` disables.
 */
export function clipByGlobalNorm(tf: Tf, grads: TF.Tensor[], maxNorm: number): { grads: TF.Tensor[]; norm: TF.Scalar } {
  return tf.tidy(() => {
    const sq = grads.map((g) => tf.sum(tf.square(g)));
    const norm = tf.sqrt(tf.addN(sq)) as TF.Scalar;
    if (!(maxNorm > 0)) return { grads: grads.map((g) => tf.clone(g)), norm };
    const coef = tf.minimum(tf.scalar(1), tf.div(tf.scalar(maxNorm), tf.add(norm, tf.scalar(1e-6))));
    return { grads: grads.map((g) => tf.mul(g, coef)), norm };
  });
}

/** PyTorch nn.Linear init: weight [fanIn, fanOut] (TF.js layout) and bias, U(±1/√fanIn). */
export function torchLinearInit(rng: Rng, fanIn: number, fanOut: number): { W: Float32Array; b: Float32Array } {
  const bound = 1 / Math.sqrt(fanIn);
  const W = new Float32Array(fanIn * fanOut);
  // draw in PyTorch's [out, in] order, store transposed as [in, out]
  for (let o = 0; o < fanOut; o++) for (let i = 0; i < fanIn; i++) W[i * fanOut + o] = rng.uniform(-bound, bound);
  const b = new Float32Array(fanOut);
  for (let o = 0; o < fanOut; o++) b[o] = rng.uniform(-bound, bound);
  return { W, b };
}
