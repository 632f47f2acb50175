import { describe, it, expect, beforeAll } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { loadTf } from '../../src/lib/ml/backend.js';
import { Mlp, ACTMIX_PRESETS, actmixAlpha, basisValue, paramValues, type MlpSpec, type SavedModel } from '../../src/lib/ml/mlp.js';
import type { Tf } from '../../src/lib/ml/optim.js';
import { Rng } from '../../src/sdk/rng.js';
import { erf } from './erf.js';

let tf: Tf;
beforeAll(async () => { tf = (await loadTf('wasm')).tf; });

/** Float64 reference forward of a saved model: outputs (n × d_out) and mean ActMix entropy. */
type Plain = { spec: MlpSpec; params: Record<string, { shape: number[]; values: number[] }> };
const plain = (m: SavedModel): Plain => ({ spec: m.spec, params: Object.fromEntries(Object.entries(m.params).map(([k, p]) => [k, { shape: p.shape, values: Array.from(paramValues(p)) }])) });

function refForward(m: Plain, X: number[][], T: number): { out: number[][]; H: number } {
  const s = m.spec;
  const P = (k: string) => m.params[k]!;
  let h = X.map((r) => r.slice());
  const Hs: number[] = [];
  for (let l = 0; l <= s.hidden.length; l++) {
    const W = P(`dense${l}/kernel`), b = P(`dense${l}/bias`);
    const [din, dout] = W.shape as [number, number];
    const z = h.map((r) => Array.from({ length: dout }, (_, o) => b.values[o]! + r.reduce((acc, v, i) => acc + v * W.values[i * dout + o]!, 0)));
    if (l === s.hidden.length) { h = z; break; }
    void din;
    let act: (v: number, f: number) => number;
    switch (s.activation) {
      case 'gelu': act = (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)); break;
      case 'prelu': act = (v, f) => (v >= 0 ? v : P(`act${l}/alpha`).values[f]! * v); break;
      case 'sine': act = (v) => Math.sin((s.omega0 ?? 1) * v); break;
      case 'relu': act = (v) => Math.max(0, v); break;
      case 'actmix': {
        const K = s.actmix!.bases.length;
        const { alpha, entropy } = actmixAlpha(P(`act${l}/logits`).values, dout, K, T);
        Hs.push(entropy.reduce((a, x) => a + x, 0) / dout);
        act = (v, f) => s.actmix!.bases.reduce((acc, bn, k) => acc + alpha[f * K + k]! * basisValue(bn, v, s.actmix!.omega_0), 0);
        break;
      }
      default: throw new Error('reference not written for ' + s.activation);
    }
    h = z.map((r) => r.map((v, f) => act(v, f)));
  }
  return { out: h, H: Hs.length ? Hs.reduce((a, x) => a + x, 0) / Hs.length : 0 };
}

/** Loss used for the gradient check: mean softmax CE over 2 logits + λ·H̄. */
function refLoss(m: Plain, X: number[][], y: number[], T: number, lam: number): number {
  const { out, H } = refForward(m, X, T);
  let ce = 0;
  out.forEach((o, i) => { const mx = Math.max(...o); const lse = mx + Math.log(o.reduce((a, v) => a + Math.exp(v - mx), 0)); ce += lse - o[y[i]!]!; });
  return ce / out.length + lam * H;
}

function tfLossGrads(model: Mlp, X: number[][], y: number[], T: number, lam: number) {
  return tf.tidy(() => {
    const xb = tf.tensor2d(X);
    const yb = tf.oneHot(tf.tensor1d(y, 'int32'), 2).toFloat();
    const { value, grads } = tf.variableGrads(() => {
      const { out, entropy } = model.forward(xb as TF.Tensor2D, { training: false, temperature: T });
      const ce = tf.neg(tf.mean(tf.sum(tf.mul(yb, tf.logSoftmax(out)), 1)));
      return (entropy ? tf.add(ce, tf.mul(entropy, lam)) : ce) as TF.Scalar;
    }, model.variables);
    return { loss: value.dataSync()[0]!, grads: model.params.map((p) => Array.from(grads[p.v.name]!.dataSync())) };
  });
}

const spec = (activation: MlpSpec['activation'], extra: Partial<MlpSpec> = {}): MlpSpec => ({
  inputDim: 3, outputDim: 2, hidden: [5, 4], dropout: 0, activation, ...extra,
});

function randomize(model: Mlp, rng: Rng) {
  // ActMix logits / PReLU slopes away from their symmetric init so every gradient entry is generic
  model.params.forEach((p) => {
    if (p.name.startsWith('act')) p.v.assign(tf.tensor(Array.from({ length: p.v.size }, () => rng.uniform(-1, 1)), p.v.shape));
  });
}

