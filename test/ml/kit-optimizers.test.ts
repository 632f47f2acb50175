/**
 * The kit's optimizers (src/lib/ml/kit/optimizers.ts) against steps computed by hand from the
 * PyTorch / seed formulas, written out below. Parameters are float64 so the comparison is to
 * round-off (1e-15 relative), not to float32.
 */
import { describe, it, expect } from 'vitest';
import { Optimizer, param, perNeuronSgd, hybrid, type Group, type Param } from '../../src/lib/ml/kit/optimizers.js';

const f64 = (...v: number[]) => Float64Array.from(v);
const p = (name: string, v: number[], shape?: number[]): Param => param(name, f64(...v), shape);
function setGrad(q: Param, g: number[]) { q.grad.set(g); }
const close = (a: ArrayLike<number>, b: number[], digits = 14) => {
  expect(a.length).toBe(b.length);
  b.forEach((x, i) => expect(a[i]!).toBeCloseTo(x, digits));
};

describe('SGD (torch.optim.SGD)', () => {
  it('plain and with L2 weight decay: θ ← θ − lr(g + wd·θ)', () => {
    const w = p('w', [1, -2]);
    const opt = new Optimizer([{ rule: 'sgd', params: [w], weightDecay: 0.01 }]);
    setGrad(w, [0.5, -0.1]);
    opt.step(0.1);
    // g + wd·θ = [0.51, −0.12]
    close(w.value, [1 - 0.1 * 0.51, -2 + 0.1 * 0.12]);
    const v = p('v', [1]);
    const plain = new Optimizer([{ rule: 'sgd', params: [v] }]);
    setGrad(v, [0.5]);
    plain.step(0.1);
    close(v.value, [0.95]);
  });

  it('momentum: b₁ = g₁, b_t = μb + (1 − dampening)g; nesterov uses g + μb', () => {
    const w = p('w', [1]);
    const opt = new Optimizer([{ rule: 'sgd', params: [w], momentum: 0.9 }]);
    setGrad(w, [0.5]); opt.step(0.1);       // b = 0.5 → θ = 0.95
    setGrad(w, [0.2]); opt.step(0.1);       // b = 0.45 + 0.2 = 0.65 → θ = 0.95 − 0.065
    close(w.value, [0.885]);
    const d = p('d', [1]);
    const damp = new Optimizer([{ rule: 'sgd', params: [d], momentum: 0.9, dampening: 0.1 }]);
    setGrad(d, [0.5]); damp.step(0.1);      // first step: b = g (no dampening), θ = 0.95
    setGrad(d, [0.2]); damp.step(0.1);      // b = 0.45 + 0.9·0.2 = 0.63 → θ = 0.95 − 0.063
    close(d.value, [0.887]);
    const n = p('n', [1]);
    const nest = new Optimizer([{ rule: 'sgd', params: [n], momentum: 0.9, nesterov: true }]);
    setGrad(n, [0.5]); nest.step(0.1);      // b = 0.5, step g + μb = 0.95 → θ = 1 − 0.095
    close(n.value, [0.905]);
  });
});

describe('SGD with EMA momentum (§E.4)', () => {
  it('v ← μv + (1 − μ)g from v₀ = 0; θ ← θ − lr·v', () => {
    const w = p('w', [1]);
    const opt = new Optimizer([{ rule: 'sgd_ema', params: [w], momentum: 0.9 }]);
    setGrad(w, [0.5]); opt.step(0.1);       // v = 0.05 → θ = 0.995
    close(w.value, [0.995]);
    setGrad(w, [0.2]); opt.step(0.1);       // v = 0.045 + 0.02 = 0.065 → θ = 0.995 − 0.0065
    close(w.value, [0.9885]);
  });
});

