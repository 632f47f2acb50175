/**
 * The §E.5 meta-tuner checked step by step against a hand computation of epoch 1's choice:
 * the candidate grid and its order (lr outer: max(1e-4, lr/2), lr; α inner: 0, α/2, α), each trial
 * on a copy of the model *and* its optimiser state, one `_step` (§E.4: clip, L2, Hebbian increment
 * from the pre-update weights, EMA momentum) on a fresh 64-row subset drawn without replacement,
 * BCE on the full validation set, the strictly lowest kept (ties keep the earlier). The reference
 * below is written from §E.4/§E.5 in float64, independent of HebbianStep.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/sdk/rng.js';
import { HebbianMlp, HebbianStep, metaTunerHook, type Data, type HebbianConfig } from '../../src/lib/ml/hebbian.js';
import type { HookContext } from '../../src/lib/ml/kit/loop.js';

/** study_success-like rows (§E.1), standardized. */
function studyData(n: number, seed: number): Data {
  const r = new Rng(seed);
  const X = new Float32Array(n * 4), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const h = r.uniform(0, 10), s = r.uniform(4, 10), a = r.uniform(0.5, 1), b = r.bernoulli(0.5) ? 1 : 0;
    const score = Math.min(100, Math.max(0, 5 + 6.5 * h + 4 * (s - 6) + 30 * (a - 0.5) + 5 * b + r.normal(0, 5)));
    X.set([(h - 5) / 2.9, (s - 7) / 1.7, (a - 0.75) / 0.14, (b - 0.5) / 0.5], i * 4);
    y[i] = score >= 60 ? 1 : 0;
  }
  return { X, n, d: 4, y, score: null };
}

type Net = { W: Float64Array[]; b: Float64Array[]; sizes: number[]; acts: ('relu' | 'linear')[] };
const clone = (n: Net): Net => ({ ...n, W: n.W.map((w) => Float64Array.from(w)), b: n.b.map((b) => Float64Array.from(b)) });

function forward(net: Net, X: Float32Array, rows: ArrayLike<number>): { h: Float64Array[]; z: Float64Array[] } {
  const B = rows.length, h: Float64Array[] = [], z: Float64Array[] = [];
  const h0 = new Float64Array(B * net.sizes[0]!);
  for (let r = 0; r < B; r++) for (let k = 0; k < net.sizes[0]!; k++) h0[r * net.sizes[0]! + k] = X[rows[r]! * net.sizes[0]! + k]!;
  h.push(h0);
  for (let l = 0; l < net.W.length; l++) {
    const din = net.sizes[l]!, dout = net.sizes[l + 1]!, zl = new Float64Array(B * dout), hl = new Float64Array(B * dout);
    for (let r = 0; r < B; r++) for (let o = 0; o < dout; o++) {
      let s = net.b[l]![o]!;
      for (let i = 0; i < din; i++) s += h[l]![r * din + i]! * net.W[l]![o * din + i]!;
      zl[r * dout + o] = s;
      hl[r * dout + o] = net.acts[l] === 'relu' ? Math.max(0, s) : s;
    }
    z.push(zl); h.push(hl);
  }
  return { h, z };
}
function bce(net: Net, d: Data): number {
  const rows = Array.from({ length: d.n }, (_, i) => i);
  const { z } = forward(net, d.X, rows);
  const out = z.at(-1)!;
  let s = 0;
  for (let r = 0; r < d.n; r++) { const v = out[r]!; s += Math.max(v, 0) - v * d.y[r]! + Math.log1p(Math.exp(-Math.abs(v))); }
  return s / d.n;
}
/** One §E.4 `_step` with EMA momentum on `rows`; `v` is the optimiser state (per W and b). */
function step(net: Net, v: { W: Float64Array[]; b: Float64Array[] }, d: Data, rows: ArrayLike<number>, c: { lr: number; alpha: number; gamma: number; wd: number; clip: number; mu: number }): void {
  const B = rows.length, L = net.W.length;
  const { h, z } = forward(net, d.X, rows);
  let delta = new Float64Array(B);
  for (let r = 0; r < B; r++) delta[r] = (1 / (1 + Math.exp(-z[L - 1]![r]!)) - d.y[rows[r]!]!) / B;
  const gW: Float64Array[] = [], gb: Float64Array[] = [];
  for (let l = L - 1; l >= 0; l--) {
    const din = net.sizes[l]!, dout = net.sizes[l + 1]!;
    if (net.acts[l] === 'relu') for (let k = 0; k < B * dout; k++) if (!(z[l]![k]! > 0)) delta[k] = 0;
    const dW = new Float64Array(dout * din), db = new Float64Array(dout);
    for (let r = 0; r < B; r++) for (let o = 0; o < dout; o++) {
      db[o] += delta[r * dout + o]!;
      for (let i = 0; i < din; i++) dW[o * din + i] += delta[r * dout + o]! * h[l]![r * din + i]!;
    }
    const prev = new Float64Array(B * din);
    for (let r = 0; r < B; r++) for (let i = 0; i < din; i++) { let s = 0; for (let o = 0; o < dout; o++) s += delta[r * dout + o]! * net.W[l]![o * din + i]!; prev[r * din + i] = s; }
    gW[l] = dW; gb[l] = db; delta = prev;
  }
  for (let l = 0; l < L; l++) {
    const din = net.sizes[l]!, dout = net.sizes[l + 1]!, W = net.W[l]!;
    // Hebbian increment from the pre-update W: α(postᵀpre/B − γ diag(mean post²) W)
    const dH = new Float64Array(dout * din);
    if (c.alpha > 0) for (let o = 0; o < dout; o++) {
      let sq = 0;
      for (let r = 0; r < B; r++) sq += h[l + 1]![r * dout + o]! ** 2;
      for (let i = 0; i < din; i++) {
        let s = 0;
        for (let r = 0; r < B; r++) s += h[l + 1]![r * dout + o]! * h[l]![r * din + i]!;
        dH[o * din + i] = c.alpha * (s / B - c.gamma * (sq / B) * W[o * din + i]!);
      }
    }
    for (let k = 0; k < W.length; k++) {
      const g = Math.min(c.clip, Math.max(-c.clip, gW[l]![k]!)) + c.wd * W[k]!;
      v.W[l]![k] = c.mu * v.W[l]![k]! + (1 - c.mu) * g;
      W[k] = W[k]! - c.lr * v.W[l]![k]! + dH[k]!;
    }
    for (let o = 0; o < dout; o++) {
      const g = Math.min(c.clip, Math.max(-c.clip, gb[l]![o]!));
      v.b[l]![o] = c.mu * v.b[l]![o]! + (1 - c.mu) * g;
      net.b[l]![o] = net.b[l]![o]! - c.lr * v.b[l]![o]!;
    }
  }
}

