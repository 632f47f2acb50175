/**
 * The `blas` TF.js backend: TF.js's pure-JS cpu backend (`MathBackendCPU`, exported by
 * @tensorflow/tfjs-backend-cpu) registered under its own name through the public API
 * (tf.registerBackend / tf.registerKernel), with every cpu kernel re-registered for it and the
 * hot ones replaced by native kernels (native/pipe_blas.c):
 *
 *   BatchMatMul, _FusedMatMul          OpenBLAS cblas_sgemm (bias + relu/relu6/leakyrelu/sigmoid/elu fused)
 *   Add Sub Multiply RealDiv           SIMD loops, same shape or trailing-dims broadcast
 *   SquaredDifference Maximum Minimum
 *   Relu Relu6 Square Neg Sqrt Abs Step(α = 0)
 *   Sum                                over a contiguous block of axes, double accumulators
 *   Transpose (rank 2), GatherV2 (axis 0, float32)
 *
 * Anything else (other dtypes, general broadcasting, other kernels) runs the cpu kernel on the
 * same storage, so results agree with the cpu backend op by op (test/blas/backend.test.ts).
 * Gradients are backend-independent in TF.js, so every op's gradient works unchanged.
 * Training of the Mlp family on this backend goes through the native trainer
 * (src/lib/ml/blas/trainer.ts); this backend serves everything else (prediction, other models).
 */
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { Tf } from '../optim.js';
import { blasNative, type BlasNative } from './native.js';

export const BLAS_BACKEND = 'blas';

type TensorInfo = { dataId: object; shape: number[]; dtype: string };
type KernelArgs = { inputs: Record<string, TensorInfo>; backend: MathBackendCPU; attrs?: Record<string, unknown> };
type KernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function f32(backend: MathBackendCPU, t: TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId as never)?.values;
  return v instanceof Float32Array ? v : null;
}

function broadcastShape(a: number[], b: number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** `small` broadcasts by repetition over `out` iff its shape without leading 1s is a suffix of `out`. */
function repeats(small: number[], out: number[]): boolean {
  let i = 0;
  while (i < small.length && small[i] === 1) i++;
  const s = small.slice(i);
  if (s.length > out.length) return false;
  const tail = out.slice(out.length - s.length);
  return s.every((d, k) => d === tail[k]);
}

let registered = false;

/** Registers the `blas` backend and its kernels (idempotent). Throws BlasUnavailableError without the native library. */
export function registerBlasBackend(tf: Tf): void {
  if (registered && tf.findBackendFactory(BLAS_BACKEND)) return;
  const nat = blasNative();
  tf.registerBackend(BLAS_BACKEND, () => new MathBackendCPU(), 0);
  const cpu = new Map<string, KernelFunc>();
  for (const k of tf.getKernelsForBackend('cpu')) cpu.set(k.kernelName, k.kernelFunc as unknown as KernelFunc);
  const native = nativeKernels(nat, (name) => {
    const f = cpu.get(name);
    if (!f) throw new Error(`cpu backend has no kernel ${name}`);
    return f;
  });
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (tf.getKernel(k.kernelName, BLAS_BACKEND)) tf.unregisterKernel(k.kernelName, BLAS_BACKEND);
    tf.registerKernel({ ...k, backendName: BLAS_BACKEND, kernelFunc: (native.get(k.kernelName) ?? k.kernelFunc) as never });
  }
  registered = true;
}

