/**
 * MLP with a fixed activation or ActMix layers (§A.1, §A.2), on TF.js.
 *
 *   input → [Linear → act → Dropout]×L → Linear(→ d_out)
 *
 * act ∈ relu | gelu (exact erf) | prelu (one slope per unit, init 0.25) | tanh | sigmoid |
 *       leaky_relu (slope 0.01) | softplus | sine (sin(ω₀z)) | identity | actmix
 *
 * ActMix layer (per hidden layer with F units and bases Φ = (φ₁..φ_K)):
 *   logits a ∈ ℝ^{F×K} (trainable, init 0, relu column = relu_bias), temperature T (buffer),
 *   α = softmax(a/T) per row,  y_f = Σ_k α_{f,k} φ_k(z_f)  (sin basis = sin(ω₀ z)),
 *   H_layer = mean_f −Σ_k α log α (log-softmax), H̄ = mean over ActMix layers.
 *
 * Linear layers use PyTorch's init drawn from the seeded Rng, so weights are backend-independent.
 */
import type * as TF from '@tensorflow/tfjs';
import type { Rng } from '../../sdk/rng.js';
import { torchLinearInit, type Tf } from './optim.js';

export const ACTIVATIONS = ['relu', 'gelu', 'prelu', 'tanh', 'sigmoid', 'leaky_relu', 'softplus', 'sine', 'identity', 'actmix'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const BASES = ['sin', 'tanh', 'relu', 'identity', 'sigmoid', 'silu'] as const;
export type Basis = (typeof BASES)[number];

export interface ActMixConfig {
  bases: Basis[];
  relu_bias: number;
  omega_0: number;
  /** Temperature anneal T₀ → T_f over anneal_epochs. */
  t0: number;
  t_final: number;
  anneal_epochs: number;
  /** Entropy weight λ_max with a linear warm-up over warmup_epochs. */
  lambda_max: number;
  warmup_epochs: number;
}

export const ACTMIX_PRESET_NAMES = ['actmix-paper', 'actmix-repo-head'] as const;

/** §A.10: README/dataclass values ("paper") and the YAML Hydra loads at HEAD ("repo-head"). */
export const ACTMIX_PRESETS: Record<(typeof ACTMIX_PRESET_NAMES)[number], ActMixConfig> = {
  'actmix-paper': { bases: ['sin', 'tanh', 'relu', 'identity'], relu_bias: 1.5, omega_0: 1.0, t0: 1.0, t_final: 0.01, anneal_epochs: 150, lambda_max: 0.01, warmup_epochs: 50 },
  'actmix-repo-head': { bases: ['sin', 'tanh', 'relu', 'identity'], relu_bias: 0.0, omega_0: 1.0, t0: 1.0, t_final: 1.0, anneal_epochs: 150, lambda_max: 0.0, warmup_epochs: 50 },
};

export interface MlpSpec {
  inputDim: number;
  outputDim: number;
  hidden: number[];
  dropout: number;
  activation: Activation;
  /** ω₀ of the `sine` activation. */
  omega0?: number;
  leakySlope?: number;
  actmix?: ActMixConfig;
}

export interface ForwardOptions {
  training: boolean;
  /** ActMix temperature (ignored by other activations). */
  temperature?: number;
  /** Seeds for the dropout masks of this forward pass (one per hidden layer). */
  dropoutSeeds?: number[];
}

interface Param { name: string; v: TF.Variable }

export interface SavedModel {
  format: 'pipe-mlp/1';
  spec: MlpSpec;
  temperature: number;
  /** Parameter values: float32 little-endian, base64 (`data`), or a plain array (`values`). */
  params: Record<string, { shape: number[]; data?: string; values?: number[] }>;
  [k: string]: unknown;
}

/** α = softmax(a/T) and per-neuron entropies, in float64 (for analysis and tests). */
export function actmixAlpha(logits: ArrayLike<number>, F: number, K: number, T: number): { alpha: Float64Array; entropy: Float64Array } {
  const alpha = new Float64Array(F * K);
  const entropy = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits[f * K + k]! / T);
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(logits[f * K + k]! / T - m);
    const lz = Math.log(z);
    let h = 0;
    for (let k = 0; k < K; k++) {
      const la = logits[f * K + k]! / T - m - lz;
      const a = Math.exp(la);
      alpha[f * K + k] = a;
      h -= a * la;
    }
    entropy[f] = h;
  }
  return { alpha, entropy };
}

