/**
 * Losses as values. Each `Loss` computes, in float64 on host arrays, the mean loss of a batch
 * of network outputs and (where it has a closed form) its gradient with respect to the outputs;
 * most also carry a TF.js form for autograd and the code of the fused native MLP step.
 *
 *  - `crossEntropy()`  softmax CE from logits; target = class index per row.
 *                      L = mean_i [logsumexp(z_i) − z_{i,y_i}];  ∂L/∂z = (softmax(z) − onehot(y)) / n
 *  - `bceWithLogits()` stable form max(z,0) − z·y + log(1 + e^{−|z|}), mean over entries (§E.3);
 *                      ∂L/∂z = (σ(z) − y) / (n·k)
 *  - `mse({half})`     mean over entries of (ŷ − y)², or ½ of it (§E.3's convention);
 *                      ∂L/∂ŷ = 2(ŷ − y)/(n·k), or (ŷ − y)/(n·k) with half
 *  - `weighted(terms)` Σ w_t · L_t(columns of the output, columns of the target): multi-task
 *                      heads (§E.6: BCE on head 0 + w·½MSE on head 1)
 *  - `infomax({lambdaTc, eps})` unsupervised, from a batch's activations A (n × K), §B.2:
 *                      L = −Σ_j log v_j + λ_tc ‖R − I‖²_F, v_j = unbiased var of column j + ε,
 *                      R = ÂᵀÂ/(n−1), Â = centred A / √v (value on host; gradient by the TF.js form)
 * Outputs and targets are row-major matrices `{data, rows, cols}`.
 */
import type * as TF from '@tensorflow/tfjs';

export type Tf = typeof TF;

export interface Mat {
  data: ArrayLike<number>;
  rows: number;
  cols: number;
}

export interface Loss {
  readonly name: string;
  /** Mean loss of the batch (float64). `target` is null for unsupervised losses. */
  value(out: Mat, target: Mat | null): number;
  /** ∂value/∂out, shaped like `out`. */
  grad?(out: Mat, target: Mat | null): Float64Array;
  /** The same loss on TF.js tensors (for tf.variableGrads); `target` shaped for the loss (one-hot for CE). */
  tf?(tf: Tf, out: TF.Tensor2D, target: TF.Tensor2D | null): TF.Scalar;
  /** Task code of the fused native MLP step (src/lib/ml/blas/trainer.ts), where it has one. */
  readonly native?: 'classification' | 'regression' | 'bce';
}

export const mat = (data: ArrayLike<number>, rows: number, cols = 1): Mat => ({ data, rows, cols });

function need(target: Mat | null, name: string): Mat {
  if (!target) throw new Error(`${name} needs a target`);
  return target;
}

/** log Σ_k exp(z[at + k]) for k < C, shifted by the maximum. */
function logSumExp(z: ArrayLike<number>, at: number, C: number): number {
  let m = -Infinity;
  for (let k = 0; k < C; k++) m = Math.max(m, z[at + k]!);
  let s = 0;
  for (let k = 0; k < C; k++) s += Math.exp(z[at + k]! - m);
  return m + Math.log(s);
}

export function crossEntropy(): Loss {
  return {
    name: 'cross_entropy',
    native: 'classification',
    value(out, target) {
      const y = need(target, 'cross_entropy').data;
      const { data: z, rows: n, cols: C } = out;
      let loss = 0;
      for (let i = 0; i < n; i++) loss += logSumExp(z, i * C, C) - z[i * C + y[i]!]!;
      return loss / n;
    },
    grad(out, target) {
      const y = need(target, 'cross_entropy').data;
      const { data: z, rows: n, cols: C } = out;
      const g = new Float64Array(n * C);
      for (let i = 0; i < n; i++) {
        const lse = logSumExp(z, i * C, C);
        for (let k = 0; k < C; k++) g[i * C + k] = (Math.exp(z[i * C + k]! - lse) - (k === y[i] ? 1 : 0)) / n;
      }
      return g;
    },
    tf: (tf, out, onehot) => tf.neg(tf.mean(tf.sum(tf.mul(onehot!, tf.logSoftmax(out)), 1))) as TF.Scalar,
  };
}

/** A loss that is the mean over all entries of f(out, target), with ∂/∂out = f'(out, target) / (n·k). */
function elementwise(name: string, f: (p: number, y: number) => number, df: (p: number, y: number) => number): Omit<Loss, 'tf'> {
  return {
    name,
    value(out, target) {
      const y = need(target, name).data;
      const p = out.data, N = out.rows * out.cols;
      let loss = 0;
      for (let i = 0; i < N; i++) loss += f(p[i]!, y[i]!);
      return loss / N;
    },
    grad(out, target) {
      const y = need(target, name).data;
      const p = out.data, N = out.rows * out.cols;
      const g = new Float64Array(N);
      for (let i = 0; i < N; i++) g[i] = df(p[i]!, y[i]!) / N;
      return g;
    },
  };
}

