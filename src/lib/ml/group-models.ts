/**
 * The models of the group-composition seed (§D.3) with hand-written backprop on float32 host
 * arrays, matrix products through pipe's native OpenBLAS library (`blas`) or typed-array loops
 * (`js`), as a `TrainStep` of the kit's loop. Row-major; x_t is B × n, weights are out × in.
 *
 *  QuadraticRNN  W_in (d×n), W_drive (d×n), W_mix (d×d), W_out (n×d), N(0,1)·init/√fan_in:
 *      h₂ = σ(W_in x₁, W_drive x₂);  h_t = σ(W_mix h_{t−1}, W_drive x_t), t = 3..k;  ŷ = W_out h_k
 *      σ(u, v) = (u + v)² (quadratic) or u ⊙ v (multiplicative); seq-to-seq: ŷ_t = W_out h_t, t = 2..k
 *  SequentialMLP W_in (d × kn), W_out (n × d):  ŷ = W_out (W_in [x₁; …; x_k])^{∘k}
 *  Loss: MSE over batch and output entries (and output steps).
 */
import type { Rng } from '../../sdk/rng.js';
import { blasNative, blasStatus, type BlasNative } from './blas/native.js';
import { param, type OptimizerKernels, type Param } from './kit/optimizers.js';

export type MatBackend = 'blas' | 'js';

export function resolveMatBackend(req: 'auto' | MatBackend): MatBackend {
  if (req === 'js') return 'js';
  const st = blasStatus();
  if (req === 'blas' && !st.available) throw new Error(`backend blas requested but unavailable: ${st.reason}`);
  return st.available ? 'blas' : 'js';
}

/** C (M×N) = op(A) · op(B), row-major; op = transpose when ta/tb. */
export type MatMul = (ta: 0 | 1, tb: 0 | 1, M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array) => void;

export function matmul(backend: MatBackend): MatMul {
  if (backend === 'blas') {
    const api: BlasNative = blasNative();
    return (ta, tb, M, N, K, A, B, C) => api.sgemm(ta, tb, M, N, K, A, B, C);
  }
  return (ta, tb, M, N, K, A, B, C) => {
    // A is M×K (or K×M when ta), B is K×N (or N×K when tb)
    const acc = new Float64Array(N);
    for (let i = 0; i < M; i++) {
      acc.fill(0);
      for (let k = 0; k < K; k++) {
        const a = ta ? A[k * M + i]! : A[i * K + k]!;
        if (a === 0) continue;
        if (tb) for (let j = 0; j < N; j++) acc[j] = acc[j]! + a * B[j * K + k]!;
        else { const o = k * N; for (let j = 0; j < N; j++) acc[j] = acc[j]! + a * B[o + j]!; }
      }
      for (let j = 0; j < N; j++) C[i * N + j] = acc[j]!;
    }
  };
}

/** Element-wise float32 ops on equal-length arrays (native SIMD loops on blas, JS loops otherwise). */
export interface ElementOps {
  add(a: Float32Array, b: Float32Array, out: Float32Array): void;
  mul(a: Float32Array, b: Float32Array, out: Float32Array): void;
  square(a: Float32Array, out: Float32Array): void;
  scale(a: Float32Array, c: number, out: Float32Array): void;
  /** H = z^(k−1)·z (k ≥ 2), z^(k−1) = z·z·…·z multiplied left to right in float32, in one pass. */
  pow(z: Float32Array, k: number, H: Float32Array): void;
  /** dH = (dH ⊙ z^(k−1)) · k in one pass (z^(k−1) recomputed exactly as `pow` forms it). */
  dpow(dH: Float32Array, z: Float32Array, k: number): void;
  /** `mseLoss` (same float64 sum, same dY). */
  mse(Yhat: Float32Array, Y: Float32Array, dY?: Float32Array): number;
}

