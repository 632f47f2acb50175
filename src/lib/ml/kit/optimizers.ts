/**
 * Optimizers with parameter groups on host arrays (Float32Array / Float64Array parameters and
 * gradients; state in float64). Each group has its own rule, learning rate (fixed, or the lr
 * passed to `step`), weight decay and element-wise clip. One `step(lr)`:
 *
 *   0. t ← t + 1 (one global step counter, used by every group's bias correction — §E.4)
 *   1. global-norm clipping over all groups jointly (torch.nn.utils.clip_grad_norm_, §D.4 "first"):
 *        g ← g · min(1, c / (‖g‖₂ + 1e-6))
 *   2. per group, element-wise clipping (np.clip, §E.4):  g ← clamp(g, −c, c)
 *   3. per group, L2 weight decay into the gradient (torch SGD/Adam weight_decay, §E.4 after
 *      the clip):  g ← g + wd·θ  — except AdamW, whose decay is decoupled (below)
 *   4. the rule:
 *      sgd        torch.optim.SGD: with momentum μ: b ← g (t = 1), else b ← μb + (1 − dampening)g;
 *                 g ← g + μb (nesterov) or b;  θ ← θ − lr·g
 *      sgd_ema    §E.4:  v ← μv + (1 − μ)g (v₀ = 0);  θ ← θ − lr·v
 *      adam       torch.optim.Adam:  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
 *                 θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
 *                 (`form: 'textbook'`: θ ← θ − lr · m̂ / (√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), as the §E NumPy code)
 *      adamw      torch.optim.AdamW: θ ← θ·(1 − lr·wd), then the adam update
 *      per_neuron §D.4 PerNeuronScaledSGD: for neuron i, ‖θ_i‖ = √(Σ θ² over that neuron's
 *                 entries in all the group's params + 1e-12); g_i ← g_i · ‖θ_i‖^exponent
 *                 (exponent = 2 − degree; the hybrid's scaling_factor); θ ← θ − lr·g.
 *                 `axes[p]` is the axis of param p that indexes the neuron (row i of W_in: axis 0;
 *                 column i of W_out: axis 1).
 * `state()` / `setState()` copy the full state (t and every slot), for the §E.5 meta-tuner.
 *
 * `kernels` (optional, e.g. pipe's native library): the gradient norm and the per_neuron rule on
 * float32 params in fused passes — the clip folded into the per-neuron update — with the same
 * operations in the same order as the loops here, so the results are bit-identical.
 */

export type Arr = Float32Array | Float64Array;

export interface Param {
  name: string;
  value: Arr;
  grad: Arr;
  shape: readonly number[];
}

export type Rule =
  | { rule: 'sgd'; momentum?: number; dampening?: number; nesterov?: boolean }
  | { rule: 'sgd_ema'; momentum: number }
  | { rule: 'adam' | 'adamw'; beta1?: number; beta2?: number; eps?: number; form?: 'torch' | 'textbook' }
  | { rule: 'per_neuron'; exponent: number; axes: number[] };

export type Group = Rule & {
  params: Param[];
  /** Fixed learning rate of this group; absent: the lr given to `step`. */
  lr?: number;
  weightDecay?: number;
  /** Element-wise gradient clip |g| ≤ clipValue (0/absent: off). */
  clipValue?: number;
};

export interface OptimizerState { t: number; slots: Float64Array[][] }

/** Fused float32 passes (see the header); every float64 sum runs in index order. */
export interface OptimizerKernels {
  /** acc + Σ g². */
  sumsq(g: Float32Array, acc: number): number;
  /** norm2[⌊i / stride⌋ mod N] += v[i]², i ascending. */
  neuronNorm2(v: Float32Array, stride: number, N: number, norm2: Float64Array): void;
  /** g ← fround(fround(g·coef)·factor[j]) (no coef when clip is false), θ ← θ − rate·g; j as above. */
  neuronStep(g: Float32Array, th: Float32Array, stride: number, N: number, factor: Float64Array, clip: boolean, coef: number, rate: number): void;
}

export const param = (name: string, value: Arr, shape: readonly number[] = [value.length]): Param =>
  ({ name, value, grad: value instanceof Float32Array ? new Float32Array(value.length) : new Float64Array(value.length), shape });

export class Optimizer {
  /** Steps taken. */
  t = 0;
  /** Pre-clip global gradient norm of the last step (NaN before the first). */
  lastGradNorm = NaN;
  /** Per group, per param: the rule's state arrays (adam: m then v; sgd/sgd_ema: the buffer). */
  private slots: Float64Array[][];
  /** per_neuron groups: each param's element → neuron index. */
  private neuronMaps: Int32Array[][] = [];

