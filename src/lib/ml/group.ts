/**
 * Sequential group composition over C_p (1D) and C_p1 × C_p2 (2D), seed-systems §D.1, §D.2, §D.6.
 *
 *  - A group element acts on a template τ by cyclic shift, `np.roll` by +g:
 *      1D (g·τ)[i] = τ[(i − g) mod p];  2D (g·τ)[i, j] = τ[(i − g_x) mod p1, (j − g_y) mod p2]
 *  - A sequence g₁…g_k gives inputs x_t = g_t·τ and the target (g₁ + … + g_k)·τ (each coordinate
 *    mod its modulus); seq-to-seq targets are the cumulative rolls after tokens 2..k.
 *  - Templates: fourier (1D, 2D "unique freqs"), gaussian (1D), mnist (row-mean projection
 *    resampled by cubic interpolation / bilinear resize), onehot; all mean-centred at the end.
 *  - The AGF staircase: template power spectrum (ΣP = ‖τ‖²) and plateau levels
 *    L_m = (1/|G|) Σ_{j>m} P₍ⱼ₎ (descending powers), L₀ = Var(τ).
 *  - Fourier power of learned weights and the neuron → frequency assignment (§D.6).
 * Everything is float64 on host arrays; the models (group-models.ts) take float32 copies.
 */
import type { Rng } from '../../sdk/rng.js';

export interface Group {
  /** [p] for C_p, [p1, p2] for C_p1 × C_p2. */
  dims: number[];
}

export const groupOrder = (g: Group) => g.dims.reduce((a, b) => a * b, 1);

/** The template rolled by the element with flat index `e` (1D: e = g; 2D: e = g_x·p2 + g_y), into `out` at `at`. */
export function rollInto(tau: ArrayLike<number>, g: Group, e: number, out: Float32Array | Float64Array, at: number): void {
  if (ArrayBuffer.isView(tau) && (tau as Float32Array).subarray && (out as Float32Array).constructor === (tau as Float32Array).constructor) {
    // typed arrays of the same kind: a roll is two slice copies per row
    const t = tau as Float32Array, o = out as Float32Array;
    if (g.dims.length === 1) {
      const p = g.dims[0]!, s = ((e % p) + p) % p;
      o.set(t.subarray(p - s, p), at);
      o.set(t.subarray(0, p - s), at + s);
      return;
    }
    const [p1, p2] = g.dims as [number, number];
    const gx = Math.floor(e / p2), gy = e % p2;
    for (let i = 0; i < p1; i++) {
      const si = (((i - gx) % p1) + p1) % p1, src = si * p2, dst = at + i * p2;
      o.set(t.subarray(src + p2 - gy, src + p2), dst);
      o.set(t.subarray(src, src + p2 - gy), dst + gy);
    }
    return;
  }
  if (g.dims.length === 1) {
    const p = g.dims[0]!;
    for (let i = 0; i < p; i++) out[at + i] = tau[(((i - e) % p) + p) % p]!;
    return;
  }
  const [p1, p2] = g.dims as [number, number];
  const gx = Math.floor(e / p2), gy = e % p2;
  for (let i = 0; i < p1; i++) {
    const si = (((i - gx) % p1) + p1) % p1;
    for (let j = 0; j < p2; j++) out[at + i * p2 + j] = tau[si * p2 + ((((j - gy) % p2) + p2) % p2)]!;
  }
}

/** g ∘ h for flat element indices (coordinate-wise addition mod each modulus). */
export function compose(g: Group, a: number, b: number): number {
  if (g.dims.length === 1) return (a + b) % g.dims[0]!;
  const p2 = g.dims[1]!;
  const x = (Math.floor(a / p2) + Math.floor(b / p2)) % g.dims[0]!, y = ((a % p2) + (b % p2)) % p2;
  return x * p2 + y;
}

