/**
 * The InfoMax single layer of the seed-systems reference §B: model, loss, metrics and the two
 * training steps the kit's `fit` loop drives.
 *
 *   z = W x + b (W: K×n Xavier-uniform U(±√(6/(n+K))), b = 0), h = f(z), a = postSoftmax ? softmax(h) : h
 *   f ∈ identity, relu, leaky_relu (slope 0.01), softmax (over the K units), tanh, softplus (β = 1)
 *   (and sigmoid, the logistic of Bell & Sejnowski 1995 — an extra, not in the seed's sweep)
 *
 * Loss (§B.2) of a batch A (N×K): L = L_H + λ_tc·L_TC + λ_wr·L_WR with L_H = −Σ_j log v_j
 * (v_j unbiased variance + ε), L_TC = ‖R − I‖²_F (R = correlation of the columns, built from
 * √v) or the exact Gaussian −½ log det(R + δI) (`tc: 'logdet'`), L_WR = ‖ŴŴᵀ − I‖²_F
 * (rows of W normalised by ‖w‖ + 1e-8). Logged per batch: total, entropy (L_H), tc (L_TC), wr
 * (L_WR), all before the update.
 *
 *  - `lossValue`      the loss in float64 on host arrays (tests, finite differences)
 *  - `tfLoss`         the same on TF.js tensors (autodiff); log det through a custom gradient
 *  - `metrics`        §B.5 (both effective-rank forms, redundancy, dead units, output
 *                     correlation, variance ratio, max average responsibility, activation mean/std)
 *  - `TfInfomaxStep`  a `TrainStep`: TF.js autodiff + the kit's host `Optimizer` (Adam torch form / SGD)
 *  - `NativeInfomaxStep` the same step in one C call per batch (native/pb_infomax.c, hand-derived
 *                     gradients), for the `blas` backend
 */
import type * as TF from '@tensorflow/tfjs';
import type { Rng } from '../../sdk/rng.js';
import type { Batch, Settings, TrainStep, Values } from './kit/loop.js';

/** The six of §B.1, and the logistic sigmoid (Bell & Sejnowski's g; not in the seed's sweep). */
export const INFOMAX_ACTIVATIONS = ['identity', 'relu', 'leaky_relu', 'softmax', 'tanh', 'softplus', 'sigmoid'] as const;
export type InfomaxActivation = (typeof INFOMAX_ACTIVATIONS)[number];

export interface InfomaxSpec {
  n: number;
  K: number;
  activation: InfomaxActivation;
  postSoftmax: boolean;
  leakySlope: number;
  lambdaTc: number;
  lambdaWr: number;
  tc: 'frobenius' | 'logdet';
  /** variance ε of §B.2 */
  eps: number;
  /** δ of −½ log det(R + δI) */
  delta: number;
}

export const defaultSpec = (n: number, K: number, activation: InfomaxActivation, o: Partial<InfomaxSpec> = {}): InfomaxSpec => ({
  n, K, activation, postSoftmax: false, leakySlope: 0.01, lambdaTc: 1, lambdaWr: 0, tc: 'frobenius', eps: 1e-6, delta: 1e-6, ...o,
});

export interface Params { W: Float32Array; b: Float32Array }

/** Xavier-uniform W (K×n, row-major), zero b. */
export function xavierInit(n: number, K: number, rng: Rng): Params {
  const a = Math.sqrt(6 / (n + K));
  const W = new Float32Array(K * n);
  for (let i = 0; i < W.length; i++) W[i] = rng.uniform(-a, a);
  return { W, b: new Float32Array(K) };
}

// ---------------------------------------------------------------- host math (float64)

function softmaxRow(x: Float64Array, at: number, K: number): void {
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = Math.max(m, x[at + k]!);
  let s = 0;
  for (let k = 0; k < K; k++) { x[at + k] = Math.exp(x[at + k]! - m); s += x[at + k]!; }
  for (let k = 0; k < K; k++) x[at + k] = x[at + k]! / s;
}

