/**
 * The MLP of the Hebbian seed (seed-systems §E), on typed arrays, as a `TrainStep` of the kit's
 * one loop (src/lib/ml/kit/loop.ts):
 *
 *   layers i = 0..L−1: z_i = h_i W_iᵀ + b_i, h_{i+1} = act_i(z_i), h₀ = x;  W_i is out × in (float32)
 *   init W_i ~ N(0, s²), s = √(2/fan_in) for relu layers, √(1/fan_in) otherwise; b = 0   (§E.2)
 *   loss: BCE-with-logits on head 0 (+ w_mt · ½MSE on head 1 against risk_score/100)    (§E.3)
 *   backprop: δ through the activation (relu uses z, sigmoid/tanh the output), ∂W = δᵀh, ∂b = Σδ
 *   one `_step` (§E.4), per batch:
 *     1. gradients clipped element-wise to ±clip, then g_W += wd·W (weights only)   — kit Optimizer
 *     2. ΔW_H = α·(postᵀpre/B − γ·diag(mean_B(post²))·W) from the PRE-update W (Hebbian enabled, α > 0)
 *     3. optimizer: EMA momentum v ← μv + (1−μ)g, W ← W − lr·v; or Adam (textbook form, one global t)
 *     4. W ← W + ΔW_H (biases get no Hebbian term)
 *   meta-tuner (§E.5, single-task): an `epochStart` hook, see `metaTunerHook`.
 *
 * Checkpoints hold the weights AND the optimizer state (t, every slot), so the tuner's trial
 * steps restore bit-exactly; the loop's best-validation restore is real (the seed's aliasing bug,
 * whose "best" state referenced the live arrays, is fixed — `restoreBest: false` reproduces it).
 */
import { Optimizer, param, type Group, type OptimizerState, type Param } from './kit/optimizers.js';
import type { Batch, Hook, Settings, TrainStep, Values } from './kit/loop.js';
import type { Rng } from '../../sdk/rng.js';
import { blasNative, type BlasNative } from './blas/native.js';
import { resolveMatBackend, type MatBackend } from './group-models.js';

/** `blas`: matrix products through pipe's native OpenBLAS library; `js`: typed-array loops. */
export type HebbianBackend = MatBackend;

/** What `auto` resolves to on this machine (the same rule as the group models'). */
export const resolveHebbianBackend = resolveMatBackend;

export type HebbAct = 'relu' | 'sigmoid' | 'tanh' | 'linear';

export interface HebbianMlpSpec {
  /** Layer sizes, input first: study [4, 16, 8, 1], health [3, 32, 16, 1], multi-task [3, 32, 16, 2]. */
  sizes: number[];
  /** One activation per layer (the last is usually linear: logits). */
  activations: HebbAct[];
}

export interface Data {
  /** Row-major n × d features (standardized). */
  X: Float32Array;
  n: number;
  d: number;
  /** Binary labels (0/1). */
  y: Float32Array;
  /** Regression target of the multi-task head (risk_score / 100), or null. */
  score: Float32Array | null;
}