export interface Batch {
  /** Inputs: k blocks, x_t of shape B × n (n = |τ|), block t at offset t·B·n. */
  X: Float32Array;
  /** Targets: B × n (seq-to-one) or (k−1) blocks of B × n (seq-to-seq, after tokens 2..k). */
  Y: Float32Array;
  B: number;
}

/**
 * Inputs and targets of sequences given as element indices `seqs` (B × k, row-major). Layout
 * `tokens`: x_t as contiguous B × n blocks (t-major, for the RNN); `rows`: one row
 * [x₁; …; x_k] of length kn per sequence (the SequentialMLP's concatenated input).
 */
export function batchOf(tau: ArrayLike<number>, g: Group, seqs: Int32Array, B: number, k: number, seqToSeq: boolean, layout: 'tokens' | 'rows' = 'tokens', into?: { X: Float32Array; Y: Float32Array }): Batch {
  const n = groupOrder(g);
  const X = into?.X.subarray(0, k * B * n) ?? new Float32Array(k * B * n);
  const Y = into?.Y.subarray(0, (seqToSeq ? k - 1 : 1) * B * n) ?? new Float32Array((seqToSeq ? k - 1 : 1) * B * n);
  const t32 = tau instanceof Float32Array ? tau : Float32Array.from(tau);
  const R = rolledTable(t32, g);
  const put = (e: number, out: Float32Array, at: number) => { if (R) out.set(R.subarray(e * n, (e + 1) * n), at); else rollInto(t32, g, e, out, at); };
  for (let b = 0; b < B; b++) {
    let acc = 0;
    for (let t = 0; t < k; t++) {
      const e = seqs[b * k + t]!;
      put(e, X, layout === 'tokens' ? (t * B + b) * n : (b * k + t) * n);
      acc = t === 0 ? e : compose(g, acc, e);
      if (seqToSeq && t >= 1) put(acc, Y, ((t - 1) * B + b) * n);
    }
    if (!seqToSeq) put(acc, Y, b * n);
  }
  return { X, Y, B };
}

const rolledCache = new WeakMap<Float32Array, { key: string; R: Float32Array }>();

/** Every group element's rolled template (|G| × |G| floats), cached per template; null when over 4·10⁶ floats. */
function rolledTable(tau: Float32Array, g: Group): Float32Array | null {
  const n = groupOrder(g);
  if (n * n > 4e6) return null;
  const key = g.dims.join('x');
  const c = rolledCache.get(tau);
  if (c && c.key === key) return c.R;
  const R = new Float32Array(n * n);
  for (let e = 0; e < n; e++) rollInto(tau, g, e, R, e * n);
  rolledCache.set(tau, { key, R });
  return R;
}

/** B random sequences (uniform i.i.d. elements). */
export function randomSeqs(rng: Rng, g: Group, B: number, k: number): Int32Array {
  const n = groupOrder(g);
  const s = new Int32Array(B * k);
  for (let i = 0; i < s.length; i++) s[i] = rng.int(0, n - 1);
  return s;
}

/** All n^k sequences, idx ↦ g_t = ⌊idx / n^t⌋ mod n (refused above 10⁶). */
export function exhaustiveSeqs(g: Group, k: number): Int32Array {
  const n = groupOrder(g);
  const N = n ** k;
  if (N > 1e6) throw new Error(`exhaustive: ${n}^${k} = ${N} sequences is more than 10⁶; use mode sampled`);
  const s = new Int32Array(N * k);
  for (let idx = 0; idx < N; idx++) for (let t = 0; t < k; t++) s[idx * k + t] = Math.floor(idx / n ** t) % n;
  return s;
}

// ---------------------------------------------------------------------------------------------
// templates

function standardize(v: Float64Array): Float64Array {
  const n = v.length;
  const m = v.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / n);
  if (sd < 1e-12) return v;
  return v.map((x) => (x - m) / sd);
}

export function centre(v: Float64Array): Float64Array {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return v.map((x) => x - m);
}