/** Activations a (rows×K, float64) of `rows` rows of X (row-major, n wide). */
export function forwardHost(spec: InfomaxSpec, p: { W: ArrayLike<number>; b: ArrayLike<number> }, X: ArrayLike<number>, rows: number): Float64Array {
  const { n, K } = spec;
  const A = new Float64Array(rows * K);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < K; k++) {
      let z = p.b[k]!;
      for (let j = 0; j < n; j++) z += p.W[k * n + j]! * X[i * n + j]!;
      let h: number;
      switch (spec.activation) {
        case 'identity': case 'softmax': h = z; break;
        case 'relu': h = z > 0 ? z : 0; break;
        case 'leaky_relu': h = z > 0 ? z : spec.leakySlope * z; break;
        case 'tanh': h = Math.tanh(z); break;
        case 'softplus': h = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)); break;
        case 'sigmoid': h = 1 / (1 + Math.exp(-z)); break;
      }
      A[i * K + k] = h;
    }
    if (spec.activation === 'softmax') softmaxRow(A, i * K, K);
    if (spec.postSoftmax) softmaxRow(A, i * K, K);
  }
  return A;
}

/** ln det of a symmetric positive definite matrix (Cholesky); NaN if it is not. */
function logDetSpd(M: Float64Array, K: number): number {
  const L = new Float64Array(K * K);
  let ld = 0;
  for (let j = 0; j < K; j++) {
    let s = M[j * K + j]!;
    for (let k = 0; k < j; k++) s -= L[j * K + k]! ** 2;
    if (!(s > 0)) return NaN;
    const ljj = Math.sqrt(s);
    L[j * K + j] = ljj;
    ld += 2 * Math.log(ljj);
    for (let i = j + 1; i < K; i++) {
      let t = M[i * K + j]!;
      for (let k = 0; k < j; k++) t -= L[i * K + k]! * L[j * K + k]!;
      L[i * K + j] = t / ljj;
    }
  }
  return ld;
}

/** Column means, centred copy, unbiased variances of A (N×K). */
function columnStats(A: ArrayLike<number>, N: number, K: number) {
  const mean = new Float64Array(K), v = new Float64Array(K), c = new Float64Array(N * K);
  for (let i = 0; i < N; i++) for (let j = 0; j < K; j++) mean[j] += A[i * K + j]!;
  for (let j = 0; j < K; j++) mean[j] = mean[j]! / N;
  for (let i = 0; i < N; i++) for (let j = 0; j < K; j++) { const x = A[i * K + j]! - mean[j]!; c[i * K + j] = x; v[j] += x * x; }
  for (let j = 0; j < K; j++) v[j] = v[j]! / (N - 1);
  return { mean, v, c };
}

/** ‖D (cᵀc) D/(N−1) − I‖²_F for D = diag(1/scale_j), and the matrix itself. */
function correlation(c: Float64Array, N: number, K: number, scale: Float64Array): { R: Float64Array; off: number } {
  const R = new Float64Array(K * K);
  let off = 0;
  for (let p = 0; p < K; p++) for (let q = p; q < K; q++) {
    let s = 0;
    for (let i = 0; i < N; i++) s += c[i * K + p]! * c[i * K + q]!;
    const r = s / ((N - 1) * scale[p]! * scale[q]!);
    R[p * K + q] = r; R[q * K + p] = r;
    const e = r - (p === q ? 1 : 0);
    off += p === q ? e * e : 2 * e * e;
  }
  return { R, off };
}

