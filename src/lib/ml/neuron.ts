/**
 * The §C single-neuron playground on typed arrays (seed-systems.md §C): activations with the
 * seed's hand-written derivatives, the models ŷ = v·f(wx + b) + c (`neuron`), ŷ = σ(wx)
 * (`sigmoid1`, sigmoid_explore.py) and a tiny tanh/relu/… MLP (`mlp`), their full-batch MSE and
 * gradients, the closed-form least squares for (v, c) at fixed (w, b), the dense-grid global
 * optimum (§C.4) and the (w, b) landscape (§C.3). No tensors: 200 points, four parameters.
 *
 * Derivative conventions (the seed's): relu'(z) = [z > 0] (0 at z = 0); leaky_relu'(z) = α for
 * z < 0 and 1 otherwise (1 at z = 0); the rest are the analytic derivatives.
 */

export const NEURON_ACTIVATIONS = ['tanh', 'relu', 'sigmoid', 'leaky_relu', 'sine', 'identity'] as const;
export type NeuronActivation = (typeof NEURON_ACTIVATIONS)[number];

export interface Act {
  f(z: number): number;
  df(z: number): number;
}

export function activation(name: NeuronActivation, leakySlope = 0.01): Act {
  switch (name) {
    case 'tanh': return { f: Math.tanh, df: (z) => { const t = Math.tanh(z); return 1 - t * t; } };
    case 'relu': return { f: (z) => (z > 0 ? z : 0), df: (z) => (z > 0 ? 1 : 0) };
    case 'sigmoid': return { f: sigmoid, df: (z) => { const s = sigmoid(z); return s * (1 - s); } };
    case 'leaky_relu': return { f: (z) => (z > 0 ? z : leakySlope * z), df: (z) => (z < 0 ? leakySlope : 1) };
    case 'sine': return { f: Math.sin, df: Math.cos };
    case 'identity': return { f: (z) => z, df: () => 1 };
    default: throw new Error(`unknown activation '${name as string}' (one of ${NEURON_ACTIVATIONS.join(', ')})`);
  }
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** The model families of the playground. Parameters live in one Float64Array. */
export interface PlaygroundModel {
  readonly kind: 'neuron' | 'sigmoid1' | 'mlp';
  /** Parameter names, in the order of the parameter vector (neuron: w, b, v, c). */
  readonly names: string[];
  /** ŷ at every x into out. */
  predict(p: Float64Array, x: Float64Array, out: Float64Array): void;
  /** MSE at p; when grad is given, also ∂MSE/∂p into it (the seed's formulas). */
  lossGrad(p: Float64Array, x: Float64Array, y: Float64Array, grad?: Float64Array): number;
}

/** ŷ = v·f(wx + b) + c; p = [w, b, v, c]. */
export function neuronModel(act: Act): PlaygroundModel {
  return {
    kind: 'neuron',
    names: ['w', 'b', 'v', 'c'],
    predict(p, x, out) {
      const [w, b, v, c] = p as unknown as [number, number, number, number];
      for (let i = 0; i < x.length; i++) out[i] = v * act.f(w * x[i]! + b) + c;
    },
    lossGrad(p, x, y, grad) {
      const w = p[0]!, b = p[1]!, v = p[2]!, c = p[3]!;
      const n = x.length;
      let loss = 0, gw = 0, gb = 0, gv = 0, gc = 0;
      for (let i = 0; i < n; i++) {
        const z = w * x[i]! + b;
        const a = act.f(z);
        const r = v * a + c - y[i]!;
        loss += r * r;
        if (grad) {
          const g = (2 * r) / n; // g = 2(ŷ − y)/N
          gv += g * a;
          gc += g;
          const dz = g * v * act.df(z);
          gw += dz * x[i]!;
          gb += dz;
        }
      }
      if (grad) { grad[0] = gw; grad[1] = gb; grad[2] = gv; grad[3] = gc; }
      return loss / n;
    },
  };
}

/** ŷ = σ(wx) (sigmoid_explore.py); p = [w]. */
export function sigmoid1Model(): PlaygroundModel {
  return {
    kind: 'sigmoid1',
    names: ['w'],
    predict(p, x, out) {
      for (let i = 0; i < x.length; i++) out[i] = sigmoid(p[0]! * x[i]!);
    },
    lossGrad(p, x, y, grad) {
      const w = p[0]!, n = x.length;
      let loss = 0, gw = 0;
      for (let i = 0; i < n; i++) {
        const s = sigmoid(w * x[i]!);
        const r = s - y[i]!;
        loss += r * r;
        gw += ((2 * r) / n) * s * (1 - s) * x[i]!;
      }
      if (grad) grad[0] = gw;
      return loss / n;
    },
  };
}

/**
 * A tiny MLP 1 → h₁ → … → h_k → 1 with activation f on every hidden layer and a linear output.
 * Layout of p: for each layer l (in → out): W_l row-major (out × in), then b_l (out).
 */
export function mlpModel(act: Act, hidden: number[]): PlaygroundModel {
  if (!hidden.length || hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new Error(`mlp: hidden sizes must be positive integers (got [${hidden.join(', ')}])`);
  const sizes = [1, ...hidden, 1];
  const layers: { nin: number; nout: number; w: number; b: number }[] = [];
  const names: string[] = [];
  let off = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const nin = sizes[l]!, nout = sizes[l + 1]!;
    layers.push({ nin, nout, w: off, b: off + nin * nout });
    for (let o = 0; o < nout; o++) for (let i = 0; i < nin; i++) names.push(`W${l + 1}[${o},${i}]`);
    for (let o = 0; o < nout; o++) names.push(`b${l + 1}[${o}]`);
    off += nin * nout + nout;
  }
  const L = layers.length;
  const maxW = Math.max(...sizes);
  // per-point buffers: pre-activations and activations of every layer
  const zs = layers.map((ly) => new Float64Array(ly.nout));
  const as = [new Float64Array(1), ...layers.map((ly) => new Float64Array(ly.nout))];
  const delta = new Float64Array(maxW), prev = new Float64Array(maxW);
  const forward = (p: Float64Array, xv: number) => {
    as[0]![0] = xv;
    for (let l = 0; l < L; l++) {
      const ly = layers[l]!, ain = as[l]!, z = zs[l]!, a = as[l + 1]!;
      for (let o = 0; o < ly.nout; o++) {
        let s = p[ly.b + o]!;
        for (let i = 0; i < ly.nin; i++) s += p[ly.w + o * ly.nin + i]! * ain[i]!;
        z[o] = s;
        a[o] = l === L - 1 ? s : act.f(s);
      }
    }
    return as[L]![0]!;
  };
  return {
    kind: 'mlp',
    names,
    predict(p, x, out) { for (let i = 0; i < x.length; i++) out[i] = forward(p, x[i]!); },
    lossGrad(p, x, y, grad) {
      const n = x.length;
      if (grad) grad.fill(0);
      let loss = 0;
      for (let k = 0; k < n; k++) {
        const r = forward(p, x[k]!) - y[k]!;
        loss += r * r;
        if (!grad) continue;
        delta[0] = (2 * r) / n;
        for (let l = L - 1; l >= 0; l--) {
          const ly = layers[l]!, ain = as[l]!;
          for (let o = 0; o < ly.nout; o++) {
            const d = delta[o]!;
            grad[ly.b + o]! += d;
            for (let i = 0; i < ly.nin; i++) grad[ly.w + o * ly.nin + i]! += d * ain[i]!;
          }
          if (l === 0) break;
          const zin = zs[l - 1]!;
          for (let i = 0; i < ly.nin; i++) {
            let s = 0;
            for (let o = 0; o < ly.nout; o++) s += p[ly.w + o * ly.nin + i]! * delta[o]!;
            prev[i] = s * act.df(zin[i]!);
          }
          delta.set(prev.subarray(0, ly.nin));
        }
      }
      return loss / n;
    },
  };
}

/** Population variance of y = the MSE of the best constant. */
export function variance(y: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m += y[i]!;
  m /= y.length;
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i]! - m) ** 2;
  return s / y.length;
}

