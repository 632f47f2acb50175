/** Losses of the kit (src/lib/ml/kit/losses.ts): values and gradients written out by hand; TF.js forms agree. */
import { describe, it, expect, beforeAll } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { crossEntropy, bceWithLogits, mse, weighted, infomax, mat } from '../../src/lib/ml/kit/losses.js';
import { loadTf } from '../../src/lib/ml/backend.js';

const sig = (x: number) => 1 / (1 + Math.exp(-x));
const close = (a: ArrayLike<number>, b: number[], digits = 14) => {
  expect(a.length).toBe(b.length);
  b.forEach((x, i) => expect(a[i]!).toBeCloseTo(x, digits));
};

describe('losses: values and gradients', () => {
  it('softmax cross-entropy from logits', () => {
    const out = mat([1, 2, 0, 0], 2, 2), y = mat([1, 0], 2);
    // row 0: logsumexp(1, 2) − 2 = log(1 + e^−1); row 1: log 2
    expect(crossEntropy().value(out, y)).toBeCloseTo((Math.log(1 + Math.exp(-1)) + Math.log(2)) / 2, 15);
    // (softmax − onehot) / n
    close(crossEntropy().grad!(out, y), [sig(-1) / 2, (sig(1) - 1) / 2, (0.5 - 1) / 2, 0.5 / 2]);
  });

  it('BCE with logits, stable form (§E.3)', () => {
    const z = mat([0, 2, -3], 3), y = mat([1, 0, 1], 3);
    expect(bceWithLogits().value(z, y)).toBeCloseTo((Math.log(2) + (2 + Math.log1p(Math.exp(-2))) + (3 + Math.log1p(Math.exp(-3)))) / 3, 15);
    close(bceWithLogits().grad!(z, y), [(0.5 - 1) / 3, sig(2) / 3, (sig(-3) - 1) / 3]);
    // no overflow for large |z|: max(z,0) − z·y + log1p(e^−|z|)
    expect(bceWithLogits().value(mat([800], 1), mat([0], 1))).toBe(800);
  });

  it('MSE and ½-MSE (§E.3: gradient (ŷ − y)/B)', () => {
    const p = mat([1, 3], 2), y = mat([0, 1], 2);
    expect(mse().value(p, y)).toBe(2.5);
    close(mse().grad!(p, y), [1, 2]);
    expect(mse({ half: true }).value(p, y)).toBe(1.25);
    close(mse({ half: true }).grad!(p, y), [0.5, 1]);
  });

  it('weighted multi-task heads (§E.6): BCE on column 0 + 0.25·½MSE on column 1', () => {
    const out = mat([0.5, 0.2, -1, 0.9], 2, 2), t = mat([1, 0.3, 0, 0.5], 2, 2);
    const L = weighted([
      { loss: bceWithLogits(), weight: 1, out: [0, 1], target: [0, 1] },
      { loss: mse({ half: true }), weight: 0.25, out: [1, 2], target: [1, 2] },
    ]);
    const bce = ((0.5 - 0.5 + Math.log1p(Math.exp(-0.5))) + (0 + Math.log1p(Math.exp(-1)))) / 2;
    const hm = (0.5 * (0.2 - 0.3) ** 2 + 0.5 * (0.9 - 0.5) ** 2) / 2;
    expect(L.value(out, t)).toBeCloseTo(bce + 0.25 * hm, 15);
    close(L.grad!(out, t), [(sig(0.5) - 1) / 2, (0.25 * (0.2 - 0.3)) / 2, sig(-1) / 2, (0.25 * (0.9 - 0.5)) / 2]);
  });

  it('InfoMax from activations (§B.2): −Σ log v_j + λ‖R − I‖²_F', () => {
    // A = [[1,0],[2,2],[3,1]]: centred [[−1,−1],[0,1],[1,0]]; unbiased variances 1, 1; Σ c₀c₁ = 1
    const A = mat([1, 0, 2, 2, 3, 1], 3, 2);
    const eps = 1e-6, v = 1 + eps;
    const lh = -2 * Math.log(v);
    const rDiag = 2 / (2 * v), rOff = 1 / (2 * v);
    const tc = 2 * (rDiag - 1) ** 2 + 2 * rOff ** 2;
    expect(infomax().value(A, null)).toBeCloseTo(lh + tc, 13);
    expect(infomax({ lambdaTc: 0 }).value(A, null)).toBeCloseTo(lh, 14);
    expect(() => mse().value(A, null)).toThrow(/needs a target/);
  });
});

describe('losses: TF.js forms agree with the host values', () => {
  let tf: Awaited<ReturnType<typeof loadTf>>['tf'];
  beforeAll(async () => { tf = (await loadTf('wasm')).tf; });

  it('CE (one-hot target), BCE, MSE, ½-MSE, InfoMax; CE autograd equals the closed-form gradient', () => {
    const z = [0.3, -1.2, 2.0, 0.7, -0.4, 0.1], y = [2, 0];
    const onehot = [0, 0, 1, 1, 0, 0];
    const val = (f: (t: typeof tf) => TF.Scalar) => tf.tidy(() => f(tf).dataSync()[0]!);
    const Z = () => tf.tensor2d(z, [2, 3]);
    expect(val((t) => crossEntropy().tf!(t, Z(), t.tensor2d(onehot, [2, 3])))).toBeCloseTo(crossEntropy().value(mat(z, 2, 3), mat(y, 2)), 5);
    const b = [1, 0, 0, 1, 1, 0];
    expect(val((t) => bceWithLogits().tf!(t, Z(), t.tensor2d(b, [2, 3])))).toBeCloseTo(bceWithLogits().value(mat(z, 2, 3), mat(b, 2, 3)), 5);
    expect(val((t) => mse().tf!(t, Z(), t.tensor2d(b, [2, 3])))).toBeCloseTo(mse().value(mat(z, 2, 3), mat(b, 2, 3)), 5);
    expect(val((t) => mse({ half: true }).tf!(t, Z(), t.tensor2d(b, [2, 3])))).toBeCloseTo(mse({ half: true }).value(mat(z, 2, 3), mat(b, 2, 3)), 5);
    const A = [1, 0, 2, 2, 3, 1, 0.5, -1];
    expect(val((t) => infomax().tf!(t, t.tensor2d(A, [4, 2]), null))).toBeCloseTo(infomax().value(mat(A, 4, 2), null), 4);
    const g = tf.tidy(() => tf.grad((x: TF.Tensor) => crossEntropy().tf!(tf, x as TF.Tensor2D, tf.tensor2d(onehot, [2, 3])))(Z()).dataSync());
    close(g, Array.from(crossEntropy().grad!(mat(z, 2, 3), mat(y, 2))), 6);
  });
});