/** ‖ŴŴᵀ − I‖²_F with rows normalised by ‖w_j‖ + eps (§B.5's weight redundancy; the L_WR term). */
export function weightRedundancy(W: ArrayLike<number>, K: number, n: number, eps = 1e-8): number {
  const Wn = new Float64Array(K * n);
  for (let j = 0; j < K; j++) {
    let r = 0;
    for (let k = 0; k < n; k++) r += W[j * n + k]! ** 2;
    const d = Math.sqrt(r) + eps;
    for (let k = 0; k < n; k++) Wn[j * n + k] = W[j * n + k]! / d;
  }
  let s = 0;
  for (let p = 0; p < K; p++) for (let q = 0; q < K; q++) {
    let g = 0;
    for (let k = 0; k < n; k++) g += Wn[p * n + k]! * Wn[q * n + k]!;
    s += (g - (p === q ? 1 : 0)) ** 2;
  }
  return s;
}

export interface LossParts { total: number; entropy: number; tc: number; wr: number }

/** §B.2 in float64 from the activations of a batch (and W for the L_WR term). */
export function lossValue(spec: InfomaxSpec, A: ArrayLike<number>, N: number, W: ArrayLike<number>): LossParts {
  const K = spec.K;
  const { v, c } = columnStats(A, N, K);
  let entropy = 0;
  const sd = new Float64Array(K);
  for (let j = 0; j < K; j++) { const vj = v[j]! + spec.eps; entropy -= Math.log(vj); sd[j] = Math.sqrt(vj); }
  const { R, off } = correlation(c, N, K, sd);
  let tc = off;
  if (spec.tc === 'logdet') {
    for (let j = 0; j < K; j++) R[j * K + j] = R[j * K + j]! + spec.delta;
    tc = -0.5 * logDetSpd(R, K);
  }
  const wr = weightRedundancy(W, K, spec.n);
  return { total: entropy + spec.lambdaTc * tc + spec.lambdaWr * wr, entropy, tc, wr };
}

// ---------------------------------------------------------------- metrics (§B.5)

/** Eigenvalues of a symmetric K×K matrix (cyclic Jacobi, float64). */
export function symmetricEigenvalues(M: ArrayLike<number>, K: number): Float64Array {
  const a = Float64Array.from(M);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < K; p++) for (let q = p + 1; q < K; q++) off += a[p * K + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < K; p++) for (let q = p + 1; q < K; q++) {
      const apq = a[p * K + q]!;
      if (Math.abs(apq) < 1e-300) continue;
      const theta = (a[q * K + q]! - a[p * K + p]!) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const cs = 1 / Math.sqrt(t * t + 1), sn = t * cs;
      for (let k = 0; k < K; k++) {
        const akp = a[k * K + p]!, akq = a[k * K + q]!;
        a[k * K + p] = cs * akp - sn * akq; a[k * K + q] = sn * akp + cs * akq;
      }
      for (let k = 0; k < K; k++) {
        const apk = a[p * K + k]!, aqk = a[q * K + k]!;
        a[p * K + k] = cs * apk - sn * aqk; a[q * K + k] = sn * apk + cs * aqk;
      }
    }
  }
  return Float64Array.from({ length: K }, (_, i) => a[i * K + i]!);
}

/** Singular values of W (K×n, row-major), from the eigenvalues of W Wᵀ (min(K, n) of them, descending). */
export function singularValues(W: ArrayLike<number>, K: number, n: number): Float64Array {
  // the smaller Gram matrix: W Wᵀ (K×K) or Wᵀ W (n×n)
  const m = Math.min(K, n);
  const G = new Float64Array(m * m);
  for (let p = 0; p < m; p++) for (let q = p; q < m; q++) {
    let s = 0;
    if (K <= n) for (let k = 0; k < n; k++) s += W[p * n + k]! * W[q * n + k]!;
    else for (let k = 0; k < K; k++) s += W[k * n + p]! * W[k * n + q]!;
    G[p * m + q] = s; G[q * m + p] = s;
  }
  return Float64Array.from(symmetricEigenvalues(G, m), (e) => Math.sqrt(Math.max(e, 0))).sort().reverse();
}

