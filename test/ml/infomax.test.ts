/**
 * The InfoMax layer of §B (src/lib/ml/infomax.ts, native/pb_infomax.c): §B.5 metrics against
 * hand-computed cases and the untrained Xavier baselines of §B.7; the §B.2 loss against the
 * kit's `infomax` loss; the gradient of the TF.js autodiff step and of the hand-derived native
 * step against central finite differences of the float64 loss, for every activation (and the
 * post-softmax, log-det and weight-redundancy options); the native step equal to the TF.js step
 * to 1e-5 over 100 Adam steps driven by the kit's `fit`.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { loadTf } from '../../src/lib/ml/backend.js';
import { blasStatus } from '../../src/lib/ml/blas/native.js';
import {
  INFOMAX_ACTIVATIONS, defaultSpec, effectiveRanks, forwardHost, lossValue, metrics, nativeGrads, nativeStep,
  singularValues, tfActivate, tfLoss, tfStep, weightRedundancy, xavierInit, type InfomaxSpec, type Params,
} from '../../src/lib/ml/infomax.js';
import { infomax } from '../../src/lib/ml/kit/losses.js';
import { fit } from '../../src/lib/ml/kit/loop.js';
import { Rng } from '../../src/sdk/rng.js';

const status = blasStatus();
if (!status.available) console.warn(`test/ml/infomax: native parts SKIPPED, the native blas library is unavailable: ${status.reason}`);

describe('§B.5 metrics', () => {
  it('effective ranks and singular values of a hand-made W', () => {
    // rows (3,0,0) and (0,4,0): singular values 4, 3
    const s = singularValues([3, 0, 0, 0, 4, 0], 2, 3);
    expect(Array.from(s)).toEqual([expect.closeTo(4, 12), expect.closeTo(3, 12)]);
    const r = effectiveRanks(s);
    expect(r.effRankPR).toBeCloseTo(49 / 25, 8);
    const p = [4 / 7, 3 / 7];
    expect(r.effRankRV).toBeCloseTo(Math.exp(-p[0]! * Math.log(p[0]!) - p[1]! * Math.log(p[1]!)), 8);
    // a rank-1 W: one singular value, both forms ≈ 1
    const one = effectiveRanks(singularValues([1, 2, 2, 4], 2, 2));
    expect(one.effRankPR).toBeCloseTo(1, 6);
    expect(one.effRankRV).toBeCloseTo(1, 6);
    // more rows than columns (K > n) goes through WᵀW
    expect(Array.from(singularValues([2, 0, 0, 1, 0, 0], 3, 2))).toEqual([expect.closeTo(2, 12), expect.closeTo(1, 12)]);
  });

  it('weight redundancy: orthogonal rows 0, parallel rows 2, a 60° pair 2·0.5²', () => {
    expect(weightRedundancy([1, 0, 0, 5], 2, 2)).toBeCloseTo(0, 12);
    expect(weightRedundancy([1, 1, 3, 3], 2, 2)).toBeCloseTo(2, 6);
    expect(weightRedundancy([1, 0, 0.5, Math.sqrt(3) / 2], 2, 2)).toBeCloseTo(0.5, 6);
  });

  it('dead units, output correlation, variance ratio, responsibility, mean/std on hand-made activations', () => {
    // columns: x, 2x, 0 (dead), for x = 1..4
    const A = [1, 2, 0, 2, 4, 0, 3, 6, 0, 4, 8, 0];
    const m = metrics([1, 0, 0, 1, 1, 1], 3, 2, A, 4);
    expect(m.dead_units).toBe(1);
    // R of (x, 2x, 0) with std + 1e-6: r_xx ≈ r_yy ≈ r_xy ≈ 1, the zero column gives 0 on its diagonal → ‖R−I‖² ≈ 2 + 1
    expect(m.output_correlation).toBeCloseTo(3, 4);
    // unbiased variances 5/3, 20/3, 0
    expect(m.variance_ratio).toBeCloseTo((20 / 3) / 1e-10, -2);
    expect(m.max_avg_responsibility).toBeNull();
    const mean = 30 / 12;
    expect(m.activation_mean).toBeCloseTo(mean, 12);
    expect(m.activation_std).toBeCloseTo(Math.sqrt(A.reduce((a, x) => a + (x - mean) ** 2, 0) / 11), 12);
    // rows that are distributions: max over units of the mean responsibility
    const P = [0.7, 0.2, 0.1, 0.5, 0.3, 0.2];
    expect(metrics([1, 0, 0, 1, 1, 1], 3, 2, P, 2).max_avg_responsibility).toBeCloseTo(0.6, 12);
  });

  it('untrained Xavier baselines of §B.7 (n = 784, 10 seeds)', () => {
    const table = { 16: [15.92, 15.96, 0.311], 32: [31.68, 31.84, 1.262], 64: [62.68, 63.33, 5.195] } as const;
    for (const K of [16, 32, 64] as const) {
      let pr = 0, rv = 0, red = 0;
      for (let seed = 1; seed <= 10; seed++) {
        const { W } = xavierInit(784, K, new Rng(seed));
        const r = effectiveRanks(singularValues(W, K, 784));
        pr += r.effRankPR / 10; rv += r.effRankRV / 10; red += weightRedundancy(W, K, 784) / 10;
      }
      const [ePR, eRV, eRed] = table[K];
      expect(Math.abs(pr - ePR)).toBeLessThan(0.01 * K / 16);
      expect(Math.abs(rv - eRV)).toBeLessThan(0.01 * K / 16);
      expect(Math.abs(red - eRed) / eRed).toBeLessThan(0.05);
    }
  });
});

/** Random data and params for the gradient checks (small sizes: finite differences are O(P)). */
function problem(seed: number, n: number, K: number, N: number) {
  const rng = new Rng(seed);
  const X = Float32Array.from({ length: N * n }, () => rng.uniform(0, 1));
  const p = xavierInit(n, K, rng.fork('init'));
  for (let i = 0; i < p.W.length; i++) p.W[i] = p.W[i]! * 3;   // off the init scale, so softmax/tanh are not linear
  for (let k = 0; k < K; k++) p.b[k] = rng.uniform(-0.3, 0.3);
  return { X, p };
}

