/**
 * Analysis of the ActMix layers of a saved model (§A.9, `analyze_weights.py`), pure JS.
 * α is taken at the checkpoint's temperature; per-neuron entropy uses log(α + 1e-10) as the
 * seed does; std is the population std (np.std).
 */
import { actmixAlpha, basisValue, paramValues, type Basis, type SavedModel } from './mlp.js';

export interface LayerAnalysis {
  layer: number;
  name: string;
  F: number;
  bases: Basis[];
  /** F × K row-major. */
  alpha: Float64Array;
  entropy: Float64Array;
  dominant: Int32Array;
  maxAlpha: Float64Array;
  basisMass: Float64Array;
  lowest: number[];
  highest: number[];
}

export interface LayerStatistics {
  mean_entropy: number;
  std_entropy: number;
  min_entropy: number;
  max_entropy: number;
  max_possible_entropy: number;
  dominance_counts: Record<string, number>;
  num_neurons: number;
  basis_mass: Record<string, number>;
  max_alphas: number[];
  temperature: number;
}

/**
 * Per neuron of one layer's α (F × K, row-major): entropy with log(α + 1e-10) as the seed, the
 * dominant basis and its α; per basis the mass Σ_f α.
 */
export function neuronStats(alpha: ArrayLike<number>, F: number, K: number): { entropy: Float64Array; dominant: Int32Array; maxAlpha: Float64Array; basisMass: Float64Array } {
  const entropy = new Float64Array(F), dominant = new Int32Array(F), maxAlpha = new Float64Array(F), basisMass = new Float64Array(K);
  for (let f = 0; f < F; f++) {
    let h = 0, b = 0;
    for (let k = 0; k < K; k++) {
      const a = alpha[f * K + k]!;
      h -= a * Math.log(a + 1e-10);
      basisMass[k]! += a;
      if (a > alpha[f * K + b]!) b = k;
    }
    entropy[f] = h; dominant[f] = b; maxAlpha[f] = alpha[f * K + b]!;
  }
  return { entropy, dominant, maxAlpha, basisMass };
}

export function analyzeActMix(saved: SavedModel, temperature?: number, nSelect = 3): LayerAnalysis[] {
  if (saved.spec.activation !== 'actmix' || !saved.spec.actmix) throw new Error(`model has no ActMix layers (activation ${saved.spec.activation})`);
  const bases = saved.spec.actmix.bases;
  const K = bases.length;
  const T = temperature ?? saved.temperature;
  const out: LayerAnalysis[] = [];
  for (let l = 0; l < saved.spec.hidden.length; l++) {
    const p = saved.params[`act${l}/logits`];
    if (!p) throw new Error(`model has no parameter act${l}/logits`);
    const F = p.shape[0]!;
    const { alpha } = actmixAlpha(paramValues(p), F, K, T);
    const { entropy, dominant, maxAlpha, basisMass } = neuronStats(alpha, F, K);
    const order = Array.from({ length: F }, (_, i) => i).sort((a, b) => entropy[a]! - entropy[b]! || a - b);
    out.push({
      layer: l, name: `actmix_layer_${l}`, F, bases, alpha, entropy, dominant, maxAlpha, basisMass,
      lowest: order.slice(0, Math.min(nSelect, F)), highest: order.slice(Math.max(0, F - nSelect)).reverse(),
    });
  }
  return out;
}