  constructor(readonly groups: Group[], readonly opts: { clipNorm?: number; kernels?: OptimizerKernels } = {}) {
    this.slots = groups.map((g) => {
      const k = g.rule === 'adam' || g.rule === 'adamw' ? 2 : g.rule === 'per_neuron' || (g.rule === 'sgd' && !g.momentum) ? 0 : 1;
      return g.params.flatMap((p) => Array.from({ length: k }, () => new Float64Array(p.value.length)));
    });
    for (const g of groups) {
      if (g.rule === 'per_neuron') {
        if (g.axes.length !== g.params.length) throw new Error('per_neuron: one neuron axis per parameter');
        const counts = new Set(g.params.map((p, i) => p.shape[g.axes[i]!]));
        if (counts.size !== 1) throw new Error(`per_neuron: the params disagree on the number of neurons (${[...counts].join(', ')})`);
      }
      for (const p of g.params) if (p.shape.reduce((a, b) => a * b, 1) !== p.value.length) throw new Error(`param ${p.name}: shape ${p.shape} ≠ ${p.value.length} values`);
    }
  }

  get params(): Param[] { return this.groups.flatMap((g) => g.params); }

  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  /** One update from the params' `grad` arrays (which it modifies: clipping, decay). */
  step(lr = NaN): void {
    this.t++;
    const t = this.t;
    const K = this.opts.kernels;
    let sq = 0;
    for (const p of this.params) {
      if (K && p.grad instanceof Float32Array) sq = K.sumsq(p.grad, sq);
      else for (let i = 0; i < p.grad.length; i++) sq += p.grad[i]! * p.grad[i]!;
    }
    this.lastGradNorm = Math.sqrt(sq);
    const c = this.opts.clipNorm ?? 0;
    const coef = c > 0 ? Math.min(1, c / (this.lastGradNorm + 1e-6)) : 1;
    // per_neuron groups on float32 with kernels: the clip is folded into their update below
    const fused = this.groups.map((g) => !!K && g.rule === 'per_neuron' && !g.clipValue && !g.weightDecay && g.params.every((p) => p.value instanceof Float32Array && p.grad instanceof Float32Array));
    if (c > 0) {
      this.groups.forEach((g, gi) => {
        if (!fused[gi]) for (const p of g.params) for (let i = 0; i < p.grad.length; i++) p.grad[i] = p.grad[i]! * coef;
      });
    }
    this.groups.forEach((g, gi) => {
      const rate = g.lr ?? lr;
      if (!Number.isFinite(rate)) throw new Error('optimizer: no learning rate (give the group an lr or pass one to step)');
      const wd = g.weightDecay ?? 0;
      for (const p of g.params) {
        const gr = p.grad, th = p.value;
        if (g.clipValue && g.clipValue > 0) for (let i = 0; i < gr.length; i++) gr[i] = Math.min(g.clipValue, Math.max(-g.clipValue, gr[i]!));
        if (wd !== 0 && g.rule !== 'adamw') for (let i = 0; i < gr.length; i++) gr[i] = gr[i]! + wd * th[i]!;
      }
      const S = this.slots[gi]!;
      switch (g.rule) {
        case 'sgd': {
          const mu = g.momentum ?? 0, damp = g.dampening ?? 0;
          g.params.forEach((p, k) => {
            const gr = p.grad, th = p.value, b = S[k];
            for (let i = 0; i < gr.length; i++) {
              let d = gr[i]!;
              if (mu !== 0) {
                b![i] = t === 1 ? d : mu * b![i]! + (1 - damp) * d;
                d = g.nesterov ? d + mu * b![i]! : b![i]!;
              }
              th[i] = th[i]! - rate * d;
            }
          });
          break;
        }
        case 'sgd_ema': {
          const mu = g.momentum;
          g.params.forEach((p, k) => {
            const gr = p.grad, th = p.value, v = S[k]!;
            for (let i = 0; i < gr.length; i++) {
              v[i] = mu * v[i]! + (1 - mu) * gr[i]!;
              th[i] = th[i]! - rate * v[i]!;
            }
          });
          break;
        }
        case 'adam':
        case 'adamw': {
          const b1 = g.beta1 ?? 0.9, b2 = g.beta2 ?? 0.999, eps = g.eps ?? 1e-8;
          const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
          const textbook = g.form === 'textbook';
          const stepSize = rate / bc1, sqrtBc2 = Math.sqrt(bc2);
          const decay = g.rule === 'adamw' ? 1 - rate * wd : 1;
          g.params.forEach((p, k) => {
            const gr = p.grad, th = p.value, m = S[2 * k]!, v = S[2 * k + 1]!;
            for (let i = 0; i < gr.length; i++) {
              const gi2 = gr[i]!;
              m[i] = b1 * m[i]! + (1 - b1) * gi2;
              v[i] = b2 * v[i]! + (1 - b2) * (gi2 * gi2);
              const base = decay !== 1 ? th[i]! * decay : th[i]!;
              th[i] = textbook
                ? base - (rate * (m[i]! / bc1)) / (Math.sqrt(v[i]! / bc2) + eps)
                : base - stepSize * (m[i]! / (Math.sqrt(v[i]!) / sqrtBc2 + eps));
            }
          });
          break;
        }
        case 'per_neuron': {
          const N = g.params[0]!.shape[g.axes[0]!]!;
          const norm2 = new Float64Array(N);
          if (fused[gi]) {
            const strides = g.params.map((p, k) => neuronStride(p.shape, g.axes[k]!));
            g.params.forEach((p, k) => K!.neuronNorm2(p.value as Float32Array, strides[k]!, N, norm2));
            const factor = Float64Array.from(norm2, (s) => Math.sqrt(s + 1e-12) ** g.exponent);
            g.params.forEach((p, k) => K!.neuronStep(p.grad as Float32Array, p.value as Float32Array, strides[k]!, N, factor, c > 0, coef, rate));
            break;
          }
          // element → neuron maps, built once per group (the step runs every iteration)
          const index = (this.neuronMaps[gi] ??= g.params.map((p, k) => { const ix = neuronIndex(p.shape, g.axes[k]!); return Int32Array.from({ length: p.value.length }, (_, i) => ix(i)); }));
          g.params.forEach((p, k) => { const ix = index[k]!, v = p.value; for (let i = 0; i < v.length; i++) norm2[ix[i]!] += v[i]! * v[i]!; });
          const factor = Float64Array.from(norm2, (s) => Math.sqrt(s + 1e-12) ** g.exponent);
          g.params.forEach((p, k) => {
            const ix = index[k]!, gr = p.grad, th = p.value;
            for (let i = 0; i < gr.length; i++) {
              gr[i] = gr[i]! * factor[ix[i]!]!;
              th[i] = th[i]! - rate * gr[i]!;
            }
          });
          break;
        }
      }
    });
  }

