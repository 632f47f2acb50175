import { describe, it, expect, beforeAll } from 'vitest';
import { cosineLr, temperatureAt, entropyWeightAt } from '../../src/lib/ml/schedules.js';
import { AdamW, clipByGlobalNorm, torchLinearInit, type Tf } from '../../src/lib/ml/optim.js';
import { loadTf, resolveBackend, backendRuntime, BackendUnavailableError } from '../../src/lib/ml/backend.js';
import { Rng } from '../../src/sdk/rng.js';

describe('schedules (§A.3/§A.4)', () => {
  it('cosine LR per epoch', () => {
    expect(cosineLr(0, 1e-3, 1e-5, 200)).toBeCloseTo(1e-3, 15);
    expect(cosineLr(100, 1e-3, 1e-5, 200)).toBeCloseTo((1e-3 + 1e-5) / 2, 15);
    expect(cosineLr(200, 1e-3, 1e-5, 200)).toBeCloseTo(1e-5, 15);
    expect(cosineLr(50, 1e-3, 1e-5, 200)).toBeCloseTo(1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + Math.SQRT1_2), 15);
  });
  it('temperature anneal T0 → Tf over E_T, then constant', () => {
    expect(temperatureAt(0, 1, 0.01, 150)).toBe(1);
    expect(temperatureAt(75, 1, 0.01, 150)).toBeCloseTo(0.505, 12);
    expect(temperatureAt(149, 1, 0.01, 150)).toBeCloseTo(1 - (149 / 150) * 0.99, 12);
    expect(temperatureAt(150, 1, 0.01, 150)).toBe(0.01);
    expect(temperatureAt(199, 1, 0.01, 150)).toBe(0.01);
    expect(temperatureAt(0, 1, 0.01, 0)).toBe(1); // E_T clamped to 1
    expect(temperatureAt(1, 1, 0.01, 0)).toBe(0.01);
  });
  it('entropy weight warm-up', () => {
    expect(entropyWeightAt(0, 0.01, 50)).toBe(0);
    expect(entropyWeightAt(25, 0.01, 50)).toBeCloseTo(0.005, 15);
    expect(entropyWeightAt(50, 0.01, 50)).toBe(0.01);
    expect(entropyWeightAt(120, 0.01, 50)).toBe(0.01);
    expect(entropyWeightAt(0, 0.01, 0)).toBe(0);
    expect(entropyWeightAt(1, 0.01, 0)).toBe(0.01);
  });
});

describe('backend selection', () => {
  it('auto resolves to wasm here; missing native backends are clear errors', () => {
    const r = resolveBackend('auto');
    expect(['blas', 'wasm', 'tensorflow', 'tensorflow-gpu']).toContain(r.backend);
    expect(backendRuntime('wasm')).toMatchObject({ backend: 'wasm', tfjs: '4.22.0' });
    if (r.backend === 'wasm') {
      expect(() => resolveBackend('tensorflow')).toThrow(/tfjs-node is not installed/);
      expect(() => resolveBackend('tensorflow-gpu')).toThrow(BackendUnavailableError);
    }
    expect(() => resolveBackend('gpu' as never)).toThrow(/unknown backend/);
  });
});

describe('AdamW, clipping, init', () => {
  let tf: Tf;
  beforeAll(async () => { tf = (await loadTf('wasm')).tf; });

  it('AdamW steps equal the hand computation (decoupled decay, bias correction)', () => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const opt = new AdamW(tf, [p], { weightDecay: 0.01 });
    const g1 = tf.tensor1d([0.5, -0.1]);
    opt.apply([g1], 0.1);
    // step 1: θ(1 − lr·wd) − lr·g/(|g| + ε)
    const s1 = p.dataSync();
    expect(s1[0]).toBeCloseTo(0.999 - 0.1, 6);
    expect(s1[1]).toBeCloseTo(-1.998 + 0.1, 6);
    const g2 = tf.tensor1d([-0.5, 0.3]);
    opt.apply([g2], 0.1);
    // step 2 computed by hand in float64 (m = [-0.005, 0.021], v = [4.9975e-4, 9.999e-5], bc1 = 0.19, bc2 = 0.001999)
    const s2 = p.dataSync();
    expect(s2[0]).toBeCloseTo(0.9033641597874734, 5);
    expect(s2[1]).toBeCloseTo(-1.9455209911100655, 5);
    tf.dispose([p, g1, g2]);
    opt.dispose();
  });

  it('no weight decay on zero wd; Adam first step moves each coordinate by lr', () => {
    const p = tf.variable(tf.tensor2d([[0.3, 0.3]]));
    const opt = new AdamW(tf, [p]);
    const g = tf.tensor2d([[1e-3, -7]]);
    opt.apply([g], 0.01);
    const s = p.dataSync();
    expect(s[0]).toBeCloseTo(0.29, 6);
    expect(s[1]).toBeCloseTo(0.31, 6);
    tf.dispose([p, g]);
    opt.dispose();
  });

  it('global-norm clipping scales all gradients jointly', () => {
    const a = tf.tensor1d([3, 4]), b = tf.tensor1d([12]);
    const { grads, norm } = clipByGlobalNorm(tf, [a, b], 6.5);
    expect(norm.dataSync()[0]).toBeCloseTo(13, 5);
    const c = 6.5 / (13 + 1e-6);
    expect(Array.from(grads[0]!.dataSync())).toEqual([expect.closeTo(3 * c, 6), expect.closeTo(4 * c, 6)]);
    expect(grads[1]!.dataSync()[0]).toBeCloseTo(12 * c, 5);
    const unclipped = clipByGlobalNorm(tf, [a, b], 100);
    expect(unclipped.grads[1]!.dataSync()[0]).toBeCloseTo(12, 5);
    tf.dispose([a, b, norm, ...grads, unclipped.norm, ...unclipped.grads]);
  });

  it('PyTorch nn.Linear init: U(±1/√fan_in), deterministic per seed', () => {
    const { W, b } = torchLinearInit(new Rng(1), 64, 128);
    const bound = 1 / 8;
    let s = 0, s2 = 0;
    for (const w of W) { expect(Math.abs(w)).toBeLessThanOrEqual(bound); s += w; s2 += w * w; }
    expect(Math.abs(s / W.length)).toBeLessThan(0.005);
    expect(s2 / W.length).toBeCloseTo(bound ** 2 / 3, 3);
    expect(b.length).toBe(128);
    expect(Array.from(torchLinearInit(new Rng(1), 64, 128).W)).toEqual(Array.from(W));
  });
});