/** eff_rank as the seed computes it, (Σs)²/Σs² with s + 1e-10 (participation ratio, Hill order 2), and Roy–Vetterli exp(H(p)). */
export function effectiveRanks(s: ArrayLike<number>): { effRankPR: number; effRankRV: number } {
  const t = Array.from(s, (x) => x + 1e-10);
  const sum = t.reduce((a, b) => a + b, 0);
  const sq = t.reduce((a, b) => a + b * b, 0);
  let h = 0;
  for (const x of t) { const p = x / sum; if (p > 0) h -= p * Math.log(p); }
  return { effRankPR: (sum * sum) / sq, effRankRV: Math.exp(h) };
}

export interface InfomaxMetrics {
  eff_rank: number;
  erank_rv: number;
  weight_redundancy: number;
  dead_units: number;
  output_correlation: number;
  variance_ratio: number;
  /** null when the activations are not a distribution over the K units (rows ≥ 0, summing to 1) */
  max_avg_responsibility: number | null;
  activation_mean: number;
  activation_std: number;
}

/** §B.5 of W (K×n) and activations A (N×K). */
export function metrics(W: ArrayLike<number>, K: number, n: number, A: ArrayLike<number>, N: number): InfomaxMetrics {
  const { effRankPR, effRankRV } = effectiveRanks(singularValues(W, K, n));
  const { mean, v, c } = columnStats(A, N, K);
  let dead = 0;
  for (let j = 0; j < K; j++) {
    let active = 0;
    for (let i = 0; i < N; i++) if (Math.abs(A[i * K + j]!) > 1e-6) active++;
    if (active / N < 0.01) dead++;
  }
  const sd = Float64Array.from(v, (x) => Math.sqrt(x) + 1e-6);
  const { off } = correlation(c, N, K, sd);
  let vmax = -Infinity, vmin = Infinity;
  for (const x of v) { vmax = Math.max(vmax, x); vmin = Math.min(vmin, x); }
  let nonneg = true, sums = true;
  for (let i = 0; i < N && (nonneg || sums); i++) {
    let s = 0;
    for (let j = 0; j < K; j++) { const x = A[i * K + j]!; if (x < 0) nonneg = false; s += x; }
    if (Math.abs(s - 1) > 1e-5) sums = false;
  }
  let total = 0;
  for (let i = 0; i < N * K; i++) total += A[i]!;
  const am = total / (N * K);
  let ss = 0;
  for (let i = 0; i < N * K; i++) ss += (A[i]! - am) ** 2;
  return {
    eff_rank: effRankPR, erank_rv: effRankRV, weight_redundancy: weightRedundancy(W, K, n),
    dead_units: dead, output_correlation: off, variance_ratio: vmax / (vmin + 1e-10),
    max_avg_responsibility: nonneg && sums ? Math.max(...mean) : null,
    activation_mean: am, activation_std: Math.sqrt(ss / (N * K - 1)),
  };
}

// ---------------------------------------------------------------- TF.js

type Tf = typeof TF;

/** f then the optional post-softmax, on a batch of pre-activations. */
export function tfActivate(tf: Tf, spec: InfomaxSpec, z: TF.Tensor2D): TF.Tensor2D {
  let h: TF.Tensor2D;
  switch (spec.activation) {
    case 'identity': h = z; break;
    case 'relu': h = tf.relu(z); break;
    case 'leaky_relu': h = tf.leakyRelu(z, spec.leakySlope); break;
    case 'softmax': h = tf.softmax(z); break;
    case 'tanh': h = tf.tanh(z); break;
    case 'softplus': h = tf.softplus(z); break;
    case 'sigmoid': h = tf.sigmoid(z); break;
  }
  return spec.postSoftmax ? tf.softmax(h) : h;
}