/**
 * min over (v, c) of mean((v·a + c − y)²) in closed form, from the centred sums
 * Saa = Σ(a − ā)², Say = Σ(a − ā)(y − ȳ), Syy = Σ(y − ȳ)² (two-pass: one-pass sums lose the
 * small variance of a saturated feature, e.g. tanh far from 0, and give spuriously low MSEs).
 * A constant feature (Saa = 0, e.g. a dead ReLU) gives v = 0, c = ȳ — the minimum-norm answer
 * numpy's lstsq gives the seed.
 */
export function vcCentred(n: number, ma: number, my: number, saa: number, say: number, syy: number): { v: number; c: number; mse: number } {
  if (!(saa > 1e-300)) return { v: 0, c: my, mse: syy / n };
  const v = say / saa;
  return { v, c: my - v * ma, mse: Math.max(0, syy - (say * say) / saa) / n };
}

/** Optimal (v, c) and the MSE for the neuron with (w, b) fixed. */
export function optimalVc(act: Act, w: number, b: number, x: Float64Array, y: Float64Array): { v: number; c: number; mse: number } {
  const n = x.length, a = new Float64Array(n);
  let ma = 0, my = 0;
  for (let i = 0; i < n; i++) { a[i] = act.f(w * x[i]! + b); ma += a[i]!; my += y[i]!; }
  ma /= n; my /= n;
  let saa = 0, say = 0, syy = 0;
  for (let i = 0; i < n; i++) { const d = a[i]! - ma, e = y[i]! - my; saa += d * d; say += d * e; syy += e * e; }
  return vcCentred(n, ma, my, saa, say, syy);
}

