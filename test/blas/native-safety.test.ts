/**
 * The native library's entry points with bad input: labels that are not class indices and row
 * indices outside the data are error codes the TS side turns into messages naming the row (never
 * a wild read); the fast-math kernels pass NaN through (divergence detection depends on it) and
 * stay finite for finite inputs (sigmoid of −100 is ~0, not NaN).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import koffi from 'koffi';
import { blasStatus, LIBRARY_PATH } from '../../src/lib/ml/blas/native.js';
import { trainMlpNative } from '../../src/lib/ml/blas/trainer.js';
import { loadTf } from '../../src/lib/ml/backend.js';
import { Mlp, type MlpSpec } from '../../src/lib/ml/mlp.js';
import type { Tf } from '../../src/lib/ml/optim.js';
import { Rng } from '../../src/sdk/rng.js';

const status = blasStatus();
const required = process.env.CI === 'true' || !!process.env.PIPE_REQUIRE_BLAS;
if (!status.available && !required) console.warn(`test/blas/native-safety: SKIPPED, the native blas library is unavailable: ${status.reason}`);

describe.skipIf(!status.available && !required)('native entry points with bad input', () => {
  let tf: Tf;
  beforeAll(async () => { tf = (await loadTf('cpu')).tf; });
  const spec: MlpSpec = { inputDim: 2, hidden: [4], outputDim: 2, activation: 'relu', dropout: 0 } as MlpSpec;
  const data = (y: number[]) => ({ X: Float32Array.from(y.flatMap((_, i) => [i, -i])), n: y.length, d: 2, y: Float64Array.from(y) });
  const config = { max_epochs: 1, batch_size: 4, lr: 1e-3, weight_decay: 0, grad_clip: 0, patience: 0, min_delta: 0, eta_min_ratio: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

  it.each([[2.5, 'fractional'], [2, 'out of range'], [-1, 'negative'], [Number.NaN, 'NaN']])('a label %s (%s) is an error naming its row', async (bad) => {
    const m = Mlp.create(tf, spec, new Rng(1));
    try {
      await expect(trainMlpNative(tf, m, data([0, 1, bad, 0, 1]), data([0, 1]), { task: 'classification', numClasses: 2, config, rng: new Rng(2) }))
        .rejects.toThrow(`training data row 2: label ${bad} is not a class index 0…1`);
    } finally {
      m.dispose();
    }
  });

  it('the fast-math kernels: NaN in, NaN out; finite and infinite inputs give the IEEE answers', () => {
    const lib = koffi.load(LIBRARY_PATH);
    const x = Float32Array.from([Number.NaN, 1, -100, 100, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 0.5, Number.NaN]);
    const run = (sig: string, ...extra: number[]) => {
      const out = new Float32Array(x.length);
      lib.func(sig)(out, x, x.length, ...extra);
      return [...out];
    };
    const sigmoid = run('void pbm_sigmoid(float *out, const float *x, long n)');
    expect(Number.isNaN(sigmoid[0]!) && Number.isNaN(sigmoid[7]!)).toBe(true);
    expect(sigmoid[1]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
    expect(sigmoid[2]).toBeGreaterThanOrEqual(0);
    expect(sigmoid[2]).toBeLessThan(1e-30); // exp(100) overflows: the fast reciprocal must not turn that into NaN
    expect(sigmoid[3]).toBe(1);
    expect(sigmoid[4]).toBeLessThan(1e-30);
    expect(sigmoid[5]).toBe(1);
    for (const [sig, f] of [
      ['void pbm_tanh(float *out, const float *x, long n)', Math.tanh],
      ['void pbm_softplus(float *out, const float *x, long n)', (v: number) => Math.log1p(Math.exp(v))],
    ] as const) {
      const y = run(sig);
      expect(Number.isNaN(y[0]!) && Number.isNaN(y[7]!), sig).toBe(true);
      for (const i of [1, 6]) expect(y[i], sig).toBeCloseTo(f(x[i]!), 5);
    }
    for (const [sig, f] of [
      ['void pbm_sin(float *out, const float *x, long n, float w)', Math.sin],
      ['void pbm_erf(float *out, const float *x, long n, float s)', null],
      ['void pbm_exp(float *out, const float *x, long n, float s)', Math.exp],
    ] as const) {
      const y = run(sig, 1);
      expect(Number.isNaN(y[0]!) && Number.isNaN(y[7]!), sig).toBe(true);
      if (f) expect(y[6], sig).toBeCloseTo(f(0.5), 5);
    }
  });
});