describe('meta-tuner: epoch 1 by hand (§E.5)', () => {
  for (const gamma of [0, 1]) {
    it(`γ = ${gamma}: every trial's validation BCE and the chosen (lr, α) equal the hand computation`, async () => {
      const tr = studyData(840, 11), va = studyData(180, 12);
      const sizes = [4, 16, 8, 1];
      const pnet = new HebbianMlp({ sizes, activations: ['relu', 'relu', 'linear'] }, new Rng(5));
      const cfg: HebbianConfig = { optimizer: 'momentum', momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4, clip: 5, useHebbian: true, gamma, mtWeight: 0.5 };
      const st = new HebbianStep(pnet, tr, va, cfg);
      const ref: Net = { sizes, acts: ['relu', 'relu', 'linear'], W: pnet.W.map((w) => Float64Array.from(w)), b: pnet.b.map((b) => Float64Array.from(b)) };
      const trials: { lr: number; alpha: number; val_bce: number }[] = [];
      const set: Record<string, number> = {};
      const hook = metaTunerHook(st, { lr: 0.05, alpha: 0.02, metaSteps: 1, rng: new Rng(77), trials: trials as never });
      await hook.run({ epoch: 0, step: 0, settings: { lr: 0.05, alpha: 0.02 }, curves: [], model: st, set: (k: string, v: number) => { set[k] = v; }, schedule: () => {}, stop: () => {} } as unknown as HookContext<never>);

      // by hand: grid in order, each from a copy of the weights and of the (zero) momentum state
      const draw = new Rng(77);
      const hand: { lr: number; alpha: number; val_bce: number }[] = [];
      let best = { loss: Infinity, lr: 0.05, alpha: 0.02 };
      for (const lr of [0.025, 0.05]) for (const alpha of [0, 0.01, 0.02]) {
        const net = clone(ref);
        const v = { W: ref.W.map((w) => new Float64Array(w.length)), b: ref.b.map((b) => new Float64Array(b.length)) };
        const rows = draw.permutation(840).subarray(0, 64); // 64 rows without replacement, fresh per candidate
        expect(new Set(rows).size).toBe(64);
        step(net, v, tr, rows, { lr, alpha, gamma, wd: 1e-4, clip: 5, mu: 0.9 });
        const loss = bce(net, va);
        hand.push({ lr, alpha, val_bce: loss });
        if (loss < best.loss) best = { loss, lr, alpha }; // strictly lower only
      }
      expect(trials.map((t) => [t.lr, t.alpha])).toEqual(hand.map((t) => [t.lr, t.alpha]));
      trials.forEach((t, i) => expect(t.val_bce).toBeCloseTo(hand[i]!.val_bce, 5));
      expect(set).toEqual({ lr: best.lr, alpha: best.alpha });
      // the tuned step changes the model: the trials really differ
      expect(new Set(hand.map((t) => t.val_bce.toFixed(6))).size).toBe(6);
      console.log(`γ ${gamma}: ` + hand.map((t) => `(${t.lr}, ${t.alpha}) ${t.val_bce.toFixed(5)}`).join('  ') + ` → (${best.lr}, ${best.alpha})`);
    });
  }
});