export interface HebbianConfig {
  optimizer: 'momentum' | 'adam';
  momentum: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Element-wise gradient clip (the seed's --clip, default 5). */
  clip: number;
  useHebbian: boolean;
  /** γ of the Oja-like decay term (--hebbian-decay). */
  gamma: number;
  /** Multi-task weight w_mt (only with two outputs). */
  mtWeight: number;
}

export interface Checkpoint {
  W: Float32Array[];
  b: Float32Array[];
  opt: OptimizerState;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export class HebbianMlp {
  readonly L: number;
  readonly W: Float32Array[];
  readonly b: Float32Array[];
  readonly Wp: Param[];
  readonly bp: Param[];
  /** Activations of the last forward pass: h[0] = input rows, h[i+1] = act_i(z_i); z[i] pre-activations. */
  h: Float32Array[] = [];
  z: Float32Array[] = [];
  rows = 0;
  /** Reused forward/backward buffers, sized for the largest batch seen. */
  private cap = 0;
  private bufH: Float32Array[] = [];
  private bufZ: Float32Array[] = [];
  private bufD: Float32Array[] = [];

  private readonly api: BlasNative | null;

  constructor(readonly spec: HebbianMlpSpec, rng: Rng, backend: HebbianBackend = 'js') {
    this.api = backend === 'blas' ? blasNative() : null;
    const { sizes, activations } = spec;
    if (sizes.length < 2) throw new Error('an MLP needs at least an input and an output size');
    if (activations.length !== sizes.length - 1) throw new Error(`${sizes.length - 1} layers need ${sizes.length - 1} activations, got ${activations.length}`);
    this.L = sizes.length - 1;
    this.W = [];
    this.b = [];
    for (let i = 0; i < this.L; i++) {
      const fin = sizes[i]!, fout = sizes[i + 1]!;
      const s = Math.sqrt((activations[i] === 'relu' ? 2 : 1) / fin);
      const W = new Float32Array(fout * fin);
      for (let k = 0; k < W.length; k++) W[k] = rng.normal(0, s);
      this.W.push(W);
      this.b.push(new Float32Array(fout));
    }
    this.Wp = this.W.map((W, i) => param(`W${i}`, W, [sizes[i + 1]!, sizes[i]!]));
    this.bp = this.b.map((b, i) => param(`b${i}`, b, [sizes[i + 1]!]));
  }

  get outDim(): number { return this.spec.sizes[this.L]!; }

  /** Forward pass over rows `idx[start, start + size)` of X (or rows 0..size−1 when idx is null); caches h and z. */
  forward(X: Float32Array, d: number, idx: Int32Array | null, start: number, size: number): Float32Array {
    const { sizes, activations } = this.spec;
    if (d !== sizes[0]) throw new Error(`the data has ${d} features, the network ${sizes[0]}`);
    const B = size;
    if (B > this.cap) {
      this.cap = B;
      this.bufH = sizes.map((w) => new Float32Array(B * w));
      this.bufZ = sizes.slice(1).map((w) => new Float32Array(B * w));
      this.bufD = sizes.map((w) => new Float32Array(B * w));
    }
    const h0 = this.bufH[0]!.subarray(0, B * d);
    for (let r = 0; r < B; r++) {
      const src = (idx ? idx[start + r]! : start + r) * d;
      for (let k = 0; k < d; k++) h0[r * d + k] = X[src + k]!;
    }
    this.h = [h0];
    this.z = [];
    this.rows = B;
    for (let i = 0; i < this.L; i++) {
      const fin = sizes[i]!, fout = sizes[i + 1]!;
      const W = this.W[i]!, bias = this.b[i]!, hin = this.h[i]!;
      const z = this.bufZ[i]!.subarray(0, B * fout), hout = this.bufH[i + 1]!.subarray(0, B * fout);
      const act = activations[i]!;
      if (this.api) {
        // z = h Wᵀ + b: one sgemm, then the bias
        this.api.sgemm(0, 1, B, fout, fin, hin, W, z);
        this.api.biasAct(z, B, fout, bias, 1, 0, 0);
      } else {
        for (let r = 0; r < B; r++) {
          const hr = r * fin, zr = r * fout;
          for (let o = 0; o < fout; o++) {
            let s = bias[o]!;
            const wo = o * fin;
            for (let k = 0; k < fin; k++) s += hin[hr + k]! * W[wo + k]!;
            z[zr + o] = s;
          }
        }
      }
      const N = B * fout;
      if (act === 'relu') for (let j = 0; j < N; j++) { const v = z[j]!; hout[j] = v > 0 ? v : 0; }
      else if (act === 'sigmoid') for (let j = 0; j < N; j++) hout[j] = sigmoid(z[j]!);
      else if (act === 'tanh') for (let j = 0; j < N; j++) hout[j] = Math.tanh(z[j]!);
      else hout.set(z);
      this.z.push(z);
      this.h.push(hout);
    }
    return this.h[this.L]!;
  }

  /**
   * Backprop of ∂L/∂(network output) `dOut` (B × out, already mean-scaled) into the params'
   * `grad` arrays (overwritten), after a `forward` of the same rows.
   */
  backward(dOut: ArrayLike<number>): void {
    const { sizes, activations } = this.spec;
    const B = this.rows;
    let delta = this.bufD[this.L]!.subarray(0, B * sizes[this.L]!);
    for (let j = 0; j < delta.length; j++) delta[j] = dOut[j]!;
    for (let i = this.L - 1; i >= 0; i--) {
      const fin = sizes[i]!, fout = sizes[i + 1]!;
      const act = activations[i]!, z = this.z[i]!, hout = this.h[i + 1]!, hin = this.h[i]!;
      for (let j = 0; j < B * fout; j++) {
        if (act === 'relu') { if (!(z[j]! > 0)) delta[j] = 0; }
        else if (act === 'sigmoid') delta[j] = delta[j]! * hout[j]! * (1 - hout[j]!);
        else if (act === 'tanh') delta[j] = delta[j]! * (1 - hout[j]! * hout[j]!);
      }
      const gW = this.Wp[i]!.grad as Float32Array, gb = this.bp[i]!.grad;
      gb.fill(0);
      for (let r = 0; r < B; r++) for (let o = 0; o < fout; o++) gb[o] = gb[o]! + delta[r * fout + o]!;
      const api = this.api;
      if (api) api.sgemm(1, 0, fout, fin, B, delta, hin, gW); // ∂W = δᵀ h
      else {
        gW.fill(0);
        for (let r = 0; r < B; r++) {
          for (let o = 0; o < fout; o++) {
            const dv = delta[r * fout + o]!;
            if (dv === 0) continue;
            const wo = o * fin, hr = r * fin;
            for (let k = 0; k < fin; k++) gW[wo + k] = gW[wo + k]! + dv * hin[hr + k]!;
          }
        }
      }
      if (i > 0) {
        const W = this.W[i]!;
        const prev = this.bufD[i]!.subarray(0, B * fin);
        if (api) api.sgemm(0, 0, B, fin, fout, delta, W, prev); // δ_prev = δ W
        else {
          prev.fill(0);
          for (let r = 0; r < B; r++) {
            for (let o = 0; o < fout; o++) {
              const dv = delta[r * fout + o]!;
              if (dv === 0) continue;
              const wo = o * fin, pr = r * fin;
              for (let k = 0; k < fin; k++) prev[pr + k] = prev[pr + k]! + dv * W[wo + k]!;
            }
          }
        }
        delta = prev;
      }
    }
  }

  /**
   * The Oja-like Hebbian increments of the last forward pass, from the current (pre-update) W:
   * ΔW_i = α·(postᵀpre/B − γ·diag(mean_B(post²))·W_i), pre = h_i, post = h_{i+1}.
   */
  hebbianDeltas(alpha: number, gamma: number): Float32Array[] {
    const { sizes } = this.spec;
    const B = this.rows;
    const out: Float32Array[] = [];
    for (let i = 0; i < this.L; i++) {
      const fin = sizes[i]!, fout = sizes[i + 1]!;
      const pre = this.h[i]!, post = this.h[i + 1]!, W = this.W[i]!;
      // C = postᵀpre (row by row, contiguous), m2 = mean over the batch of post²
      const C = this.api ? new Float32Array(fout * fin) : new Float64Array(fout * fin), m2 = new Float64Array(fout);
      for (let j = 0; j < B * fout; j++) m2[j % fout] = m2[j % fout]! + post[j]! * post[j]!;
      if (this.api) this.api.sgemm(1, 0, fout, fin, B, post, pre, C);
      else {
        for (let r = 0; r < B; r++) {
          const pr = r * fin, po = r * fout;
          for (let o = 0; o < fout; o++) {
            const q = post[po + o]!;
            if (q === 0) continue;
            const co = o * fin;
            for (let k = 0; k < fin; k++) C[co + k] = C[co + k]! + q * pre[pr + k]!;
          }
        }
      }
      const dW = new Float32Array(fout * fin);
      for (let o = 0; o < fout; o++) {
        const g = (gamma * m2[o]!) / B;
        for (let k = 0; k < fin; k++) dW[o * fin + k] = alpha * (C[o * fin + k]! / B - g * W[o * fin + k]!);
      }
      out.push(dW);
    }
    return out;
  }

  /** Frobenius norm of each layer's W (the seed's wnorm_l<i>). */
  weightNorms(): number[] {
    return this.W.map((W) => Math.sqrt(W.reduce((a, w) => a + w * w, 0)));
  }
}

/** Mean BCE-with-logits of head 0 (stable form) and, with a score, ½MSE of head 1; and their gradient. */
export function headLoss(out: Float32Array, B: number, C: number, y: Float32Array, score: Float32Array | null, rows: Int32Array | null, start: number, mtWeight: number, withGrad: boolean): { bce: number; mse: number; total: number; grad: Float64Array | null } {
  let bce = 0, mse = 0;
  const grad = withGrad ? new Float64Array(B * C) : null;
  for (let r = 0; r < B; r++) {
    const row = rows ? rows[start + r]! : start + r;
    const zl = out[r * C]!, t = y[row]!;
    bce += Math.max(zl, 0) - zl * t + Math.log1p(Math.exp(-Math.abs(zl)));
    if (grad) grad[r * C] = (sigmoid(zl) - t) / B;
    if (C > 1 && score) {
      const e = out[r * C + 1]! - score[row]!;
      mse += 0.5 * e * e;
      if (grad) grad[r * C + 1] = (mtWeight * e) / B;
    }
  }
  bce /= B;
  mse /= B;
  return { bce, mse, total: bce + (C > 1 && score ? mtWeight * mse : 0), grad };
}

/** The optimizer groups of §E.4: weights (clip, L2) and biases (clip only), EMA momentum or Adam. */
export function hebbianOptimizer(net: HebbianMlp, c: HebbianConfig): Optimizer {
  const rule = c.optimizer === 'adam'
    ? ({ rule: 'adam', beta1: c.beta1, beta2: c.beta2, eps: c.eps, form: 'textbook' } as const)
    : ({ rule: 'sgd_ema', momentum: c.momentum } as const);
  const groups: Group[] = [
    { ...rule, params: net.Wp, clipValue: c.clip, weightDecay: c.weightDecay },
    { ...rule, params: net.bp, clipValue: c.clip },
  ];
  return new Optimizer(groups);
}

export interface EvalResult { loss: number; bce: number; mse: number; accuracy: number }

/** Loss, BCE, ½MSE and accuracy (σ(logit) ≥ 0.5) of `net` on a whole data set. */
export function evaluateNet(net: HebbianMlp, data: Data, mtWeight: number): EvalResult {
  if (data.n === 0) return { loss: NaN, bce: NaN, mse: NaN, accuracy: NaN };
  const out = net.forward(data.X, data.d, null, 0, data.n);
  const C = net.outDim;
  const l = headLoss(out, data.n, C, data.y, C > 1 ? data.score : null, null, 0, mtWeight, false);
  let correct = 0;
  for (let r = 0; r < data.n; r++) if ((out[r * C]! >= 0 ? 1 : 0) === data.y[r]) correct++;
  return { loss: l.total, bce: l.bce, mse: l.mse, accuracy: correct / data.n };
}

/** The §E model as a `TrainStep`: settings `lr` and `alpha` (Hebbian α) come from the loop. */
export class HebbianStep implements TrainStep<Checkpoint> {
  readonly opt: Optimizer;
  constructor(readonly net: HebbianMlp, readonly train: Data, readonly val: Data, readonly cfg: HebbianConfig) {
    if (net.outDim > 1 && !train.score) throw new Error('a multi-task network (2 outputs) needs the regression target');
    this.opt = hebbianOptimizer(net, cfg);
  }

