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
import type { Rng } from '../rng.js';
import { blasNative, blasStatus, type BlasNative } from './blas/native.js';
import { param, type Param } from './kit/optimizers.js';

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
  private cache: { X: Float32Array; U: Float32Array[]; V: Float32Array[]; H: Float32Array[]; B: number } | null = null;
  /** Buffers reused across steps of the same batch size. */
  private buf: { B: number; U: Float32Array[]; V: Float32Array[]; H: Float32Array[]; Y: Float32Array; du: Float32Array; dv: Float32Array; dh: Float32Array; prev: Float32Array; extra: Float32Array; tmp: Float32Array } | null = null;
  private buffers(B: number) {
    if (this.buf?.B !== B) {
      const { n, d, k } = this;
      const f = (m: number) => new Float32Array(m);
      this.buf = {
        B, U: Array.from({ length: k - 1 }, () => f(B * d)), V: Array.from({ length: k - 1 }, () => f(B * d)), H: Array.from({ length: k - 1 }, () => f(B * d)),
        Y: f(this.outSteps * B * n), du: f(B * d), dv: f(B * d), dh: f(B * d), prev: f(B * d), extra: f(B * d), tmp: f(Math.max(d * n, d * d)),
      };
    }
    return this.buf;
  }

  constructor(readonly n: number, readonly d: number, readonly k: number, o: { initScale: number; transform: 'quadratic' | 'multiplicative'; seqToSeq: boolean; rng: Rng; mm: MatMul }) {
    if (k < 2) throw new Error('QuadraticRNN needs k ≥ 2');
    this.transform = o.transform;
    this.mm = o.mm;
    this.outSteps = o.seqToSeq ? k - 1 : 1;
    this.params = [
      param('W_in', gaussianInit(o.rng, d, n, o.initScale), [d, n]),
      param('W_drive', gaussianInit(o.rng, d, n, o.initScale), [d, n]),
      param('W_mix', gaussianInit(o.rng, d, d, o.initScale), [d, d]),
      param('W_out', gaussianInit(o.rng, n, d, o.initScale), [n, d]),
    ];
    // h_k is a polynomial of degree 2^(k−1) in the first-layer weights: per-neuron scaling uses the hybrid's explicit factor instead
    this.degree = 2;
  }
  readonly transform: 'quadratic' | 'multiplicative';
  private readonly mm: MatMul;

  get(name: string): Param { return this.params.find((p) => p.name === name)!; }

  forward(X: Float32Array, B: number): Float32Array {
    const { n, d, k } = this;
    const [Win, Wd, Wm, Wo] = this.params.map((p) => p.value as Float32Array);
    const xt = (t: number) => X.subarray(t * B * n, (t + 1) * B * n);
    const bf = this.buffers(B);
    const { U, V, H, Y } = bf;
    let h: Float32Array | null = null;
    for (let t = 1; t < k; t++) {
      const u = U[t - 1]!, v = V[t - 1]!, hn = H[t - 1]!;
      if (t === 1) this.mm(0, 1, B, d, n, xt(0), Win!, u);
      else this.mm(0, 1, B, d, d, h!, Wm!, u);
      this.mm(0, 1, B, d, n, xt(t), Wd!, v);
      if (this.transform === 'quadratic') for (let i = 0; i < hn.length; i++) { const s = u[i]! + v[i]!; hn[i] = s * s; }
      else for (let i = 0; i < hn.length; i++) hn[i] = u[i]! * v[i]!;
      h = hn;
      if (this.outSteps > 1) this.mm(0, 1, B, n, d, hn, Wo!, Y.subarray((t - 1) * B * n, t * B * n));
    }
    if (this.outSteps === 1) this.mm(0, 1, B, n, d, h!, Wo!, Y);
    this.cache = { X, U, V, H, B };
    return Y;
  }

  backward(dY: Float32Array, B: number): void {
    const c = this.cache;
    if (!c || c.B !== B) throw new Error('backward without a matching forward');
    const { n, d, k } = this;
    const [Win, , Wm, Wo] = this.params.map((p) => p.value as Float32Array);
    const [gIn, gD, gM, gO] = this.params.map((p) => p.grad as Float32Array);
    const xt = (t: number) => c.X.subarray(t * B * n, (t + 1) * B * n);
    const bf = this.buffers(B);
    const tmpW = bf.tmp;
    gD!.fill(0); gM!.fill(0); gO!.fill(0);
    let dh = bf.dh;
    let spare = bf.prev;
    const addTo = (g: Float32Array, src: Float32Array, len: number) => { for (let i = 0; i < len; i++) g[i] = g[i]! + src[i]!; };
    // output layer(s)
    if (this.outSteps === 1) {
      this.mm(1, 0, n, d, B, dY, c.H[k - 2]!, gO!);
      this.mm(0, 0, B, d, n, dY, Wo!, dh);
    } else dh.fill(0);
    for (let t = k - 1; t >= 1; t--) {
      const i = t - 1;
      if (this.outSteps > 1) {
        const dYt = dY.subarray(i * B * n, (i + 1) * B * n);
        this.mm(1, 0, n, d, B, dYt, c.H[i]!, tmpW);
        addTo(gO!, tmpW, n * d);
        const extra = bf.extra;
        this.mm(0, 0, B, d, n, dYt, Wo!, extra);
        addTo(dh, extra, B * d);
      }
      const u = c.U[i]!, v = c.V[i]!;
      const du = bf.du, dv = bf.dv;
      if (this.transform === 'quadratic') for (let j = 0; j < du.length; j++) { const g = 2 * dh[j]! * (u[j]! + v[j]!); du[j] = g; dv[j] = g; }
      else for (let j = 0; j < du.length; j++) { du[j] = dh[j]! * v[j]!; dv[j] = dh[j]! * u[j]!; }
      // W_drive sees token t
      this.mm(1, 0, d, n, B, dv, xt(t), tmpW);
      addTo(gD!, tmpW, d * n);
      if (t === 1) {
        this.mm(1, 0, d, n, B, du, xt(0), gIn!);
      } else {
        this.mm(1, 0, d, d, B, du, c.H[i - 1]!, tmpW);
        addTo(gM!, tmpW, d * d);
        const prev = spare;
        this.mm(0, 0, B, d, d, du, Wm!, prev);
        spare = dh;
        dh = prev;
      }
    }
    void Win;
  }
}