/** The float32 values of a saved parameter. */
export function paramValues(p: { data?: string; values?: number[] }): Float32Array {
  if (p.values) return Float32Array.from(p.values);
  if (p.data === undefined) throw new Error('saved parameter has neither data nor values');
  const b = Buffer.from(p.data, 'base64');
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** φ(x) of one basis in float64 (reference for tests and for effective-activation curves). */
export function basisValue(b: Basis, x: number, omega0 = 1): number {
  switch (b) {
    case 'sin': return Math.sin(omega0 * x);
    case 'tanh': return Math.tanh(x);
    case 'relu': return Math.max(0, x);
    case 'identity': return x;
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'silu': return x / (1 + Math.exp(-x));
  }
}

export class Mlp {
  readonly params: Param[] = [];
  /** Current ActMix temperature (a buffer: saved, not trained). */
  temperature: number;
  private dense: { W: TF.Variable; b: TF.Variable }[] = [];
  private act: { prelu?: TF.Variable; logits?: TF.Variable }[] = [];

  /**
   * x·W + b with a hand-written gradient: TF.js's own MatMul gradient calls matMul with
   * transposeA/transposeB, which the wasm backend runs 10–20× slower than an explicit
   * transpose followed by a plain matMul.
   */
  private linear: (x: TF.Tensor2D, W: TF.Tensor2D, b: TF.Tensor1D) => TF.Tensor2D;

  private constructor(private tf: Tf, readonly spec: MlpSpec) {
    this.temperature = spec.actmix?.t0 ?? 1;
    this.linear = tf.customGrad(((x: TF.Tensor2D, W: TF.Tensor2D, b: TF.Tensor1D, save: (t: TF.Tensor[]) => void) => {
      save([x, W]);
      return {
        value: tf.add(tf.matMul(x, W), b) as TF.Tensor2D,
        gradFunc: (dy: TF.Tensor2D, saved: TF.Tensor[]) => {
          const [xs, Ws] = saved as [TF.Tensor2D, TF.Tensor2D];
          return [tf.matMul(dy, tf.transpose(Ws)), tf.matMul(tf.transpose(xs), dy), tf.sum(dy, 0)];
        },
      };
    }) as never) as unknown as (x: TF.Tensor2D, W: TF.Tensor2D, b: TF.Tensor1D) => TF.Tensor2D;
  }

  get isActMix(): boolean { return this.spec.activation === 'actmix'; }
  get variables(): TF.Variable[] { return this.params.map((p) => p.v); }

  static create(tf: Tf, spec: MlpSpec, rng: Rng): Mlp {
    if (spec.activation === 'actmix' && !spec.actmix) throw new Error('actmix activation needs an actmix config');
    const m = new Mlp(tf, spec);
    const dims = [spec.inputDim, ...spec.hidden, spec.outputDim];
    for (let l = 0; l < dims.length - 1; l++) {
      const { W, b } = torchLinearInit(rng, dims[l]!, dims[l + 1]!);
      m.addDense(l, tf.tensor2d(W, [dims[l]!, dims[l + 1]!]), tf.tensor1d(b));
      if (l < spec.hidden.length) {
        const F = dims[l + 1]!;
        if (spec.activation === 'prelu') {
          m.addAct(l, 'prelu', tf.fill([F], 0.25));
        } else if (spec.activation === 'actmix') {
          const K = spec.actmix!.bases.length;
          const a = new Float32Array(F * K);
          const r = spec.actmix!.bases.indexOf('relu');
          if (r >= 0 && spec.actmix!.relu_bias !== 0) for (let f = 0; f < F; f++) a[f * K + r] = spec.actmix!.relu_bias;
          m.addAct(l, 'logits', tf.tensor2d(a, [F, K]));
        }
      }
    }
    return m;
  }

  static load(tf: Tf, saved: SavedModel): Mlp {
    if (saved.format !== 'pipe-mlp/1') throw new Error(`not a pipe MLP model (format ${String(saved.format)})`);
    const m = new Mlp(tf, saved.spec);
    m.temperature = saved.temperature;
    const get = (name: string) => {
      const p = saved.params[name];
      if (!p) throw new Error(`model file has no parameter '${name}'`);
      return tf.tensor(paramValues(p), p.shape, 'float32');
    };
    const L = saved.spec.hidden.length;
    for (let l = 0; l <= L; l++) {
      m.addDense(l, get(`dense${l}/kernel`), get(`dense${l}/bias`));
      if (l < L && saved.spec.activation === 'prelu') m.addAct(l, 'prelu', get(`act${l}/alpha`));
      if (l < L && saved.spec.activation === 'actmix') m.addAct(l, 'logits', get(`act${l}/logits`));
    }
    return m;
  }

  private addDense(l: number, W: TF.Tensor, b: TF.Tensor): void {
    const d = { W: this.tf.variable(W, true), b: this.tf.variable(b, true) };
    W.dispose(); b.dispose();
    this.dense[l] = d;
    this.params.push({ name: `dense${l}/kernel`, v: d.W }, { name: `dense${l}/bias`, v: d.b });
  }

  private addAct(l: number, what: 'prelu' | 'logits', t: TF.Tensor): void {
    const name = what === 'prelu' ? `act${l}/alpha` : `act${l}/logits`;
    const v = this.tf.variable(t, true);
    t.dispose();
    this.act[l] = what === 'prelu' ? { prelu: v } : { logits: v };
    this.params.push({ name, v });
  }

  /** ActMix logits variables, one per hidden layer (empty for other activations). */
  actmixLogits(): TF.Variable[] {
    return this.act.filter((a) => a?.logits).map((a) => a.logits!);
  }

  private activate(l: number, z: TF.Tensor2D, T: TF.Scalar | null, entropies: TF.Scalar[]): TF.Tensor2D {
    const tf = this.tf;
    const s = this.spec;
    switch (s.activation) {
      case 'relu': return tf.relu(z);
      case 'gelu': return tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))));
      case 'prelu': return tf.prelu(z, this.act[l]!.prelu! as unknown as TF.Tensor2D);
      case 'tanh': return tf.tanh(z);
      case 'sigmoid': return tf.sigmoid(z);
      case 'leaky_relu': return tf.leakyRelu(z, s.leakySlope ?? 0.01);
      case 'softplus': return tf.softplus(z);
      case 'sine': return tf.sin(tf.mul(z, s.omega0 ?? 1)) as TF.Tensor2D;
      case 'identity': return z;
      case 'actmix': {
        const cfg = s.actmix!;
        const scaled = tf.div(this.act[l]!.logits!, T!);
        const alpha = tf.softmax(scaled); // [F, K]
        const logAlpha = tf.logSoftmax(scaled);
        entropies.push(tf.mean(tf.neg(tf.sum(tf.mul(alpha, logAlpha), 1))) as TF.Scalar);
        // Σ_k φ_k(z) ⊙ α[:, k] (per-basis products; tf.stack on the last axis is slow on wasm)
        const cols = tf.unstack(alpha, 1);
        return tf.addN(cfg.bases.map((b, k) => tf.mul(this.basis(b, z, cfg.omega_0), cols[k]!))) as TF.Tensor2D;
      }
    }
  }

  private basis(b: Basis, z: TF.Tensor2D, omega0: number): TF.Tensor2D {
    const tf = this.tf;
    switch (b) {
      case 'sin': return tf.sin(omega0 === 1 ? z : (tf.mul(z, omega0) as TF.Tensor2D));
      case 'tanh': return tf.tanh(z);
      case 'relu': return tf.relu(z);
      case 'identity': return z;
      case 'sigmoid': return tf.sigmoid(z);
      case 'silu': return tf.mul(z, tf.sigmoid(z));
    }
  }

  /**
   * Forward pass. Returns the output [B, d_out] and the mean ActMix entropy H̄ (null when the
   * model has no ActMix layer). Call inside tf.tidy / variableGrads.
   */
  forward(x: TF.Tensor2D, opts: ForwardOptions): { out: TF.Tensor2D; entropy: TF.Scalar | null } {
    const tf = this.tf;
    const L = this.spec.hidden.length;
    const T = this.isActMix ? tf.scalar(opts.temperature ?? this.temperature) : null;
    const entropies: TF.Scalar[] = [];
    let h: TF.Tensor2D = x;
    for (let l = 0; l < L; l++) {
      const z = this.linear(h, this.dense[l]!.W as TF.Tensor as TF.Tensor2D, this.dense[l]!.b as TF.Tensor as TF.Tensor1D);
      h = this.activate(l, z, T, entropies);
      if (opts.training && this.spec.dropout > 0) {
        h = tf.dropout(h, this.spec.dropout, undefined, opts.dropoutSeeds?.[l]) as TF.Tensor2D;
      }
    }
    const out = this.linear(h, this.dense[L]!.W as TF.Tensor as TF.Tensor2D, this.dense[L]!.b as TF.Tensor as TF.Tensor1D);
    const entropy = entropies.length ? (tf.div(tf.addN(entropies), entropies.length) as TF.Scalar) : null;
    return { out, entropy };
  }

  /** Outputs for a whole matrix, in chunks; row-major Float32Array n × d_out. */
  predict(X: TF.Tensor2D, chunk = 8192): Float32Array {
    const tf = this.tf;
    const n = X.shape[0];
    const d = this.spec.outputDim;
    const out = new Float32Array(n * d);
    for (let s = 0; s < n; s += chunk) {
      const e = Math.min(n, s + chunk);
      const part = tf.tidy(() => this.forward(tf.slice(X, [s, 0], [e - s, -1]), { training: false }).out);
      out.set(part.dataSync(), s * d);
      part.dispose();
    }
    return out;
  }

  /** Current mean entropy and α per ActMix layer at temperature T (float64, from the logits). */
  actmixState(T = this.temperature): { alpha: Float64Array; entropy: Float64Array; F: number; K: number }[] {
    const K = this.spec.actmix?.bases.length ?? 0;
    return this.actmixLogits().map((v) => {
      const F = v.shape[0]!;
      return { ...actmixAlpha(v.dataSync(), F, K, T), F, K };
    });
  }

  /** Copies of all parameter values (for best-checkpoint restore). */
  snapshot(): TF.Tensor[] {
    return this.params.map((p) => this.tf.clone(p.v));
  }

  restore(snap: TF.Tensor[]): void {
    this.params.forEach((p, i) => p.v.assign(snap[i]!));
  }

  toJSON(extra: Record<string, unknown> = {}): SavedModel {
    const params: SavedModel['params'] = {};
    for (const p of this.params) {
      const v = p.v.dataSync() as Float32Array;
      params[p.name] = { shape: p.v.shape.slice(), data: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    }
    return { format: 'pipe-mlp/1', spec: this.spec, temperature: this.temperature, params, ...extra };
  }

  dispose(): void {
    for (const p of this.params) p.v.dispose();
  }
}