/** √linspace(100, 10, n). */
function amplitudes(n: number): number[] {
  return Array.from({ length: n }, (_, j) => Math.sqrt(n === 1 ? 100 : 100 + ((10 - 100) * j) / (n - 1)));
}

/** 1D fourier template (§D.2): n_freqs distinct frequencies from {1..⌊p/2⌋}, amplitudes √linspace(100, 10), random phases; standardised. */
export function fourier1d(p: number, nFreqs: number, rng: Rng): { tau: Float64Array; freqs: number[] } {
  const cands = Array.from({ length: Math.floor(p / 2) }, (_, i) => i + 1);
  if (nFreqs > cands.length) throw new Error(`fourier: ${nFreqs} frequencies but only ${cands.length} in 1..⌊p/2⌋`);
  rng.shuffle(cands);
  const freqs = cands.slice(0, nFreqs);
  const A = amplitudes(nFreqs);
  const tau = new Float64Array(p);
  freqs.forEach((f, j) => {
    const phi = rng.uniform(0, 2 * Math.PI);
    // real(IDFT) of A e^{iφ} at +f and its conjugate at −f: (2A/p) cos(2πfi/p + φ); the Nyquist bin is its own conjugate
    const scale = 2 * f === p ? 1 : 2;
    for (let i = 0; i < p; i++) tau[i] = tau[i]! + (scale * A[j]! * Math.cos((2 * Math.PI * f * i) / p + phi)) / p;
  });
  return { tau: standardize(tau), freqs };
}

/** 2D "unique freqs" fourier template (§D.2). */
export function fourier2d(p1: number, p2: number, nFreqs: number, rng: Rng): { tau: Float64Array; freqs: [number, number][] } {
  const cands: { ky: number; kx: number; s: number }[] = [];
  for (let ky = 0; ky < p1; ky++) {
    for (let kx = 0; kx <= Math.floor(p2 / 2); kx++) {
      const s = ky <= p1 / 2 ? ky : ky - p1; // signed k_y
      const edgeCol = kx === 0 || (p2 % 2 === 0 && kx === p2 / 2);
      if (edgeCol && (s === 0 || (p1 % 2 === 0 && Math.abs(s) === p1 / 2))) continue; // DC / self-conjugate
      cands.push({ ky, kx, s });
    }
  }
  cands.sort((a, b) => a.s * a.s + a.kx * a.kx - (b.s * b.s + b.kx * b.kx) || Math.abs(a.s) - Math.abs(b.s) || a.kx - b.kx);
  const taken: { ky: number; kx: number; s: number }[] = [];
  for (const c of cands) {
    if (taken.length === nFreqs) break;
    const edgeCol = c.kx === 0 || (p2 % 2 === 0 && c.kx === p2 / 2);
    if (edgeCol && taken.some((t) => t.kx === c.kx && t.s === -c.s)) continue; // its ±k_y partner on that column
    taken.push(c);
  }
  if (taken.length < nFreqs) throw new Error(`fourier 2D: only ${taken.length} distinct frequencies for ${p1}×${p2}`);
  const A = amplitudes(nFreqs);
  const tau = new Float64Array(p1 * p2);
  taken.forEach((c, j) => {
    const phi = rng.uniform(0, 2 * Math.PI);
    // value at (k_y, k_x) and its conjugate at (−k_y, −k_x): real IDFT2 = (2A/(p1p2)) cos(2π(k_y i/p1 + k_x j'/p2) + φ)
    for (let i = 0; i < p1; i++) for (let jj = 0; jj < p2; jj++) {
      tau[i * p2 + jj] = tau[i * p2 + jj]! + (2 * A[j]! * Math.cos(2 * Math.PI * ((c.ky * i) / p1 + (c.kx * jj) / p2) + phi)) / (p1 * p2);
    }
  });
  return { tau: standardize(tau), freqs: taken.map((c) => [c.ky, c.kx]) };
}