function nativeKernels(nat: BlasNative, cpu: (name: string) => KernelFunc): Map<string, KernelFunc> {
  const out = new Map<string, KernelFunc>();

  const matmul = (args: KernelArgs): TensorInfo | null => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const ta = Boolean(args.attrs?.transposeA), tb = Boolean(args.attrs?.transposeB);
    const A = f32(args.backend, a), Bv = f32(args.backend, b);
    if (!A || !Bv || a.shape.length < 2 || b.shape.length < 2) return null;
    const ra = a.shape.length, rb = b.shape.length;
    const M = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const K = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const K2 = tb ? b.shape[rb - 1]! : b.shape[rb - 2]!;
    const N = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    if (K !== K2) return null; // let the cpu kernel produce TF.js's error message
    const outer = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    if (!outer) return null;
    const batch = size(outer), bA = size(a.shape.slice(0, -2)), bB = size(b.shape.slice(0, -2));
    if (!((bA === batch || bA === 1) && (bB === batch || bB === 1))) return null;
    const C = new Float32Array(batch * M * N);
    if (batch === 1) nat.sgemm(ta ? 1 : 0, tb ? 1 : 0, M, N, K, A, Bv, C);
    else nat.sgemmBatch(batch, ta ? 1 : 0, tb ? 1 : 0, M, N, K, A, bA === 1 ? 0 : M * K, Bv, bB === 1 ? 0 : K * N, C);
    return args.backend.makeTensorInfo([...outer, M, N], 'float32', C) as TensorInfo;
  };

  out.set('BatchMatMul', (args) => matmul(args) ?? cpu('BatchMatMul')(args));

  const ACT: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, sigmoid: 4, elu: 5 };
  out.set('_FusedMatMul', (args) => {
    const { bias, preluActivationWeights } = args.inputs as { bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    const activation = String(args.attrs?.activation ?? 'linear');
    const act = ACT[activation];
    if (act === undefined || preluActivationWeights) return cpu('_FusedMatMul')(args);
    const y = matmul({ ...args, inputs: { a: args.inputs.a!, b: args.inputs.b! } });
    if (!y) return cpu('_FusedMatMul')(args);
    const Y = args.backend.data.get(y.dataId as never).values as Float32Array;
    const cols = y.shape[y.shape.length - 1]!, rows = Y.length / Math.max(1, cols);
    let mode = 0, bv: Float32Array | null = null;
    if (bias) {
      bv = f32(args.backend, bias);
      const bs = size(bias.shape);
      if (bv && bs === cols && repeats(bias.shape, y.shape)) mode = 1;
      else if (bv && bs === Y.length && broadcastShape(bias.shape, y.shape)?.join() === y.shape.join()) mode = 2;
      else { args.backend.disposeIntermediateTensorInfo(y as never); return cpu('_FusedMatMul')(args); }
    }
    if (Y.length) nat.biasAct(Y, rows, cols, bv ?? Y, mode, act, Number(args.attrs?.leakyreluAlpha ?? 0.2));
    return y;
  });

  const BIN: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, SquaredDifference: 4, Maximum: 5, Minimum: 6 };
  for (const [name, op] of Object.entries(BIN)) {
    out.set(name, (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const A = f32(args.backend, a), Bv = f32(args.backend, b);
      const shape = A && Bv ? broadcastShape(a.shape, b.shape) : null;
      if (!shape) return cpu(name)(args);
      const n = size(shape), na = A!.length, nb = Bv!.length;
      const ok = n === 0 || (na === n && a.shape.length === shape.length && (nb === n ? b.shape.length === shape.length : repeats(b.shape, shape)))
        || (nb === n && b.shape.length === shape.length && repeats(a.shape, shape));
      if (!ok) return cpu(name)(args);
      const res = new Float32Array(n);
      if (n && nat.binary(op, A, na, Bv, nb, res, n) !== 0) return cpu(name)(args);
      return args.backend.makeTensorInfo(shape, 'float32', res) as TensorInfo;
    });
  }

  const UN: Record<string, number> = { Relu: 0, Square: 1, Neg: 2, Sqrt: 3, Relu6: 4, Step: 5, Abs: 6 };
  for (const [name, op] of Object.entries(UN)) {
    out.set(name, (args) => {
      const x = args.inputs.x!;
      const X = f32(args.backend, x);
      if (!X || (name === 'Step' && Number(args.attrs?.alpha ?? 0) !== 0)) return cpu(name)(args);
      const res = new Float32Array(X.length);
      if (X.length) nat.unary(op, X, res, X.length);
      return args.backend.makeTensorInfo(x.shape.slice(), 'float32', res) as TensorInfo;
    });
  }

  out.set('Sum', (args) => {
    const x = args.inputs.x!;
    const X = f32(args.backend, x);
    const rank = x.shape.length;
    if (!X || rank === 0) return cpu('Sum')(args);
    const raw = args.attrs?.axis as number | number[] | null | undefined;
    const axes = [...new Set((raw === null || raw === undefined ? [...Array(rank).keys()] : Array.isArray(raw) ? raw : [raw]).map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
    if (axes.some((a) => a < 0 || a >= rank) || axes.some((a, i) => i > 0 && a !== axes[i - 1]! + 1)) return cpu('Sum')(args);
    const lo = axes[0]!, hi = axes[axes.length - 1]!;
    const outer = size(x.shape.slice(0, lo)), mid = size(x.shape.slice(lo, hi + 1)), inner = size(x.shape.slice(hi + 1));
    const keep = Boolean(args.attrs?.keepDims);
    const shape = keep ? x.shape.map((d, i) => (i >= lo && i <= hi ? 1 : d)) : x.shape.filter((_, i) => i < lo || i > hi);
    const res = new Float32Array(outer * inner);
    if (res.length) nat.sumAxis(X, outer, mid, inner, res, new Float64Array(Math.max(1, inner)));
    return args.backend.makeTensorInfo(shape, 'float32', res) as TensorInfo;
  });
  out.set('Transpose', (args) => {
    const x = args.inputs.x!;
    const X = f32(args.backend, x);
    const perm = args.attrs?.perm as number[] | undefined;
    if (!X || x.shape.length !== 2 || !perm || perm[0] !== 1 || perm[1] !== 0) return cpu('Transpose')(args);
    const [r, c] = x.shape as [number, number];
    const res = new Float32Array(X.length);
    if (X.length) nat.transpose2d(X, r, c, res);
    return args.backend.makeTensorInfo([c, r], 'float32', res) as TensorInfo;
  });

  out.set('GatherV2', (args) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const X = f32(args.backend, x);
    const I = args.backend.data.get(indices.dataId as never)?.values;
    const axis = Number(args.attrs?.axis ?? 0), batchDims = Number(args.attrs?.batchDims ?? 0);
    if (!X || !(I instanceof Int32Array) || x.shape.length < 1 || (axis !== 0 && axis !== -x.shape.length) || batchDims !== 0) return cpu('GatherV2')(args);
    const n0 = x.shape[0]!, row = X.length / Math.max(1, n0);
    for (let i = 0; i < I.length; i++) if (!(I[i]! >= 0 && I[i]! < n0)) return cpu('GatherV2')(args); // its error message
    const res = new Float32Array(I.length * row);
    for (let i = 0; i < I.length; i++) res.set(X.subarray(I[i]! * row, I[i]! * row + row), i * row);
    return args.backend.makeTensorInfo([...indices.shape, ...x.shape.slice(1)], 'float32', res) as TensorInfo;
  });
  return out;
}