const variants: [string, Partial<InfomaxSpec>][] = [
  ...INFOMAX_ACTIVATIONS.map((a) => [a, { activation: a }] as [string, Partial<InfomaxSpec>]),
  ['relu + post-softmax', { activation: 'relu', postSoftmax: true }],
  ['tanh + λ_wr', { activation: 'tanh', lambdaWr: 0.7, lambdaTc: 2 }],
  ['identity + log det', { activation: 'identity', tc: 'logdet', delta: 1e-3 }],
  ['softplus + log det + post-softmax', { activation: 'softplus', tc: 'logdet', delta: 1e-3, postSoftmax: true }],
];

describe('§B.2 loss and gradients', () => {
  let tf: typeof TF;
  beforeAll(async () => { tf = (await loadTf('cpu')).tf as unknown as typeof TF; });

  it('lossValue agrees with the kit infomax loss (λ_wr = 0)', () => {
    const { X, p } = problem(3, 6, 4, 20);
    const spec = defaultSpec(6, 4, 'tanh', { lambdaTc: 1.5 });
    const A = forwardHost(spec, p, X, 20);
    expect(lossValue(spec, A, 20, p.W).total).toBeCloseTo(infomax({ lambdaTc: 1.5 }).value({ data: A, rows: 20, cols: 4 }, null), 10);
  });

  const lossAt = (spec: InfomaxSpec, p: { W: Float64Array; b: Float64Array }, X: Float32Array, N: number) => lossValue(spec, forwardHost(spec, p, X, N), N, p.W).total;

  /** central differences of the float64 loss at every W/b coordinate */
  function finiteDiff(spec: InfomaxSpec, p: Params, X: Float32Array, N: number): Float64Array {
    const q = { W: Float64Array.from(p.W), b: Float64Array.from(p.b) };
    const out = new Float64Array(q.W.length + q.b.length);
    const h = 1e-5;
    const probe = (arr: Float64Array, i: number) => {
      const x = arr[i]!;
      arr[i] = x + h; const up = lossAt(spec, q, X, N);
      arr[i] = x - h; const dn = lossAt(spec, q, X, N);
      arr[i] = x;
      return (up - dn) / (2 * h);
    };
    for (let i = 0; i < q.W.length; i++) out[i] = probe(q.W, i);
    for (let k = 0; k < q.b.length; k++) out[q.W.length + k] = probe(q.b, k);
    return out;
  }

  function tfGrads(spec: InfomaxSpec, p: Params, X: Float32Array, N: number): Float32Array {
    const W = tf.variable(tf.tensor2d(p.W, [spec.K, spec.n])), b = tf.variable(tf.tensor1d(p.b));
    const xt = tf.tensor2d(X, [N, spec.n]);
    const { grads, value } = tf.variableGrads(() => tfLoss(tf as any, spec, tfActivate(tf as any, spec, tf.add(tf.matMul(xt, W, false, true), b) as TF.Tensor2D), W)[0]!, [W, b]);
    const g = new Float32Array(p.W.length + p.b.length);
    g.set(grads[W.name]!.dataSync() as Float32Array); g.set(grads[b.name]!.dataSync() as Float32Array, p.W.length);
    tf.dispose([W, b, xt, value, ...Object.values(grads)]);
    return g;
  }

  const close = (a: ArrayLike<number>, ref: ArrayLike<number>, rel: number) => {
    let worst = 0;
    const scale = Math.max(1, ...Array.from(ref, Math.abs));
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(a[i]! - ref[i]!) / scale);
    return worst;
  };

  for (const [name, o] of variants) {
    it(`gradient of ${name}: TF.js autodiff${status.available ? ' and the native step' : ''} = finite differences`, async () => {
      const n = 7, K = 5, N = 24;
      const { X, p } = problem(11, n, K, N);
      const spec = defaultSpec(n, K, 'identity', o);
      const fd = finiteDiff(spec, p, X, N);
      expect(Math.max(...Array.from(fd, Math.abs))).toBeGreaterThan(1e-3);   // a non-trivial gradient
      expect(close(tfGrads(spec, p, X, N), fd, 1)).toBeLessThan(2e-4);
      if (status.available) {
        const nat = await nativeGrads(spec, p, X, N);
        expect(close(nat.grads, fd, 1)).toBeLessThan(2e-4);
        const ref = lossValue(spec, forwardHost(spec, p, X, N), N, p.W);
        expect(nat.losses[0]).toBeCloseTo(ref.total, 3);
        expect(nat.losses[1]).toBeCloseTo(ref.entropy, 3);
        expect(nat.losses[2]).toBeCloseTo(ref.tc, 3);
        expect(nat.losses[3]).toBeCloseTo(ref.wr, 4);
      }
    });
  }

  describe.skipIf(!status.available)('native step = TF.js step', () => {
    it('SGD, full batch (batch_size −1), relu + λ_wr: 100 steps, parameters to 1e-5', async () => {
      const n = 30, K = 6, N = 200;
      const rng = new Rng(8);
      const X = Float32Array.from({ length: N * n }, () => rng.uniform(0, 1));
      const spec = defaultSpec(n, K, 'relu', { lambdaWr: 0.5 });
      const init = xavierInit(n, K, new Rng(4));
      const opt = { optimizer: 'sgd' as const, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
      const run = async (step: Awaited<ReturnType<typeof tfStep>>) => {
        const res = await fit(step, { data: { mode: 'full', rows: N }, maxEpochs: 100, schedules: { lr: 1e-2 } });
        const p = step.params();
        step.dispose();
        return { p, last: res.curves.at(-1)!.train, first: res.curves[0]!.train };
      };
      const a = await run(await tfStep(tf as any, spec, init, X, N, opt));
      const b = await run(await nativeStep(spec, init, X, N, opt, N));
      expect(a.last.total).toBeLessThan(a.first.total! - 1);   // SGD made progress
      for (let i = 0; i < init.W.length; i++) expect(Math.abs(a.p.W[i]! - b.p.W[i]!)).toBeLessThan(1e-5);
      for (let k = 0; k < K; k++) expect(Math.abs(a.p.b[k]! - b.p.b[k]!)).toBeLessThan(1e-5);
      expect(Math.abs(a.last.total! - b.last.total!)).toBeLessThan(1e-4);
    });

    for (const [name, o] of [...variants.slice(0, 8), variants[9]!]) {
      it(`${name}: 100 Adam steps through fit, parameters and losses to 1e-5`, async () => {
        const n = 40, K = 8, N = 320, bs = 32;
        const rng = new Rng(5);
        const X = Float32Array.from({ length: N * n }, () => (rng.random() < 0.6 ? 0 : rng.uniform(0, 1)));
        const spec = defaultSpec(n, K, 'identity', o);
        const init = xavierInit(n, K, new Rng(9));
        const opt = { optimizer: 'adam' as const, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
        const run = async (step: Awaited<ReturnType<typeof tfStep>>) => {
          const res = await fit(step, { data: { mode: 'minibatch', rows: N, batchSize: bs }, maxEpochs: 10, rng: new Rng(77), schedules: { lr: 1e-3 } });
          const out = { p: step.params(), curves: res.curves.map((c) => c.train), steps: res.steps };
          step.dispose();
          return out;
        };
        const a = await run(await tfStep(tf as any, spec, init, X, N, opt));
        const b = await run(await nativeStep(spec, init, X, N, opt, bs));
        expect(a.steps).toBe(100);
        let moved = 0;
        for (let i = 0; i < init.W.length; i++) moved = Math.max(moved, Math.abs(a.p.W[i]! - init.W[i]!));
        expect(moved).toBeGreaterThan(1e-2);   // 100 steps of lr 1e-3 really moved the weights
        for (let i = 0; i < init.W.length; i++) expect(Math.abs(a.p.W[i]! - b.p.W[i]!)).toBeLessThan(1e-5);
        if (spec.activation === 'identity' && !spec.postSoftmax) {
          // the loss does not depend on b here (centring removes it): ∂L/∂b is float32 round-off in
          // both steps, which Adam normalises into ±lr moves — different noise, bounded by steps·lr
          for (let k = 0; k < K; k++) expect(Math.abs(a.p.b[k]! - b.p.b[k]!)).toBeLessThanOrEqual(2 * 100 * 1e-3 + 1e-6);
        } else {
          for (let k = 0; k < K; k++) expect(Math.abs(a.p.b[k]! - b.p.b[k]!)).toBeLessThan(1e-5);
        }
        a.curves.forEach((c, e) => {
          for (const key of ['total', 'entropy', 'tc', 'wr']) expect(Math.abs(c[key]! - b.curves[e]![key]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(c[key]!)));
        });
      });
    }
  });
});