export function elementOps(backend: MatBackend): ElementOps {
  if (backend === 'blas') {
    const api: BlasNative = blasNative();
    return {
      add: (a, b, out) => { api.binary(0, a, a.length, b, b.length, out, out.length); },
      mul: (a, b, out) => { api.binary(2, a, a.length, b, b.length, out, out.length); },
      square: (a, out) => { api.unary(1, a, out, out.length); },
      scale: (a, c, out) => { api.binary(2, a, a.length, Float32Array.of(c), 1, out, out.length); },
      pow: (z, k, H) => { api.groupPow(z, z.length, k, H); },
      dpow: (dH, z, k) => { api.groupDpow(dH, z, dH.length, k); },
      mse: (Yhat, Y, dY) => api.groupMse(Yhat, Y, Y.length, dY ?? null) / Y.length,
    };
  }
  return {
    add: (a, b, out) => { for (let i = 0; i < out.length; i++) out[i] = a[i]! + b[i]!; },
    mul: (a, b, out) => { for (let i = 0; i < out.length; i++) out[i] = a[i]! * b[i]!; },
    square: (a, out) => { for (let i = 0; i < out.length; i++) out[i] = a[i]! * a[i]!; },
    scale: (a, c, out) => { for (let i = 0; i < out.length; i++) out[i] = a[i]! * c; },
    pow: (z, k, H) => { for (let i = 0; i < z.length; i++) H[i] = powKm1(z[i]!, k) * z[i]!; },
    dpow: (dH, z, k) => { for (let i = 0; i < dH.length; i++) dH[i] = Math.fround(dH[i]! * powKm1(z[i]!, k)) * k; },
    mse: (Yhat, Y, dY) => mseLoss(Yhat, Y, dY),
  };
}

/** x^(k−1) for k ≥ 2 as float32 products left to right: x, x·x, (x·x)·x, … */
function powKm1(x: number, k: number): number {
  if (k === 2) return x;
  let t = Math.fround(x * x);
  for (let e = 3; e < k; e++) t = Math.fround(t * x);
  return t;
}

/** The kit optimizer's fused kernels from the native library on blas (none on js: its own loops). */
export function optimizerKernels(backend: MatBackend): OptimizerKernels | undefined {
  if (backend !== 'blas') return undefined;
  const api: BlasNative = blasNative();
  return {
    sumsq: (g, acc) => api.optSumsq(g, g.length, acc),
    neuronNorm2: (v, stride, N, norm2) => { api.optNeuronNorm2(v, v.length, stride, N, norm2); },
    neuronStep: (g, th, stride, N, factor, clip, coef, rate) => { api.optNeuronStep(g, th, g.length, stride, N, factor, clip ? 1 : 0, coef, rate); },
  };
}

function gaussianInit(rng: Rng, rows: number, cols: number, scale: number): Float32Array {
  const W = new Float32Array(rows * cols);
  const s = scale / Math.sqrt(cols);
  for (let i = 0; i < W.length; i++) W[i] = rng.normal() * s;
  return W;
}

export interface GroupModel {
  readonly name: 'quadratic_rnn' | 'sequential_mlp';
  readonly params: Param[];
  readonly k: number;
  readonly n: number;
  readonly d: number;
  /** Degree of homogeneity in each neuron's parameters (per-neuron SGD). */
  readonly degree: number;
  /** Output rows per sequence (1, or k − 1 for seq-to-seq). */
  readonly outSteps: number;
  /** The input layout `batchOf` must produce: t-major token blocks, or one concatenated row per sequence. */
  readonly layout: 'tokens' | 'rows';
  /** Forward (caching what backward needs); returns ŷ (outSteps blocks of B × n). */
  forward(X: Float32Array, B: number): Float32Array;
  /** Gradients of the loss given ∂L/∂ŷ into each param's `grad` (overwritten). */
  backward(dY: Float32Array, B: number): void;
  /** Param by name. */
  get(name: string): Param;
}

/** MSE over every output entry; fills dY = 2(ŷ − y)/N when given. */
export function mseLoss(Yhat: Float32Array, Y: Float32Array, dY?: Float32Array): number {
  const N = Y.length;
  let s = 0;
  for (let i = 0; i < N; i++) { const r = Yhat[i]! - Y[i]!; s += r * r; if (dY) dY[i] = (2 * r) / N; }
  return s / N;
}

export class QuadraticRNN implements GroupModel {
  readonly name = 'quadratic_rnn' as const;
  readonly layout = 'tokens' as const;
  readonly params: Param[];
  readonly degree: number;
  readonly outSteps: number;
  readonly transform: 'quadratic' | 'multiplicative';
  private readonly mm: MatMul;
  private X: Float32Array | null = null;
  /**
   * Buffers for one batch size, each holding every step t = 2..k contiguously (block t − 2), so
   * the products over all steps (W_drive x_t, and the W_drive / W_mix / W_out gradients) are one
   * sgemm each: U, V pre-activations (quadratic: U then holds u + v), H states, DU, DV their gradients, DHO = ∂L/∂h from outputs.
   */
  private buf: { B: number; U: Float32Array; V: Float32Array; H: Float32Array; Y: Float32Array; DU: Float32Array; DV: Float32Array; DHO: Float32Array; dh: Float32Array; prev: Float32Array } | null = null;