/** −½ log det(M) of a symmetric positive definite matrix, gradient −½ M⁻¹ (host Cholesky; K ≤ a few hundred). */
function tfHalfNegLogDet(tf: Tf, M: TF.Tensor2D): TF.Scalar {
  const K = M.shape[0];
  const f = tf.customGrad(((m: TF.Tensor, save: (t: TF.Tensor[]) => void) => {
    const a = Float64Array.from(m.dataSync());
    const ld = logDetSpd(a, K);
    save([m]);
    return {
      value: tf.scalar(-0.5 * ld),
      gradFunc: (dy: TF.Tensor, [saved]: TF.Tensor[]) => {
        const inv = invertSpd(Float64Array.from(saved!.dataSync()), K);
        return tf.mul(dy, tf.tensor2d(Float32Array.from(inv, (x) => -0.5 * x), [K, K]));
      },
    };
  }) as unknown as Parameters<Tf['customGrad']>[0]);
  return f(M) as TF.Scalar;
}

function invertSpd(M: Float64Array, K: number): Float64Array {
  // Gauss–Jordan (the matrix is small and well conditioned by δ)
  const a = Float64Array.from(M), inv = new Float64Array(K * K);
  for (let i = 0; i < K; i++) inv[i * K + i] = 1;
  for (let c = 0; c < K; c++) {
    let piv = c;
    for (let r = c + 1; r < K; r++) if (Math.abs(a[r * K + c]!) > Math.abs(a[piv * K + c]!)) piv = r;
    if (piv !== c) for (let k = 0; k < K; k++) {
      [a[c * K + k], a[piv * K + k]] = [a[piv * K + k]!, a[c * K + k]!];
      [inv[c * K + k], inv[piv * K + k]] = [inv[piv * K + k]!, inv[c * K + k]!];
    }
    const d = a[c * K + c]!;
    for (let k = 0; k < K; k++) { a[c * K + k] = a[c * K + k]! / d; inv[c * K + k] = inv[c * K + k]! / d; }
    for (let r = 0; r < K; r++) if (r !== c) {
      const f = a[r * K + c]!;
      if (f === 0) continue;
      for (let k = 0; k < K; k++) { a[r * K + k] = a[r * K + k]! - f * a[c * K + k]!; inv[r * K + k] = inv[r * K + k]! - f * inv[c * K + k]!; }
    }
  }
  return inv;
}

/** The §B.2 loss on TF.js tensors: [total, entropy, tc, wr] (scalars). */
export function tfLoss(tf: Tf, spec: InfomaxSpec, A: TF.Tensor2D, W: TF.Tensor2D): TF.Scalar[] {
  const N = A.shape[0], K = spec.K;
  const c = tf.sub(A, tf.mean(A, 0, true));
  const v = tf.add(tf.div(tf.sum(tf.square(c), 0), N - 1), spec.eps);
  const entropy = tf.neg(tf.sum(tf.log(v))) as TF.Scalar;
  const ah = tf.div(c, tf.sqrt(v));
  const R = tf.div(tf.matMul(ah, ah, true, false), N - 1) as TF.Tensor2D;
  const tc = spec.tc === 'logdet'
    ? tfHalfNegLogDet(tf, tf.add(R, tf.mul(tf.eye(K), spec.delta)) as TF.Tensor2D)
    : (tf.sum(tf.square(tf.sub(R, tf.eye(K)))) as TF.Scalar);
  const Wn = tf.div(W, tf.add(tf.norm(W, 'euclidean', 1, true), 1e-8));
  const wr = tf.sum(tf.square(tf.sub(tf.matMul(Wn, Wn, false, true), tf.eye(K)))) as TF.Scalar;
  const total = tf.add(tf.add(entropy, tf.mul(tc, spec.lambdaTc)), tf.mul(wr, spec.lambdaWr)) as TF.Scalar;
  return [total, entropy, tc, wr];
}

export interface OptimConfig { optimizer: 'adam' | 'sgd'; beta1: number; beta2: number; eps: number }