/** 1D gaussian template: 3 periodic bumps, centre U(0,p), σ U(0.5,2), amplitude U(0.5,1); standardised. */
export function gaussian1d(p: number, rng: Rng): Float64Array {
  const tau = new Float64Array(p);
  for (let b = 0; b < 3; b++) {
    const c = rng.uniform(0, p), s = rng.uniform(0.5, 2), a = rng.uniform(0.5, 1);
    for (let i = 0; i < p; i++) { const d = Math.min(Math.abs(i - c), p - Math.abs(i - c)); tau[i] = tau[i]! + a * Math.exp(-(d * d) / (2 * s * s)); }
  }
  return standardize(tau);
}

/** Catmull-Rom cubic interpolation of `v` (values at 0..n−1) at `x`, clamped ends. */
function cubicAt(v: ArrayLike<number>, x: number): number {
  const n = v.length;
  const i = Math.min(n - 2, Math.max(0, Math.floor(x)));
  const t = x - i;
  const at = (j: number) => v[Math.min(n - 1, Math.max(0, j))]!;
  const p0 = at(i - 1), p1 = at(i), p2 = at(i + 1), p3 = at(i + 2);
  return p1 + 0.5 * t * (p2 - p0 + t * (2 * p0 - 5 * p1 + 4 * p2 - p3 + t * (3 * (p1 - p2) + p3 - p0)));
}

/** 1D mnist template: the image's row-mean projection (28 values in [0,1]) resampled to p points (cubic). */
export function mnist1d(image: ArrayLike<number>, p: number): Float64Array {
  const rows = Array.from({ length: 28 }, (_, r) => { let s = 0; for (let c = 0; c < 28; c++) s += image[r * 28 + c]!; return s / 28; });
  return Float64Array.from({ length: p }, (_, i) => cubicAt(rows, p === 1 ? 0 : (i * 27) / (p - 1)));
}

/** 2D mnist template: the 28×28 image bilinearly resized to p1 × p2 (pixel-centre alignment). */
export function mnist2d(image: ArrayLike<number>, p1: number, p2: number): Float64Array {
  const out = new Float64Array(p1 * p2);
  for (let i = 0; i < p1; i++) for (let j = 0; j < p2; j++) {
    const y = Math.min(27, Math.max(0, ((i + 0.5) * 28) / p1 - 0.5)), x = Math.min(27, Math.max(0, ((j + 0.5) * 28) / p2 - 0.5));
    const y0 = Math.floor(y), x0 = Math.floor(x), y1 = Math.min(27, y0 + 1), x1 = Math.min(27, x0 + 1), fy = y - y0, fx = x - x0;
    const v = (r: number, c: number) => image[r * 28 + c]!;
    out[i * p2 + j] = (1 - fy) * ((1 - fx) * v(y0, x0) + fx * v(y0, x1)) + fy * ((1 - fx) * v(y1, x0) + fx * v(y1, x1));
  }
  return out;
}

export function onehot(n: number): Float64Array {
  const t = new Float64Array(n);
  t[0] = 1;
  return t;
}

// ---------------------------------------------------------------------------------------------
// the staircase (§D.6)

/** |DFT_k|² of a real sequence, k = 0..n−1 (direct O(n²): templates are small). */
function dftPower1d(v: ArrayLike<number>): Float64Array {
  const n = v.length;
  const P = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let re = 0, im = 0;
    for (let i = 0; i < n; i++) { const a = (-2 * Math.PI * k * i) / n; re += v[i]! * Math.cos(a); im += v[i]! * Math.sin(a); }
    P[k] = re * re + im * im;
  }
  return P;
}