/** numpy.linspace(lo, hi, n). */
export function linspace(lo: number, hi: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) { out[0] = lo; return out; }
  const step = (hi - lo) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = lo + i * step;
  out[n - 1] = hi;
  return out;
}

export interface GridSpec { w: [number, number, number]; b: [number, number, number] }

/**
 * The (w, b) landscape: for every grid point the closed-form (v, c) and its MSE. `mse[i·nb + j]`
 * is at (ws[i], bs[j]). `onRow` is called after each w row (progress, abort checks).
 */
export function wbLandscape(act: Act | NeuronActivation, x: Float64Array, y: Float64Array, grid: GridSpec, onRow?: (i: number) => void, leakySlope = 0.01): { ws: Float64Array; bs: Float64Array; mse: Float64Array; v: Float64Array; c: Float64Array } {
  const ws = linspace(...grid.w), bs = linspace(...grid.b);
  const nb = bs.length, n = x.length;
  const mse = new Float64Array(ws.length * nb), v = new Float64Array(mse.length), c = new Float64Array(mse.length);
  let my = 0;
  for (let k = 0; k < n; k++) my += y[k]!;
  my /= n;
  const yc = new Float64Array(n);
  let syy = 0;
  for (let k = 0; k < n; k++) { yc[k] = y[k]! - my; syy += yc[k]! * yc[k]!; }
  const sine = act === 'sine';
  // tanh and σ without a transcendental per point: σ(wx + b) = 1/(1 + e^(−wx)·e^(−b)) and
  // tanh(z) = 1 − 2u with u = 1/(1 + e^(2wx)·e^(2b)) — an affine map of the feature, which the
  // closed-form (v, c) absorbs exactly (v, c are mapped back below)
  const expo = act === 'tanh' ? 2 : act === 'sigmoid' ? -1 : 0;
  const fb = expo ? Float64Array.from(bs, (b) => Math.exp(expo * b)) : null;
  const f = typeof act === 'string' ? activation(act, leakySlope) : act;
  const wx = new Float64Array(n), a = new Float64Array(n), sn = new Float64Array(n), cs = new Float64Array(n);
  for (let i = 0; i < ws.length; i++) {
    for (let k = 0; k < n; k++) wx[k] = ws[i]! * x[k]!;
    if (sine) {
      // sin(wx + b) = cos b · sin(wx) + sin b · cos(wx): two centred features per w, O(1) per b
      let ms = 0, mc = 0;
      for (let k = 0; k < n; k++) { sn[k] = Math.sin(wx[k]!); cs[k] = Math.cos(wx[k]!); ms += sn[k]!; mc += cs[k]!; }
      ms /= n; mc /= n;
      let sss = 0, scc = 0, ssc = 0, ssy = 0, scy = 0;
      for (let k = 0; k < n; k++) {
        const ds = sn[k]! - ms, dc = cs[k]! - mc;
        sss += ds * ds; scc += dc * dc; ssc += ds * dc; ssy += ds * yc[k]!; scy += dc * yc[k]!;
      }
      for (let j = 0; j < nb; j++) {
        const cb = Math.cos(bs[j]!), sb = Math.sin(bs[j]!);
        const saa = cb * cb * sss + 2 * cb * sb * ssc + sb * sb * scc;
        const r = vcCentred(n, cb * ms + sb * mc, my, saa, cb * ssy + sb * scy, syy);
        mse[i * nb + j] = r.mse; v[i * nb + j] = r.v; c[i * nb + j] = r.c;
      }
    } else if (fb) {
      for (let k = 0; k < n; k++) sn[k] = Math.exp(expo * wx[k]!);
      for (let j = 0; j < nb; j++) {
        const F = fb[j]!;
        let ma = 0;
        for (let k = 0; k < n; k++) { const av = 1 / (1 + sn[k]! * F); a[k] = av; ma += av; }
        ma /= n;
        let saa = 0, say = 0;
        for (let k = 0; k < n; k++) { const d = a[k]! - ma; saa += d * d; say += d * yc[k]!; }
        const r = vcCentred(n, ma, my, saa, say, syy);
        mse[i * nb + j] = r.mse;
        if (expo === 2) { v[i * nb + j] = -r.v / 2; c[i * nb + j] = r.c + r.v / 2; } else { v[i * nb + j] = r.v; c[i * nb + j] = r.c; }
      }
    } else {
      // relu / leaky_relu / identity inline (a closure call per point costs 3×)
      const code = act === 'relu' ? 1 : act === 'leaky_relu' ? 2 : act === 'identity' ? 3 : 0;
      for (let j = 0; j < nb; j++) {
        const b = bs[j]!;
        let ma = 0;
        for (let k = 0; k < n; k++) {
          const z = wx[k]! + b;
          const av = code === 1 ? (z > 0 ? z : 0) : code === 2 ? (z > 0 ? z : leakySlope * z) : code === 3 ? z : f.f(z);
          a[k] = av; ma += av;
        }
        ma /= n;
        let saa = 0, say = 0;
        for (let k = 0; k < n; k++) { const d = a[k]! - ma; saa += d * d; say += d * yc[k]!; }
        const r = vcCentred(n, ma, my, saa, say, syy);
        mse[i * nb + j] = r.mse; v[i * nb + j] = r.v; c[i * nb + j] = r.c;
      }
    }
    onRow?.(i);
  }
  return { ws, bs, mse, v, c };
}

/** The grid point with the lowest MSE (ties: the first in row-major order). */
export function gridOptimum(l: ReturnType<typeof wbLandscape>): { w: number; b: number; v: number; c: number; mse: number } {
  let best = 0;
  for (let k = 1; k < l.mse.length; k++) if (l.mse[k]! < l.mse[best]!) best = k;
  const nb = l.bs.length;
  return { w: l.ws[Math.floor(best / nb)]!, b: l.bs[best % nb]!, v: l.v[best]!, c: l.c[best]!, mse: l.mse[best]! };
}