  state(): OptimizerState {
    return { t: this.t, slots: this.slots.map((s) => s.map((a) => a.slice())) };
  }

  setState(s: OptimizerState): void {
    this.t = s.t;
    s.slots.forEach((g, gi) => g.forEach((a, k) => this.slots[gi]![k]!.set(a)));
  }
}

/** Elements per step of `axis` in a row-major `shape` (the product of the later dims). */
function neuronStride(shape: readonly number[], axis: number): number {
  let stride = 1;
  for (let a = axis + 1; a < shape.length; a++) stride *= shape[a]!;
  return stride;
}

/** Flat element index → neuron index along `axis` of a row-major `shape`. */
function neuronIndex(shape: readonly number[], axis: number): (i: number) => number {
  const stride = neuronStride(shape, axis);
  const n = shape[axis]!;
  return (i) => Math.floor(i / stride) % n;
}

/** §D.4 `per_neuron` for SequentialMLP: W_in (d × kp, neuron = row) and W_out (p × d, neuron = column), exponent 2 − degree. */
export function perNeuronSgd(o: { wIn: Param; wOut: Param; lr: number; degree: number }): Group[] {
  return [{ rule: 'per_neuron', params: [o.wIn, o.wOut], axes: [0, 1], exponent: 2 - o.degree, lr: o.lr }];
}

/**
 * §D.4 `hybrid` for QuadraticRNN: per-neuron scaled SGD with lr fixed to 1 on W_in, W_drive
 * (d × p, neuron = row) and W_out (p × d, neuron = column) with factor ‖θ_i‖^scalingFactor, and
 * Adam on W_mix with the training lr (pass it to `step`). Use with `clipNorm` for §D.4's clip.
 */
export function hybrid(o: { wIn: Param; wDrive: Param; wOut: Param; wMix: Param; scalingFactor: number; beta1?: number; beta2?: number; eps?: number }): Group[] {
  return [
    { rule: 'per_neuron', params: [o.wIn, o.wDrive, o.wOut], axes: [0, 0, 1], exponent: o.scalingFactor, lr: 1 },
    { rule: 'adam', params: [o.wMix], beta1: o.beta1, beta2: o.beta2, eps: o.eps ?? 1e-8 },
  ];
}