  private readonly ew: ElementOps;

  constructor(readonly n: number, readonly d: number, readonly k: number, o: { initScale: number; transform: 'quadratic' | 'multiplicative'; seqToSeq: boolean; rng: Rng; mm: MatMul; ops?: ElementOps }) {
    if (k < 2) throw new Error('QuadraticRNN needs k ≥ 2');
    this.transform = o.transform;
    this.mm = o.mm;
    this.ew = o.ops ?? elementOps('js');
    this.outSteps = o.seqToSeq ? k - 1 : 1;
    this.params = [
      param('W_in', gaussianInit(o.rng, d, n, o.initScale), [d, n]),
      param('W_drive', gaussianInit(o.rng, d, n, o.initScale), [d, n]),
      param('W_mix', gaussianInit(o.rng, d, d, o.initScale), [d, d]),
      param('W_out', gaussianInit(o.rng, n, d, o.initScale), [n, d]),
    ];
    // h_k is a polynomial of degree 2^(k−1) in the first-layer weights: the hybrid's explicit factor is used instead
    this.degree = 2;
  }

  get(name: string): Param { return this.params.find((p) => p.name === name)!; }

  private buffers(B: number) {
    if (this.buf?.B !== B) {
      const { n, d, k } = this;
      const T = k - 1, f = (m: number) => new Float32Array(m);
      this.buf = { B, U: f(T * B * d), V: f(T * B * d), H: f(T * B * d), Y: f(this.outSteps * B * n), DU: f(T * B * d), DV: f(T * B * d), DHO: f(T * B * d), dh: f(B * d), prev: f(B * d) };
    }
    return this.buf;
  }

  forward(X: Float32Array, B: number): Float32Array {
    const { n, d, k } = this;
    const [Win, Wd, Wm, Wo] = this.params.map((p) => p.value as Float32Array);
    const bf = this.buffers(B);
    const T = k - 1, blk = B * d;
    // V_t = x_t W_driveᵀ for t = 2..k at once; U_2 = x₁ W_inᵀ; U_t = h_{t−1} W_mixᵀ
    this.mm(0, 1, T * B, d, n, X.subarray(B * n, k * B * n), Wd!, bf.V);
    for (let t = 0; t < T; t++) {
      const u = bf.U.subarray(t * blk, (t + 1) * blk), v = bf.V.subarray(t * blk, (t + 1) * blk), h = bf.H.subarray(t * blk, (t + 1) * blk);
      if (t === 0) this.mm(0, 1, B, d, n, X.subarray(0, B * n), Win!, u);
      else this.mm(0, 1, B, d, d, bf.H.subarray((t - 1) * blk, t * blk), Wm!, u);
      // quadratic: U is overwritten by s = u + v (all that backward needs), h = s²; multiplicative: h = u ⊙ v
      if (this.transform === 'quadratic') { this.ew.add(u, v, u); this.ew.square(u, h); }
      else this.ew.mul(u, v, h);
    }
    if (this.outSteps === 1) this.mm(0, 1, B, n, d, bf.H.subarray((T - 1) * blk, T * blk), Wo!, bf.Y);
    else this.mm(0, 1, T * B, n, d, bf.H, Wo!, bf.Y);
    this.X = X;
    return bf.Y;
  }