  /** One `_step` on rows `rows[start, start+size)` of the training data. */
  update(rows: Int32Array | null, start: number, size: number, lr: number, alpha: number): Values {
    const { net, train, cfg } = this;
    const out = net.forward(train.X, train.d, rows, start, size);
    const l = headLoss(out, size, net.outDim, train.y, train.score, rows, start, cfg.mtWeight, true);
    net.backward(l.grad!);
    const dH = cfg.useHebbian && alpha > 0 ? net.hebbianDeltas(alpha, cfg.gamma) : null;
    this.opt.step(lr);
    if (dH) net.W.forEach((W, i) => { const d = dH[i]!; for (let k = 0; k < W.length; k++) W[k] = W[k]! + d[k]!; });
    return { loss: l.total };
  }

  step(batch: Batch, s: Settings): Values {
    return this.update(batch.perm, batch.start, batch.size, s.lr!, s.alpha ?? 0);
  }

  evaluate(): Values {
    const tr = evaluateNet(this.net, this.train, this.cfg.mtWeight);
    const va = evaluateNet(this.net, this.val, this.cfg.mtWeight);
    const norms = this.net.weightNorms();
    return {
      full_train_loss: tr.loss, val_loss: va.loss, val_bce: va.bce, val_accuracy: va.accuracy,
      ...(this.net.outDim > 1 ? { val_mse: va.mse } : {}),
      ...Object.fromEntries(norms.map((w, i) => [`wnorm_l${i}`, w])),
    };
  }