function dftPower2d(v: ArrayLike<number>, p1: number, p2: number): Float64Array {
  const P = new Float64Array(p1 * p2);
  for (let ky = 0; ky < p1; ky++) for (let kx = 0; kx < p2; kx++) {
    let re = 0, im = 0;
    for (let i = 0; i < p1; i++) for (let j = 0; j < p2; j++) {
      const a = -2 * Math.PI * ((ky * i) / p1 + (kx * j) / p2);
      re += v[i * p2 + j]! * Math.cos(a); im += v[i * p2 + j]! * Math.sin(a);
    }
    P[ky * p2 + kx] = re * re + im * im;
  }
  return P;
}

export interface PowerBin {
  /** 1D: [k]; 2D: [k_y, k_x] — the representative of a conjugate pair. */
  freq: number[];
  power: number;
}

/**
 * The template's power per irreducible representation (a conjugate frequency pair), ΣP = ‖τ‖²:
 * 1D |rfft|²/p doubled except DC and Nyquist; 2D |rfft2|²/(p1p2) doubled except self-conjugate bins.
 */
export function powerSpectrum(tau: ArrayLike<number>, g: Group): PowerBin[] {
  const out: PowerBin[] = [];
  if (g.dims.length === 1) {
    const p = g.dims[0]!;
    const P = dftPower1d(tau);
    for (let k = 0; k <= Math.floor(p / 2); k++) {
      const self = k === 0 || 2 * k === p;
      out.push({ freq: [k], power: (P[k]! / p) * (self ? 1 : 2) });
    }
    return out;
  }
  const [p1, p2] = g.dims as [number, number];
  const P = dftPower2d(tau, p1, p2);
  const seen = new Set<number>();
  for (let ky = 0; ky < p1; ky++) for (let kx = 0; kx < p2; kx++) {
    const id = ky * p2 + kx, conj = ((p1 - ky) % p1) * p2 + ((p2 - kx) % p2);
    if (seen.has(id)) continue;
    seen.add(id);
    seen.add(conj);
    out.push({ freq: [ky, kx], power: ((id === conj ? 1 : 2) * P[id]!) / (p1 * p2) });
  }
  return out;
}

/** Plateau levels L_m = (1/|G|) Σ_{j>m} P₍ⱼ₎ over the nonzero powers sorted descending (L₀ = ‖τ‖²/|G|, last 0). */
export function staircase(tau: ArrayLike<number>, g: Group, tol = 1e-9): { powers: PowerBin[]; levels: number[] } {
  const n = groupOrder(g);
  const total = Array.from(tau).reduce((a, b) => a + b * b, 0);
  const powers = powerSpectrum(tau, g).filter((b) => b.power > tol * Math.max(1, total)).sort((a, b) => b.power - a.power);
  const levels: number[] = [];
  let rest = powers.reduce((a, b) => a + b.power, 0);
  levels.push(rest / n);
  for (const b of powers) { rest -= b.power; levels.push(Math.max(0, rest) / n); }
  // after the last mode the level is exactly 0 (not the rounding residue of the subtractions)
  levels[levels.length - 1] = 0;
  return { powers, levels };
}

/**
 * Power of each neuron's weight vector per frequency pair (`vectors`: m rows of length n laid out
 * on the group), and the frequency with the largest power among `tracked` (the template's).
 */
export function neuronFrequencies(vectors: ArrayLike<number>, m: number, g: Group, tracked: number[][]): { power: Float64Array; assigned: Int32Array; norm: Float64Array } {
  const n = groupOrder(g);
  const T = tracked.length;
  const power = new Float64Array(m * T), assigned = new Int32Array(m), norm = new Float64Array(m);
  const v = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) { v[j] = vectors[i * n + j]!; s += v[j]! * v[j]!; }
    norm[i] = Math.sqrt(s);
    const bins = powerSpectrum(v, g);
    let best = 0;
    tracked.forEach((f, t) => {
      const b = bins.find((x) => x.freq.length === f.length && x.freq.every((c, q) => c === f[q]));
      power[i * T + t] = b?.power ?? 0;
      if (power[i * T + t]! > power[i * T + best]!) best = t;
    });
    assigned[i] = best;
  }
  return { power, assigned, norm };
}