/** What both steps share: the model, the training rows, evaluation on test rows. */
export interface InfomaxStep extends TrainStep<Params> {
  params(): Params;
  /** Activations of rows of X (row-major, n wide), float32. */
  activations(X: Float32Array, rows: number): Float32Array;
  dispose(): void;
}

const LOSS_KEYS = ['total', 'entropy', 'tc', 'wr'] as const;

/** TF.js autodiff step with the kit's host optimizer (Adam torch form / SGD). */
export async function tfStep(tf: Tf, spec: InfomaxSpec, init: Params, X: Float32Array, N: number, opt: OptimConfig,
  evaluate: (s: InfomaxStep, epoch: number) => Values = () => ({})): Promise<InfomaxStep> {
  const { Optimizer } = await import('./kit/optimizers.js');
  const { TfParams } = await import('./kit/tf-params.js');
  const W = tf.variable(tf.tensor2d(init.W, [spec.K, spec.n]), true, `W_${Math.random().toString(36).slice(2)}`);
  const b = tf.variable(tf.tensor1d(init.b), true, `b_${Math.random().toString(36).slice(2)}`);
  const tp = new TfParams(tf, [W, b]);
  const optimizer = new Optimizer([opt.optimizer === 'adam'
    ? { rule: 'adam', beta1: opt.beta1, beta2: opt.beta2, eps: opt.eps, params: tp.params }
    : { rule: 'sgd', params: tp.params }]);
  const Xt = tf.tensor2d(X, [N, spec.n]);
  const self: InfomaxStep = {
    step(batch: Batch, s: Settings) {
      const idx = tf.tensor1d(batch.perm!.subarray(batch.start, batch.start + batch.size), 'int32');
      const xb = tf.gather(Xt, idx);
      let parts: TF.Scalar[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const z = tf.add(tf.matMul(xb, W, false, true), b) as TF.Tensor2D;
        parts = tfLoss(tf, spec, tfActivate(tf, spec, z), W).map((t) => tf.keep(t));
        return parts[0]!;
      }, [W, b]);
      const out = Object.fromEntries(LOSS_KEYS.map((k, i) => [k, parts[i]!.dataSync()[0]!]));
      tp.setGrads([grads[W.name]!, grads[b.name]!]);
      optimizer.step(s.lr);
      tp.push();
      tf.dispose([idx, xb, value, ...parts, ...Object.values(grads)]);
      return out;
    },
    evaluate: (epoch) => evaluate(self, epoch),
    checkpoint: () => ({ W: Float32Array.from(W.dataSync()), b: Float32Array.from(b.dataSync()) }),
    restore(c) { W.assign(tf.tensor2d(c.W, [spec.K, spec.n])); b.assign(tf.tensor1d(c.b)); tp.pull(); },
    state: () => ({ params: self.checkpoint(), opt: optimizer.state() }),
    setState(st) {
      const v = st as { params: Params; opt: import('./kit/optimizers.js').OptimizerState };
      self.restore(v.params);
      optimizer.setState(v.opt);
    },
    params: () => ({ W: Float32Array.from(W.dataSync()), b: Float32Array.from(b.dataSync()) }),
    activations(Xe, rows) {
      return tf.tidy(() => tfActivate(tf, spec, tf.add(tf.matMul(tf.tensor2d(Xe, [rows, spec.n]), W, false, true), b) as TF.Tensor2D).dataSync() as Float32Array);
    },
    dispose() { tf.dispose([W, b, Xt]); },
  };
  return self;
}

const ACT_CODE: Record<InfomaxActivation, number> = { identity: 0, relu: 1, leaky_relu: 2, softmax: 3, tanh: 4, softplus: 5, sigmoid: 6 };