describe('Adam / AdamW', () => {
  it('AdamW reproduces the TF.js AdamW test values (θ = [1, −2], g = [0.5, −0.1] then [−0.5, 0.3], lr 0.1, wd 0.01)', () => {
    const w = p('w', [1, -2]);
    const opt = new Optimizer([{ rule: 'adamw', params: [w], weightDecay: 0.01 }]);
    setGrad(w, [0.5, -0.1]); opt.step(0.1);
    // step 1: θ(1 − lr·wd) − lr·g/(|g| + ε)
    close(w.value, [0.999 - (0.1 * 0.5) / (0.5 + 1e-8), -1.998 + (0.1 * 0.1) / (0.1 + 1e-8)]);
    setGrad(w, [-0.5, 0.3]); opt.step(0.1);
    // step 2 by hand: m = [−0.005, 0.021], v = [4.9975e-4, 9.999e-5], bc1 = 0.19, bc2 = 0.001999
    const th1 = [0.999 - (0.1 * 0.5) / (0.5 + 1e-8), -1.998 + (0.1 * 0.1) / (0.1 + 1e-8)];
    const m = [-0.005, 0.021], v = [4.9975e-4, 9.999e-5];
    const expected = th1.map((t, i) => t * (1 - 0.1 * 0.01) - (0.1 / 0.19) * (m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(0.001999) + 1e-8)));
    close(w.value, expected, 12);
    expect(w.value[0]).toBeCloseTo(0.9033641597874734, 7); // the figure of test/ml/optim.test.ts (float32 there)
    expect(w.value[1]).toBeCloseTo(-1.9455209911100655, 7);
  });

  it('Adam adds L2 decay to the gradient (torch.optim.Adam weight_decay); textbook form agrees', () => {
    const w = p('w', [1]);
    const opt = new Optimizer([{ rule: 'adam', params: [w], weightDecay: 0.01 }]);
    setGrad(w, [0.5]); opt.step(0.1);
    // g' = 0.5 + 0.01·1 = 0.51; first Adam step moves by lr·g'/(|g'| + ε)
    close(w.value, [1 - (0.1 * 0.51) / (0.51 + 1e-8)]);
    const a = p('a', [1]), b = p('b', [1]);
    const torch = new Optimizer([{ rule: 'adam', params: [a] }]);
    const text = new Optimizer([{ rule: 'adam', params: [b], form: 'textbook' }]);
    for (const g of [0.3, -0.7, 0.1]) {
      setGrad(a, [g]); setGrad(b, [g]);
      torch.step(0.01); text.step(0.01);
    }
    // three steps by hand: m₃, v₃ of g = (0.3, −0.7, 0.1)
    const m3 = 0.1 * (0.9 ** 2 * 0.3 + 0.9 * -0.7 + 0.1), v3 = 0.001 * (0.999 ** 2 * 0.09 + 0.999 * 0.49 + 0.01);
    const theta2 = [0.3, -0.7].reduce((th, _g, k) => {
      const t = k + 1;
      const m = t === 1 ? 0.03 : 0.1 * (0.9 * 0.3 - 0.7), v = t === 1 ? 0.00009 : 0.001 * (0.999 * 0.09 + 0.49);
      return th - (0.01 * (m / (1 - 0.9 ** t))) / (Math.sqrt(v / (1 - 0.999 ** t)) + 1e-8);
    }, 1);
    const theta3 = theta2 - (0.01 * (m3 / (1 - 0.9 ** 3))) / (Math.sqrt(v3 / (1 - 0.999 ** 3)) + 1e-8);
    expect(a.value[0]).toBeCloseTo(theta3, 14);
    expect(b.value[0]).toBeCloseTo(theta3, 14);
  });

  it('one global step counter for every group (§E.4); groups keep their own lr and decay', () => {
    const w = p('w', [1]), bias = p('b', [1]);
    const opt = new Optimizer([
      { rule: 'adam', params: [w], weightDecay: 0.1 },
      { rule: 'adam', params: [bias], lr: 0.5 },
    ]);
    setGrad(w, [0.2]); setGrad(bias, [0.2]);
    opt.step(0.01);
    expect(opt.t).toBe(1);
    close(w.value, [1 - (0.01 * 0.3) / (0.3 + 1e-8)]);   // g' = 0.2 + 0.1
    close(bias.value, [1 - (0.5 * 0.2) / (0.2 + 1e-8)]);  // fixed lr 0.5, no decay
  });
});

describe('clipping', () => {
  it('element-wise clip, then L2 decay (§E.4 order): g ← clip(g, −5, 5) + wd·θ', () => {
    const w = p('w', [1, 1, 1]);
    const opt = new Optimizer([{ rule: 'sgd', params: [w], clipValue: 5, weightDecay: 0.1, lr: 1 }]);
    setGrad(w, [7, -0.3, -9]);
    opt.step();
    // clip → [5, −0.3, −5]; + 0.1·θ → [5.1, −0.2, −4.9]
    close(w.value, [1 - 5.1, 1 + 0.2, 1 + 4.9]);
  });

  it('global-norm clip over all groups jointly, before the rules (§D.4)', () => {
    const a = p('a', [0, 0]), b = p('b', [0]);
    const opt = new Optimizer([{ rule: 'sgd', params: [a], lr: 1 }, { rule: 'sgd', params: [b], lr: 1 }], { clipNorm: 6.5 });
    setGrad(a, [3, 4]); setGrad(b, [12]);
    opt.step();
    expect(opt.lastGradNorm).toBe(13);
    const c = 6.5 / (13 + 1e-6);
    close(a.value, [-3 * c, -4 * c]);
    close(b.value, [-12 * c]);
    // below the threshold nothing changes
    const q = p('q', [0]);
    const loose = new Optimizer([{ rule: 'sgd', params: [q], lr: 1 }], { clipNorm: 100 });
    setGrad(q, [12]); loose.step();
    close(q.value, [-12]);
  });
});