export class SequentialMLP implements GroupModel {
  readonly name = 'sequential_mlp' as const;
  readonly layout = 'rows' as const;
  readonly params: Param[];
  readonly degree: number;
  readonly outSteps = 1;
  private cache: { Z: Float32Array; H: Float32Array; X: Float32Array; B: number } | null = null;
  private readonly mm: MatMul;

  constructor(readonly n: number, readonly d: number, readonly k: number, o: { initScale: number; rng: Rng; mm: MatMul }) {
    this.mm = o.mm;
    this.params = [param('W_in', gaussianInit(o.rng, d, k * n, o.initScale), [d, k * n]), param('W_out', gaussianInit(o.rng, n, d, o.initScale), [n, d])];
    this.degree = k + 1;
  }

  get(name: string): Param { return this.params.find((p) => p.name === name)!; }

  private buf: { B: number; Z: Float32Array; H: Float32Array; Y: Float32Array; dH: Float32Array } | null = null;

  /** X: one row [x₁; …; x_k] (length kn) per sequence — `batchOf(…, 'rows')`. */
  forward(X: Float32Array, B: number): Float32Array {
    const { n, d, k } = this;
    const [Win, Wo] = this.params.map((p) => p.value as Float32Array);
    if (this.buf?.B !== B) this.buf = { B, Z: new Float32Array(B * d), H: new Float32Array(B * d), Y: new Float32Array(B * n), dH: new Float32Array(B * d) };
    const { Z, H, Y } = this.buf;
    const Xc = X;
    this.mm(0, 1, B, d, k * n, Xc, Win!, Z);
    if (k === 2) for (let i = 0; i < Z.length; i++) { const z = Z[i]!; H[i] = z * z; }
    else if (k === 3) for (let i = 0; i < Z.length; i++) { const z = Z[i]!; H[i] = z * z * z; }
    else for (let i = 0; i < Z.length; i++) H[i] = Z[i]! ** k;
    this.mm(0, 1, B, n, d, H, Wo!, Y);
    this.cache = { Z, H, X: Xc, B };
    return Y;
  }

  backward(dY: Float32Array, B: number): void {
    const c = this.cache;
    if (!c || c.B !== B) throw new Error('backward without a matching forward');
    const { n, d, k } = this;
    const [, Wo] = this.params.map((p) => p.value as Float32Array);
    const [gIn, gO] = this.params.map((p) => p.grad as Float32Array);
    this.mm(1, 0, n, d, B, dY, c.H, gO!);
    const dH = this.buf!.dH;
    this.mm(0, 0, B, d, n, dY, Wo!, dH);
    const Z = c.Z;
    if (k === 2) for (let i = 0; i < dH.length; i++) dH[i] = 2 * dH[i]! * Z[i]!;
    else if (k === 3) for (let i = 0; i < dH.length; i++) { const z = Z[i]!; dH[i] = 3 * dH[i]! * z * z; }
    else for (let i = 0; i < dH.length; i++) dH[i] = dH[i]! * k * Z[i]! ** (k - 1);
    this.mm(1, 0, d, k * n, B, dH, c.X, gIn!);
  }
}