/** The native step (native/pb_infomax.c): gather, forward, loss, hand-derived backward, Adam/SGD in one call. */
export async function nativeStep(spec: InfomaxSpec, init: Params, X: Float32Array, N: number, opt: OptimConfig, maxBatch: number,
  evaluate: (s: InfomaxStep, epoch: number) => Values = () => ({})): Promise<InfomaxStep> {
  const { blasNative } = await import('./blas/native.js');
  const nat = blasNative();
  const h = nat.pimCreate(spec.n, spec.K, ACT_CODE[spec.activation], spec.leakySlope, spec.postSoftmax ? 1 : 0, spec.tc === 'logdet' ? 1 : 0,
    spec.lambdaTc, spec.lambdaWr, spec.eps, spec.delta, opt.optimizer === 'adam' ? 0 : 1, opt.beta1, opt.beta2, opt.eps, Math.max(2, maxBatch));
  if (!h) throw new Error('pim_create: out of memory');
  const P = spec.K * spec.n + spec.K;
  const flat = (p: Params) => { const v = new Float32Array(P); v.set(p.W); v.set(p.b, spec.K * spec.n); return v; };
  nat.pimSetParams(h, flat(init));
  if (nat.pimSetData(h, X, N) !== 0) throw new Error('pim_set_data: out of memory');
  const losses = new Float64Array(4);
  const get = (): Params => {
    const v = new Float32Array(P);
    nat.pimGetParams(h, v);
    return { W: v.slice(0, spec.K * spec.n), b: v.slice(spec.K * spec.n) };
  };
  let freed = false;
  const self: InfomaxStep = {
    step(batch: Batch, s: Settings) {
      const rc = nat.pimTrainBatch(h, batch.perm!, batch.start, batch.size, s.lr!, losses);
      if (rc !== 0) throw new Error(rc === -2 ? 'log det: R + δI is not positive definite' : `pim_train_batch failed (${rc})`);
      return { total: losses[0]!, entropy: losses[1]!, tc: losses[2]!, wr: losses[3]! };
    },
    evaluate: (epoch) => evaluate(self, epoch),
    checkpoint: get,
    // restoring resets the optimizer moments: only used for the loop's final best-restore (off here)
    restore: (c) => nat.pimSetParams(h, flat(c)),
    state() {
      const m = new Float64Array(P), v = new Float64Array(P);
      const t = Number(nat.pimGetOpt(h, m, v));
      return { params: get(), t, m, v };
    },
    setState(st) {
      const s = st as { params: Params; t: number; m: Float64Array; v: Float64Array };
      nat.pimSetParams(h, flat(s.params));
      nat.pimSetOpt(h, s.t, s.m, s.v);
    },
    params: get,
    activations(Xe, rows) {
      const out = new Float32Array(rows * spec.K);
      nat.pimForward(h, Xe, rows, out);
      return out;
    },
    dispose() { if (!freed) { nat.pimFree(h); freed = true; } },
  };
  return self;
}

/** Native gradients of rows X (bs×n) at params p: [losses, grads (W then b)] — for tests. */
export async function nativeGrads(spec: InfomaxSpec, p: Params, X: Float32Array, bs: number): Promise<{ losses: Float64Array; grads: Float32Array }> {
  const { blasNative } = await import('./blas/native.js');
  const nat = blasNative();
  const h = nat.pimCreate(spec.n, spec.K, ACT_CODE[spec.activation], spec.leakySlope, spec.postSoftmax ? 1 : 0, spec.tc === 'logdet' ? 1 : 0,
    spec.lambdaTc, spec.lambdaWr, spec.eps, spec.delta, 0, 0.9, 0.999, 1e-8, bs);
  try {
    const v = new Float32Array(spec.K * spec.n + spec.K);
    v.set(p.W); v.set(p.b, spec.K * spec.n);
    nat.pimSetParams(h, v);
    const losses = new Float64Array(4), grads = new Float32Array(v.length);
    const rc = nat.pimGrads(h, X, bs, losses, grads);
    if (rc !== 0) throw new Error(`pim_grads failed (${rc})`);
    return { losses, grads };
  } finally {
    nat.pimFree(h);
  }
}

export { LOSS_KEYS };