  backward(dY: Float32Array, B: number): void {
    const bf = this.buf;
    if (!bf || bf.B !== B || !this.X) throw new Error('backward without a matching forward');
    const { n, d, k } = this;
    const X = this.X;
    const [, , Wm, Wo] = this.params.map((p) => p.value as Float32Array);
    const [gIn, gD, gM, gO] = this.params.map((p) => p.grad as Float32Array);
    const T = k - 1, blk = B * d;
    // output layer: gW_out = dYᵀ H (the outputs' steps), ∂L/∂h_t from the outputs
    if (this.outSteps === 1) {
      this.mm(1, 0, n, d, B, dY, bf.H.subarray((T - 1) * blk, T * blk), gO!);
      this.mm(0, 0, B, d, n, dY, Wo!, bf.dh);
    } else {
      this.mm(1, 0, n, d, T * B, dY, bf.H, gO!);
      this.mm(0, 0, T * B, d, n, dY, Wo!, bf.DHO);
      bf.dh.set(bf.DHO.subarray((T - 1) * blk, T * blk));
    }
    let dh = bf.dh, spare = bf.prev;
    for (let t = T - 1; t >= 0; t--) {
      const u = bf.U.subarray(t * blk, (t + 1) * blk), v = bf.V.subarray(t * blk, (t + 1) * blk);
      const du = bf.DU.subarray(t * blk, (t + 1) * blk), dv = bf.DV.subarray(t * blk, (t + 1) * blk);
      if (this.transform === 'quadratic') { this.ew.mul(dh, u, du); this.ew.add(du, du, du); dv.set(du); } // 2·dh·(u + v), u holding u + v
      else { this.ew.mul(dh, v, du); this.ew.mul(dh, u, dv); }
      if (t > 0) {
        this.mm(0, 0, B, d, d, du, Wm!, spare); // ∂L/∂h_{t−1} through W_mix
        if (this.outSteps > 1) this.ew.add(spare, bf.DHO.subarray((t - 1) * blk, t * blk), spare);
        const tmp = dh; dh = spare; spare = tmp;
      }
    }
    // gW_drive = Σ_t dv_tᵀ x_t, gW_mix = Σ_{t≥3} du_tᵀ h_{t−1}, gW_in = du_2ᵀ x₁: one product each
    this.mm(1, 0, d, n, T * B, bf.DV, X.subarray(B * n, k * B * n), gD!);
    if (T > 1) this.mm(1, 0, d, d, (T - 1) * B, bf.DU.subarray(blk, T * blk), bf.H.subarray(0, (T - 1) * blk), gM!);
    else gM!.fill(0);
    this.mm(1, 0, d, n, B, bf.DU.subarray(0, blk), X.subarray(0, B * n), gIn!);
  }
}

export class SequentialMLP implements GroupModel {
  readonly name = 'sequential_mlp' as const;
  readonly layout = 'rows' as const;
  readonly params: Param[];
  readonly degree: number;
  readonly outSteps = 1;
  /** Input of the last forward (its Z, H are in `buf`). */
  private X: Float32Array | null = null;
  private readonly mm: MatMul;

  constructor(readonly n: number, readonly d: number, readonly k: number, o: { initScale: number; rng: Rng; mm: MatMul; ops?: ElementOps }) {
    this.mm = o.mm;
    this.ew = o.ops ?? elementOps('js');
    this.params = [param('W_in', gaussianInit(o.rng, d, k * n, o.initScale), [d, k * n]), param('W_out', gaussianInit(o.rng, n, d, o.initScale), [n, d])];
    this.degree = k + 1;
  }

  get(name: string): Param { return this.params.find((p) => p.name === name)!; }

  private buf: { B: number; Z: Float32Array; H: Float32Array; Y: Float32Array; dH: Float32Array } | null = null;
  private readonly ew: ElementOps;

  /** X: one row [x₁; …; x_k] (length kn) per sequence — `batchOf(…, 'rows')`. */
  forward(X: Float32Array, B: number): Float32Array {
    const { n, d, k } = this;
    const [Win, Wo] = this.params.map((p) => p.value as Float32Array);
    if (this.buf?.B !== B) this.buf = { B, Z: new Float32Array(B * d), H: new Float32Array(B * d), Y: new Float32Array(B * n), dH: new Float32Array(B * d) };
    const { Z, H, Y } = this.buf;
    this.mm(0, 1, B, d, k * n, X, Win!, Z);
    // H = Z^k (backward recomputes Z^(k−1) from Z)
    this.ew.pow(Z, k, H);
    this.mm(0, 1, B, n, d, H, Wo!, Y);
    this.X = X;
    return Y;
  }

  backward(dY: Float32Array, B: number): void {
    const bf = this.buf;
    if (!bf || bf.B !== B || !this.X) throw new Error('backward without a matching forward');
    const { n, d, k } = this;
    const [, Wo] = this.params.map((p) => p.value as Float32Array);
    const [gIn, gO] = this.params.map((p) => p.grad as Float32Array);
    this.mm(1, 0, n, d, B, dY, bf.H, gO!);
    const dH = bf.dH;
    this.mm(0, 0, B, d, n, dY, Wo!, dH);
    this.ew.dpow(dH, bf.Z, k); // ∂h/∂z = k·z^(k−1)
    this.mm(1, 0, d, k * n, B, dH, this.X, gIn!);
  }
}