  checkpoint(): Checkpoint {
    return { W: this.net.W.map((w) => w.slice()), b: this.net.b.map((b) => b.slice()), opt: this.opt.state() };
  }

  restore(c: Checkpoint): void {
    this.net.W.forEach((w, i) => w.set(c.W[i]!));
    this.net.b.forEach((b, i) => b.set(c.b[i]!));
    this.opt.setState(c.opt);
  }

  /** Resume: weights, biases and the optimizer state (the step has no other state). */
  state(): Checkpoint { return this.checkpoint(); }
  setState(s: unknown): void { this.restore(s as Checkpoint); }

  snapshot(): Record<string, ArrayLike<number>> {
    return Object.fromEntries([...this.net.W.map((w, i) => [`W${i}`, w.slice()] as const), ...this.net.b.map((b, i) => [`b${i}`, b.slice()] as const)]);
  }
}

/** The §E.5 grid: lrs = sorted unique {max(1e-4, lr/2), lr}; alphas = sorted unique {0, max(0, α/2), α}. */
export function metaGrid(lr: number, alpha: number): { lrs: number[]; alphas: number[] } {
  const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  return { lrs: uniq([Math.max(1e-4, lr / 2), lr]), alphas: uniq([0, Math.max(0, alpha / 2), alpha]) };
}

export interface MetaTrial { epoch: number; lr: number; alpha: number; val_bce: number }

/**
 * The §E.5 meta-tuner as an `epochStart` hook: for each (lr, α) of the grid (lr outer), from a
 * checkpoint of weights and optimizer state, `metaSteps` update steps each on min(N, 64) training
 * rows drawn without replacement, then BCE on the full validation set; restore. The strictly
 * lowest wins (ties keep the earlier; the incumbent starts at +∞, so a candidate always wins);
 * `lr` and `alpha` are set for the epoch that follows. Every trial is appended to `trials`.
 */
export function metaTunerHook(step: HebbianStep, o: { lr: number; alpha: number; metaSteps: number; rng: Rng; trials?: MetaTrial[] }): Hook<Checkpoint> {
  const { lrs, alphas } = metaGrid(o.lr, o.alpha);
  const N = step.train.n, m = Math.min(N, 64);
  return {
    at: 'epochStart',
    run(h) {
      let best = { loss: Infinity, lr: h.settings.lr!, alpha: h.settings.alpha ?? 0 };
      for (const lr of lrs) {
        for (const alpha of alphas) {
          const c = step.checkpoint();
          for (let s = 0; s < o.metaSteps; s++) {
            const rows = o.rng.permutation(N).subarray(0, m);
            step.update(rows, 0, m, lr, alpha);
          }
          const v = evaluateNet(step.net, step.val, step.cfg.mtWeight).bce;
          step.restore(c);
          o.trials?.push({ epoch: h.epoch, lr, alpha, val_bce: v });
          if (v < best.loss) best = { loss: v, lr, alpha };
        }
      }
      h.set('lr', best.lr);
      h.set('alpha', best.alpha);
    },
    // resume: the stream the candidate rows are drawn from, and the trials so far
    state: () => ({ rng: o.rng.getState(), trials: o.trials ? [...o.trials] : null }),
    setState(s) {
      const v = s as { rng: import('../../sdk/rng.js').RngState; trials: MetaTrial[] | null };
      o.rng.setState(v.rng);
      if (o.trials && v.trials) o.trials.splice(0, o.trials.length, ...v.trials);
    },
  };
}