describe('ActMix initial state (§A.1)', () => {
  it('relu_bias 1.5, T = 1: α = [0.1337, 0.1337, 0.5990, 0.1337], entropy 1.1139 nats', () => {
    const m = Mlp.create(tf, { inputDim: 4, outputDim: 1, hidden: [128, 128], dropout: 0.1, activation: 'actmix', actmix: ACTMIX_PRESETS['actmix-paper'] }, new Rng(1));
    const st = m.actmixState(1);
    expect(st).toHaveLength(2);
    const row = Array.from(st[0]!.alpha.slice(0, 4));
    [0.1337, 0.1337, 0.5990, 0.1337].forEach((v, k) => expect(row[k]).toBeCloseTo(v, 4));
    expect(st[1]!.entropy[77]).toBeCloseTo(1.1139, 4);
    // the same entropy from the TF.js forward pass
    const H = tf.tidy(() => m.forward(tf.zeros([2, 4]) as TF.Tensor2D, { training: false, temperature: 1 }).entropy!.dataSync()[0]);
    expect(H).toBeCloseTo(1.1139, 4);
    // T = 0.5 → α_relu = e³/(e³+3) ≈ 0.87; T = 0.1 → one-hot on relu
    expect(m.actmixState(0.5)[0]!.alpha[2]).toBeCloseTo(Math.exp(3) / (Math.exp(3) + 3), 6);
    expect(m.actmixState(0.5)[0]!.alpha[2]).toBeCloseTo(0.87, 2);
    expect(m.actmixState(0.1)[0]!.alpha[2]).toBeGreaterThan(0.9999);
    m.dispose();
  });
  it('repo-head preset (relu_bias 0): uniform α = 0.25, entropy ln 4', () => {
    const m = Mlp.create(tf, { inputDim: 4, outputDim: 1, hidden: [16], dropout: 0, activation: 'actmix', actmix: ACTMIX_PRESETS['actmix-repo-head'] }, new Rng(1));
    const st = m.actmixState(1)[0]!;
    expect(Array.from(st.alpha.slice(0, 4))).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(st.entropy[3]).toBeCloseTo(Math.log(4), 12);
    m.dispose();
  });
});

describe('forward and gradients vs float64 reference and finite differences', () => {
  const rng = new Rng(7);
  const X = Array.from({ length: 6 }, () => [rng.normal(), rng.normal(), rng.normal()]);
  const y = [0, 1, 1, 0, 1, 0];
  const cases: [string, MlpSpec, number, number][] = [
    ['actmix (sin ω₀=2, tanh, relu, identity), T = 0.7, λ = 0.3', spec('actmix', { actmix: { ...ACTMIX_PRESETS['actmix-paper'], omega_0: 2 } }), 0.7, 0.3],
    ['actmix with sigmoid/silu bases, T = 1', spec('actmix', { actmix: { ...ACTMIX_PRESETS['actmix-paper'], bases: ['sigmoid', 'silu', 'relu'] } }), 1, 0.05],
    ['gelu (exact erf)', spec('gelu'), 1, 0],
    ['prelu', spec('prelu'), 1, 0],
    ['sine ω₀ = 3', spec('sine', { omega0: 3 }), 1, 0],
  ];
  for (const [name, sp, T, lam] of cases) {
    it(name, () => {
      const model = Mlp.create(tf, sp, new Rng(3));
      randomize(model, new Rng(11));
      const saved = plain(model.toJSON());
      // forward
      const out = tf.tidy(() => model.forward(tf.tensor2d(X) as TF.Tensor2D, { training: false, temperature: T }).out.arraySync());
      const ref = refForward(saved, X, T);
      out.forEach((r, i) => r.forEach((v, j) => expect(v).toBeCloseTo(ref.out[i]![j]!, 5)));
      // gradients: TF.js autodiff (float32) vs central differences of the float64 reference
      const { loss, grads } = tfLossGrads(model, X, y, T, lam);
      expect(loss).toBeCloseTo(refLoss(saved, X, y, T, lam), 5);
      const h = 1e-6;
      let checked = 0;
      model.params.forEach((p, pi) => {
        const vals = saved.params[p.name]!.values;
        for (let j = 0; j < vals.length; j++) {
          const keep = vals[j]!;
          vals[j] = keep + h; const lp = refLoss(saved, X, y, T, lam);
          vals[j] = keep - h; const lm = refLoss(saved, X, y, T, lam);
          vals[j] = keep;
          const fd = (lp - lm) / (2 * h);
          expect(Math.abs(grads[pi]![j]! - fd)).toBeLessThan(2e-5 + 1e-3 * Math.abs(fd));
          checked++;
        }
      });
      expect(checked).toBe(model.params.reduce((a, p) => a + p.v.size, 0));
      model.dispose();
    });
  }
  it('the entropy term has a non-zero gradient on the mixing logits', () => {
    const model = Mlp.create(tf, spec('actmix', { actmix: ACTMIX_PRESETS['actmix-paper'] }), new Rng(3));
    randomize(model, new Rng(5));
    const a = tfLossGrads(model, X, y, 0.5, 0).grads;
    const b = tfLossGrads(model, X, y, 0.5, 1).grads;
    const li = model.params.findIndex((p) => p.name === 'act0/logits');
    const diff = a[li]!.reduce((acc, v, j) => acc + Math.abs(v - b[li]![j]!), 0);
    expect(diff).toBeGreaterThan(1e-3);
    model.dispose();
  });
});