describe('per-neuron scaled SGD and hybrid (§D.4)', () => {
  it('g_i ← g_i·‖θ_i‖^(2 − degree) over row i of W_in and column i of W_out, then SGD', () => {
    // d = 2 neurons; W_in 2×2 (neuron = row), W_out 1×2 (neuron = column)
    const wIn = p('W_in', [1, 2, 0, 1], [2, 2]), wOut = p('W_out', [2, 0], [1, 2]);
    const opt = new Optimizer(perNeuronSgd({ wIn, wOut, lr: 0.5, degree: 3 }));
    setGrad(wIn, [1, 1, 1, 1]); setGrad(wOut, [1, 1]);
    opt.step();
    // ‖θ₀‖ = √(1 + 4 + 4) = 3, ‖θ₁‖ = √(0 + 1 + 0) = 1; factor ‖θ‖^(−1)
    const s0 = 1 / Math.sqrt(9 + 1e-12), s1 = 1 / Math.sqrt(1 + 1e-12);
    close(wIn.value, [1 - 0.5 * s0, 2 - 0.5 * s0, 0 - 0.5 * s1, 1 - 0.5 * s1]);
    close(wOut.value, [2 - 0.5 * s0, 0 - 0.5 * s1]);
  });

  it('hybrid: lr 1 with ‖θ_i‖^scaling on W_in, W_drive, W_out; Adam with the training lr on W_mix', () => {
    const wIn = p('W_in', [1, 0], [2, 1]), wDrive = p('W_drive', [1, 2], [2, 1]), wOut = p('W_out', [1, 2], [1, 2]), wMix = p('W_mix', [0.5, 0, 0, 0.5], [2, 2]);
    const opt = new Optimizer(hybrid({ wIn, wDrive, wOut, wMix, scalingFactor: -3 }), { clipNorm: 1e9 });
    for (const q of [wIn, wDrive, wOut]) q.grad.fill(0.1);
    setGrad(wMix, [0.2, -0.2, 0, 0.4]);
    opt.step(1e-3);
    // ‖θ₀‖² = 1 + 1 + 1 = 3, ‖θ₁‖² = 0 + 4 + 4 = 8
    const f0 = Math.sqrt(3 + 1e-12) ** -3, f1 = Math.sqrt(8 + 1e-12) ** -3;
    close(wIn.value, [1 - 0.1 * f0, 0 - 0.1 * f1]);
    close(wDrive.value, [1 - 0.1 * f0, 2 - 0.1 * f1]);
    close(wOut.value, [1 - 0.1 * f0, 2 - 0.1 * f1]);
    // Adam's first step: lr·g/(|g| + ε); g = 0 stays (0/(0 + ε) = 0)
    close(wMix.value, [0.5 - (1e-3 * 0.2) / (0.2 + 1e-8), 0 + (1e-3 * 0.2) / (0.2 + 1e-8), 0, 0.5 - (1e-3 * 0.4) / (0.4 + 1e-8)]);
  });

  it('rejects groups whose params disagree on the neuron count', () => {
    const a = p('a', [1, 2, 3, 4, 5, 6], [3, 2]), b = p('b', [1, 2], [1, 2]);
    expect(() => new Optimizer([{ rule: 'per_neuron', params: [a, b], axes: [0, 1], exponent: 1 }])).toThrow(/number of neurons/);
  });
});

describe('optimizer state (§E.5 meta-tuner: snapshot, try, restore)', () => {
  it('state()/setState() restore m, v and t exactly', () => {
    const w = p('w', [0.3, -0.2]);
    const groups: Group[] = [{ rule: 'adam', params: [w] }];
    const opt = new Optimizer(groups);
    const grads = [[0.1, 0.2], [-0.3, 0.05], [0.2, 0.2]];
    setGrad(w, grads[0]!); opt.step(0.01);
    const saved = { theta: w.value.slice(), opt: opt.state() };
    setGrad(w, grads[1]!); opt.step(0.01);
    const after = w.value.slice();
    setGrad(w, grads[2]!); opt.step(0.05); // a candidate
    w.value.set(saved.theta); opt.setState(saved.opt);
    expect(opt.t).toBe(1);
    setGrad(w, grads[1]!); opt.step(0.01);
    expect(Array.from(w.value)).toEqual(Array.from(after));
  });
});