export function bceWithLogits(): Loss {
  return {
    ...elementwise('bce_with_logits', (z, y) => Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z))), (z, y) => 1 / (1 + Math.exp(-z)) - y),
    native: 'bce',
    tf: (tf, z, y) => tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, y!)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))))) as TF.Scalar,
  };
}

export function mse(o: { half?: boolean } = {}): Loss {
  const base = o.half
    ? elementwise('half_mse', (p, y) => 0.5 * (p - y) * (p - y), (p, y) => p - y)
    : { ...elementwise('mse', (p, y) => { const r = p - y; return r * r; }, (p, y) => 2 * (p - y)), native: 'regression' as const };
  return {
    ...base,
    tf: (tf, out, y) => {
      const m = tf.mean(tf.square(tf.sub(out, y!))) as TF.Scalar;
      return o.half ? (tf.mul(m, 0.5) as TF.Scalar) : m;
    },
  };
}

function columns(m: Mat, [a, b]: readonly [number, number]): Mat {
  const w = b - a;
  const d = new Float64Array(m.rows * w);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < w; j++) d[i * w + j] = m.data[i * m.cols + a + j]!;
  return { data: d, rows: m.rows, cols: w };
}

export interface Term {
  loss: Loss;
  weight: number;
  /** Output columns [from, to) of this head, and the target columns [from, to) it is scored against. */
  out: readonly [number, number];
  target: readonly [number, number];
}

export function weighted(terms: Term[]): Loss {
  return {
    name: terms.map((t) => `${t.weight}·${t.loss.name}`).join(' + '),
    value(out, target) {
      const t = need(target, 'weighted');
      return terms.reduce((a, x) => a + x.weight * x.loss.value(columns(out, x.out), columns(t, x.target)), 0);
    },
    grad(out, target) {
      const t = need(target, 'weighted');
      const g = new Float64Array(out.rows * out.cols);
      for (const x of terms) {
        if (!x.loss.grad) throw new Error(`${x.loss.name} has no gradient`);
        const gx = x.loss.grad(columns(out, x.out), columns(t, x.target));
        const w = x.out[1] - x.out[0];
        for (let i = 0; i < out.rows; i++) for (let j = 0; j < w; j++) g[i * out.cols + x.out[0] + j] += x.weight * gx[i * w + j]!;
      }
      return g;
    },
  };
}

export function infomax(o: { lambdaTc?: number; eps?: number } = {}): Loss {
  const lam = o.lambdaTc ?? 1, eps = o.eps ?? 1e-6;
  return {
    name: 'infomax',
    value(A) {
      const { data: a, rows: n, cols: K } = A;
      const mean = new Float64Array(K), v = new Float64Array(K);
      for (let i = 0; i < n; i++) for (let j = 0; j < K; j++) mean[j] += a[i * K + j]! / n;
      for (let i = 0; i < n; i++) for (let j = 0; j < K; j++) v[j] += (a[i * K + j]! - mean[j]!) ** 2;
      let lh = 0;
      for (let j = 0; j < K; j++) { v[j] = v[j]! / (n - 1) + eps; lh -= Math.log(v[j]!); }
      let tc = 0;
      for (let p = 0; p < K; p++) for (let q = 0; q < K; q++) {
        let r = 0;
        for (let i = 0; i < n; i++) r += (a[i * K + p]! - mean[p]!) * (a[i * K + q]! - mean[q]!);
        r /= (n - 1) * Math.sqrt(v[p]! * v[q]!);
        tc += (r - (p === q ? 1 : 0)) ** 2;
      }
      return lh + lam * tc;
    },
    tf: (tf, A) => tf.tidy(() => {
      const n = A.shape[0], K = A.shape[1];
      const c = tf.sub(A, tf.mean(A, 0, true));
      const v = tf.add(tf.div(tf.sum(tf.square(c), 0), n - 1), eps);
      const lh = tf.neg(tf.sum(tf.log(v)));
      const ah = tf.div(c, tf.sqrt(v));
      const R = tf.div(tf.matMul(ah, ah, true, false), n - 1);
      const tc = tf.sum(tf.square(tf.sub(R, tf.eye(K))));
      return tf.add(lh, tf.mul(tc, lam)) as TF.Scalar;
    }),
  };
}
