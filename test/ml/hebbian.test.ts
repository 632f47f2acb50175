/**
 * The Hebbian MLP of §E against closed forms: the README's tiny Hebbian example, Oja's rule
 * (γ = 1) keeping weight norms bounded where plain Hebb (γ = 0) grows without bound, backprop vs
 * central finite differences for every activation (single- and multi-task), one full `_step`
 * against a hand computation, the meta-tuner's bit-exact restore, its grid, and the NPZ layout
 * read back by NumPy.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/sdk/rng.js';
import { HebbianMlp, HebbianStep, headLoss, metaGrid, metaTunerHook, evaluateNet, type Data, type HebbAct, type HebbianConfig } from '../../src/lib/ml/hebbian.js';
import type { HookContext } from '../../src/lib/ml/kit/loop.js';
import { npzBytes } from '../../src/lib/npz.js';
import { blasStatus } from '../../src/lib/ml/blas/native.js';
import type { HebbianBackend } from '../../src/lib/ml/hebbian.js';
import { havePython, PY as TEST_PY } from '../helpers/requires.js';

const cfg = (o: Partial<HebbianConfig> = {}): HebbianConfig => ({
  optimizer: 'momentum', momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, clip: 0, useHebbian: false, gamma: 0, mtWeight: 0.5, ...o,
});

function data(n: number, d: number, seed: number, multi = false): Data {
  const r = new Rng(seed);
  const X = new Float32Array(n * d), y = new Float32Array(n), score = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) { X[i * d + k] = r.normal(); s += X[i * d + k]! * (k + 1) * (k % 2 ? -1 : 1); }
    y[i] = s + r.normal(0, 0.5) > 0 ? 1 : 0;
    score[i] = 1 / (1 + Math.exp(-s));
  }
  return { X, n, d, y, score: multi ? score : null };
}

describe('Hebbian increment', () => {
  it("reproduces the README's tiny example (α 0.02, γ 0.01, W = 0): 0.0144, 0.0036, 0.0016, 0.0004", () => {
    const net = new HebbianMlp({ sizes: [2, 2], activations: ['linear'] }, new Rng(1));
    net.W[0]!.fill(0);
    net.b[0]!.set([0.9, 0.1]); // with W = 0 the output (post) is the bias: y = [0.9, 0.1]
    net.forward(Float32Array.from([0.8, 0.2]), 2, null, 0, 1);
    expect(Array.from(net.h[1]!)).toEqual([Math.fround(0.9), Math.fround(0.1)]);
    const [dW] = net.hebbianDeltas(0.02, 0.01);
    const want = [0.0144, 0.0036, 0.0016, 0.0004];
    dW!.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 7));
  });

  it('the decay term is γ·diag(mean_B(post²))·W from the pre-update W (B = 2, W ≠ 0)', () => {
    const net = new HebbianMlp({ sizes: [2, 1], activations: ['linear'] }, new Rng(1));
    net.W[0]!.set([0.5, -1]);
    net.b[0]!.set([0]);
    // rows x1 = (1, 0) → y = 0.5; x2 = (0, 1) → y = −1
    net.forward(Float32Array.from([1, 0, 0, 1]), 2, null, 0, 2);
    const [dW] = net.hebbianDeltas(0.1, 1);
    // postᵀpre/B = [(0.5·1 + (−1)·0)/2, (0.5·0 + (−1)·1)/2] = [0.25, −0.5]; mean(post²) = (0.25 + 1)/2 = 0.625
    expect(dW![0]).toBeCloseTo(0.1 * (0.25 - 0.625 * 0.5), 7);
    expect(dW![1]).toBeCloseTo(0.1 * (-0.5 - 0.625 * -1), 7);
  });

  it("Oja's rule (γ = 1) keeps the weight norm bounded (→ 1); plain Hebb (γ = 0) grows without bound", () => {
    const run = (gamma: number) => {
      const net = new HebbianMlp({ sizes: [3, 1], activations: ['linear'] }, new Rng(3));
      net.b[0]!.fill(0);
      const r = new Rng(4);
      const x = new Float32Array(3 * 16);
      let maxNorm = 0;
      for (let s = 0; s < 3000; s++) {
        for (let i = 0; i < 16; i++) { const u = r.normal(); x[i * 3] = 2 * u + 0.1 * r.normal(); x[i * 3 + 1] = u + 0.1 * r.normal(); x[i * 3 + 2] = 0.3 * r.normal(); }
        net.forward(x, 3, null, 0, 16);
        const [dW] = net.hebbianDeltas(0.005, gamma);
        net.W[0]!.forEach((w, k) => { net.W[0]![k] = w + dW![k]!; });
        maxNorm = Math.max(maxNorm, net.weightNorms()[0]!);
        if (!Number.isFinite(maxNorm) || maxNorm > 1e6) break;
      }
      return { final: net.weightNorms()[0]!, maxNorm, w: Array.from(net.W[0]!) };
    };
    const oja = run(1);
    expect(oja.final).toBeGreaterThan(0.95);
    expect(oja.final).toBeLessThan(1.05);
    expect(oja.maxNorm).toBeLessThan(1.5);
    // it converges to the principal direction of the input covariance (≈ (2, 1, 0)/√5 up to sign)
    const s = Math.sign(oja.w[0]!);
    expect(s * oja.w[0]!).toBeCloseTo(2 / Math.sqrt(5), 1);
    expect(s * oja.w[1]!).toBeCloseTo(1 / Math.sqrt(5), 1);
    const hebb = run(0);
    expect(hebb.maxNorm).toBeGreaterThan(100);
  });
});

const backends: HebbianBackend[] = blasStatus().available || process.env.PIPE_REQUIRE_BLAS === '1' ? ['js', 'blas'] : ['js'];

describe('backprop', () => {
  const acts: HebbAct[] = ['relu', 'sigmoid', 'tanh', 'linear'];
  for (const backend of backends) for (const act of acts) {
    for (const multi of [false, true]) {
      it(`matches central finite differences (${backend}, hidden ${act}, ${multi ? 'multi-task' : 'single-task'})`, () => {
        const d = data(12, 3, 7, multi);
        const net = new HebbianMlp({ sizes: [3, 5, 4, multi ? 2 : 1], activations: [act, act, 'linear'] }, new Rng(11), backend);
        net.b.forEach((b, i) => b.forEach((_, k) => { b[k] = 0.1 * (k - 1) + 0.05 * i; }));
        const loss = () => {
          const out = net.forward(d.X, 3, null, 0, d.n);
          return headLoss(out, d.n, net.outDim, d.y, d.score, null, 0, 0.5, false).total;
        };
        const out = net.forward(d.X, 3, null, 0, d.n);
        const l = headLoss(out, d.n, net.outDim, d.y, d.score, null, 0, 0.5, true);
        net.backward(l.grad!);
        const grads = [...net.Wp, ...net.bp].map((p) => Float64Array.from(p.grad));
        [...net.Wp, ...net.bp].forEach((p, pi) => {
          for (let k = 0; k < p.value.length; k++) {
            const v0 = p.value[k]!, h = 1e-3 * Math.max(1, Math.abs(v0));
            p.value[k] = v0 + h; const lp = loss();
            p.value[k] = v0 - h; const lm = loss();
            p.value[k] = v0;
            const fd = (lp - lm) / (Math.fround(v0 + h) - Math.fround(v0 - h)); // the float32 values actually used
            expect(Math.abs(fd - grads[pi]![k]!), `${p.name}[${k}]: fd ${fd}, backprop ${grads[pi]![k]}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
          }
        });
      });
    }
  }
});

describe('blas and js backends', () => {
  it.runIf(backends.includes('blas'))('train the same trajectory to float32 rounding (20 Hebbian + Adam steps)', () => {
    const tr = data(128, 4, 1), va = data(40, 4, 2);
    const nets = (['js', 'blas'] as const).map((b) => new HebbianMlp({ sizes: [4, 16, 8, 1], activations: ['relu', 'tanh', 'linear'] }, new Rng(5), b));
    const steps = nets.map((n) => new HebbianStep(n, tr, va, cfg({ optimizer: 'adam', useHebbian: true, gamma: 1, weightDecay: 1e-4, clip: 5 })));
    for (let k = 0; k < 20; k++) for (const st of steps) st.update(new Rng(k).permutation(128), 0, 64, 0.01, 0.01);
    for (let i = 0; i < 3; i++) nets[0]!.W[i]!.forEach((w, j) => expect(Math.abs(w - nets[1]!.W[i]![j]!)).toBeLessThan(1e-4));
  });
});

describe('one _step (§E.4)', () => {
  it('clip, L2, EMA momentum, then the Hebbian increment from the pre-update W — by hand for a 1×1 net', () => {
    const net = new HebbianMlp({ sizes: [1, 1], activations: ['linear'] }, new Rng(1));
    net.W[0]!.set([2]);
    net.b[0]!.set([0]);
    const d: Data = { X: Float32Array.from([3]), n: 1, d: 1, y: Float32Array.from([0]), score: null };
    const st = new HebbianStep(net, d, d, cfg({ useHebbian: true, gamma: 1, weightDecay: 0.1, clip: 5 }));
    st.update(null, 0, 1, 0.5, 0.01);
    // z = 6; ∂L/∂z = σ(6) − 0; ∂W = σ(6)·3 = 2.9926 (< clip 5); + wd·W = 0.2
    const g = (1 / (1 + Math.exp(-6))) * 3 + 0.1 * 2;
    const v = 0.1 * g; // EMA v = 0.9·0 + 0.1·g
    const hebb = 0.01 * (6 * 3 - 1 * 36 * 2); // α(post·pre − γ·post²·W) with the pre-update W = 2
    expect(net.W[0]![0]).toBeCloseTo(2 - 0.5 * v + hebb, 5);
    // the bias: ∂b = σ(6) (no L2, no Hebbian)
    expect(net.b[0]![0]).toBeCloseTo(-0.5 * 0.1 * (1 / (1 + Math.exp(-6))), 6);
  });

  it('element-wise clip at ±clip before L2', () => {
    const net = new HebbianMlp({ sizes: [1, 1], activations: ['linear'] }, new Rng(1));
    net.W[0]!.set([1]);
    net.b[0]!.set([0]);
    const d: Data = { X: Float32Array.from([100]), n: 1, d: 1, y: Float32Array.from([0]), score: null };
    const st = new HebbianStep(net, d, d, cfg({ optimizer: 'momentum', momentum: 0, weightDecay: 0.5, clip: 5 }));
    st.update(null, 0, 1, 1, 0);
    // ∂W = σ(100)·100 ≈ 100 → clipped to 5, + 0.5·1 → W = 1 − 5.5
    expect(net.W[0]![0]).toBeCloseTo(1 - 5.5, 5);
  });
});

describe('meta-tuner (§E.5)', () => {
  it('grid: sorted unique {max(1e-4, lr/2), lr} × {0, α/2, α}', () => {
    expect(metaGrid(0.05, 0.02)).toEqual({ lrs: [0.025, 0.05], alphas: [0, 0.01, 0.02] });
    expect(metaGrid(1e-4, 0)).toEqual({ lrs: [1e-4], alphas: [0] });
  });

  it('tries every candidate from a checkpoint and restores weights and optimizer state bit-exactly; picks the strictly lowest val BCE', async () => {
    const tr = data(200, 4, 1), va = data(60, 4, 2);
    const net = new HebbianMlp({ sizes: [4, 8, 1], activations: ['relu', 'linear'] }, new Rng(5));
    const st = new HebbianStep(net, tr, va, cfg({ optimizer: 'adam', useHebbian: true, gamma: 0.5, weightDecay: 1e-4, clip: 5 }));
    for (let i = 0; i < 5; i++) st.update(new Rng(9).permutation(200), 0, 64, 0.01, 0.02); // some optimizer state
    const before = st.checkpoint();
    const trials: { lr: number; alpha: number; val_bce: number }[] = [];
    const set: Record<string, number> = {};
    const hook = metaTunerHook(st, { lr: 0.05, alpha: 0.02, metaSteps: 2, rng: new Rng(3), trials: trials as never });
    await hook.run({ epoch: 0, step: 5, settings: { lr: 0.05, alpha: 0.02 }, curves: [], model: st, set: (k: string, v: number) => { set[k] = v; }, schedule: () => {}, stop: () => {} } as unknown as HookContext<never>);
    const after = st.checkpoint();
    expect(after.W).toEqual(before.W);
    expect(after.b).toEqual(before.b);
    expect(after.opt).toEqual(before.opt);
    expect(trials.map((t) => [t.lr, t.alpha])).toEqual([[0.025, 0], [0.025, 0.01], [0.025, 0.02], [0.05, 0], [0.05, 0.01], [0.05, 0.02]]);
    const best = trials.reduce((a, t) => (t.val_bce < a.val_bce ? t : a));
    expect(set).toEqual({ lr: best.lr, alpha: best.alpha });
    // a trial really trained: its val BCE differs from the untouched model's
    expect(trials.every((t) => t.val_bce !== evaluateNet(net, va, 0.5).bce)).toBe(true);
  });
});

const numpyHere = havePython('numpy', 'python3-numpy', "test/ml/hebbian: \"NumPy reads the seed's layout back\"");

describe('npz', () => {
  it.skipIf(!numpyHere)("NumPy reads the seed's layout back (names, shapes, float32 values)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-npz-'));
    const W0 = Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5);
    const b0 = Float32Array.from([1.5, -2, 0.25]);
    writeFileSync(join(dir, 'w.npz'), npzBytes({ W0: { data: W0, shape: [3, 4] }, b0: { data: b0, shape: [3] } }));
    const py = "import numpy as np, json, sys; z = np.load(sys.argv[1]); print(json.dumps({k: [list(z[k].shape), str(z[k].dtype), z[k].ravel().tolist()] for k in sorted(z.files)}))";
    const r = spawnSync(TEST_PY, ['-c', py, join(dir, 'w.npz')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got.W0[0]).toEqual([3, 4]);
    expect(got.W0[1]).toBe('float32');
    expect(got.W0[2]).toEqual(Array.from(W0));
    expect(got.b0).toEqual([[3], 'float32', [1.5, -2, 0.25]]);
  });
});