export function layerStatistics(a: LayerAnalysis, temperature: number): LayerStatistics {
  const n = a.F;
  const mean = a.entropy.reduce((s, v) => s + v, 0) / n;
  const std = Math.sqrt(a.entropy.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
  const dom: Record<string, number> = {}, mass: Record<string, number> = {};
  a.bases.forEach((b, k) => { dom[b] = 0; mass[b] = a.basisMass[k]!; });
  for (const d of a.dominant) dom[a.bases[d]!]!++;
  return {
    mean_entropy: mean, std_entropy: std, min_entropy: Math.min(...a.entropy), max_entropy: Math.max(...a.entropy),
    max_possible_entropy: Math.log(a.bases.length),
    dominance_counts: dom, num_neurons: n, basis_mass: mass, max_alphas: Array.from(a.maxAlpha), temperature,
  };
}

/** g_f(x) = Σ_k α_{f,k} φ_k(x) on `xs` (sine uses ω₀). */
export function effectiveActivation(a: LayerAnalysis, f: number, xs: number[], omega0: number): number[] {
  const K = a.bases.length;
  return xs.map((x) => a.bases.reduce((s, b, k) => s + a.alpha[f * K + k]! * basisValue(b, x, omega0), 0));
}

export function linspace(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

/** Counts of `values` in `bins` equal bins on [lo, hi] (the last bin includes hi; values outside are dropped). */
export function histogram(values: ArrayLike<number>, lo: number, hi: number, bins: number): { start: number[]; end: number[]; count: number[] } {
  const count = new Array<number>(bins).fill(0);
  const w = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) {
    let v = values[i]!;
    // round-off at the edges (e.g. entropy −1e-10 of a one-hot neuron) counts in the edge bin
    if (v < lo && v > lo - 1e-9) v = lo;
    if (v > hi && v < hi + 1e-9) v = hi;
    if (v < lo || v > hi) continue;
    count[Math.min(bins - 1, Math.floor((v - lo) / w))]!++;
  }
  return { start: count.map((_, i) => lo + i * w), end: count.map((_, i) => lo + (i + 1) * w), count };
}

/**
 * ActMix state over training, as the `train` stage records it (output `alpha`): one row per
 * snapshot with `epoch` (−1 = the initial weights), `step`, `temperature` [T] and one
 * `logits_<l>` column (F·K values, row-major) per ActMix layer; the table's metadata carries
 * `bases` and `snapshot_shapes`.
 */
export interface AlphaSnapshots {
  epoch: number[];
  step: number[];
  temperature: number[];
  bases: Basis[];
  /** Per layer: F, K and the logits of every snapshot. */
  layers: { F: number; K: number; logits: Float32Array[] }[];
  bestEpoch: number | null;
}

export function readAlphaSnapshots(t: import('apache-arrow').Table): AlphaSnapshots {
  const raw = t.schema.metadata.get('pipe');
  const meta = (raw ? JSON.parse(raw) : {}) as { bases?: Basis[]; snapshot_shapes?: Record<string, number[]>; best_epoch?: number };
  const bases = meta.bases;
  if (!bases?.length) throw new Error("the alpha snapshots carry no 'bases' in their metadata (not a train stage's alpha output?)");
  const num = (name: string) => {
    const c = t.getChild(name);
    if (!c) throw new Error(`the alpha snapshots have no '${name}' column`);
    return c;
  };
  const epoch = Array.from(num('epoch').toArray() as ArrayLike<number>, Number);
  const step = Array.from(num('step').toArray() as ArrayLike<number>, Number);
  const tcol = num('temperature');
  const temperature = epoch.map((_, r) => Number((tcol.get(r)!.toArray() as Float32Array)[0]));
  const layers: AlphaSnapshots['layers'] = [];
  for (let l = 0; t.getChild(`logits_${l}`); l++) {
    const c = t.getChild(`logits_${l}`)!;
    const shape = meta.snapshot_shapes?.[`logits_${l}`];
    const K = bases.length;
    const logits = epoch.map((_, r) => Float32Array.from(c.get(r)!.toArray() as Float32Array));
    const F = shape?.[0] ?? (logits[0]!.length / K);
    if (F * K !== logits[0]!.length) throw new Error(`logits_${l} has ${logits[0]!.length} values per snapshot, not F·K = ${F}·${K}`);
    layers.push({ F, K, logits });
  }
  if (!layers.length) throw new Error('the alpha snapshots have no logits_<l> columns');
  return { epoch, step, temperature, bases, layers, bestEpoch: meta.best_epoch ?? null };
}

/** The saved model with the mixing logits and temperature of snapshot `s` (e.g. the last epoch: the seed's `last.ckpt`). */
export function atSnapshot(saved: SavedModel, snaps: AlphaSnapshots, s: number): SavedModel {
  if (s < 0 || s >= snaps.epoch.length) throw new Error(`snapshot ${s} out of range (0..${snaps.epoch.length - 1})`);
  if (snaps.layers.length !== saved.spec.hidden.length) throw new Error(`the snapshots have ${snaps.layers.length} ActMix layers, the model ${saved.spec.hidden.length}`);
  const params = { ...saved.params };
  snaps.layers.forEach((L, l) => {
    const cur = saved.params[`act${l}/logits`];
    if (!cur || cur.shape[0] !== L.F || cur.shape[1] !== L.K) throw new Error(`layer ${l}: the snapshots are ${L.F}×${L.K}, the model's logits ${cur?.shape.join('×') ?? 'absent'}`);
    params[`act${l}/logits`] = { shape: [L.F, L.K], values: Array.from(L.logits[s]!) };
  });
  return { ...saved, temperature: snaps.temperature[s]!, params };
}

/** Per snapshot and layer: basis mass Σ_f α (and per neuron), dominance counts, mean entropy, at the snapshot's T. */
export function alphaDynamics(snaps: AlphaSnapshots): {
  epoch: number; layer: number; temperature: number; alpha: Float64Array; F: number; K: number;
  mass: Float64Array; dominant: Int32Array; meanEntropy: number;
}[] {
  const out = [];
  for (let s = 0; s < snaps.epoch.length; s++) {
    for (let l = 0; l < snaps.layers.length; l++) {
      const { F, K, logits } = snaps.layers[l]!;
      const T = snaps.temperature[s]!;
      const { alpha } = actmixAlpha(logits[s]!, F, K, T);
      const st = neuronStats(alpha, F, K);
      const dominant = new Int32Array(K);
      for (const b of st.dominant) dominant[b]!++;
      const meanEntropy = st.entropy.reduce((a, v) => a + v, 0) / F;
      out.push({ epoch: snaps.epoch[s]!, layer: l, temperature: T, alpha, F, K, mass: st.basisMass, dominant, meanEntropy });
    }
  }
  return out;
}
