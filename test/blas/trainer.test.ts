/**
 * The native training step (`trainMlpNative`) reproduces `trainMlp` (TF.js) given the same seed:
 * identical dropout masks, learning curves within float32 tolerance, same best epoch and saved
 * model — on real MAGIC rows for ReLU and ActMix (with dropout, clipping, weight decay, the
 * temperature anneal and the entropy term), plus the other activations and regression.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { loadTf } from '../../src/lib/ml/backend.js';
import { blasStatus, blasNative } from '../../src/lib/ml/blas/native.js';
import { trainMlpNative, aleaState, NativeMlp } from '../../src/lib/ml/blas/trainer.js';
import { Mlp, ACTMIX_PRESETS, paramValues, type MlpSpec, type Activation } from '../../src/lib/ml/mlp.js';
import { trainMlp, type Dataset, type TrainConfig, type TrainResult } from '../../src/lib/ml/trainer.js';
import type { Tf } from '../../src/lib/ml/optim.js';
import { Rng } from '../../src/sdk/rng.js';
import { magic } from '../ml/helpers.js';

const status = blasStatus();
if (!status.available) console.warn(`test/blas/trainer: SKIPPED, the native blas library is unavailable: ${status.reason}`);

const rows = magic(500, 7);
const ds = (a: number, b: number, regression = false): Dataset => ({
  X: Float32Array.from(rows.X.slice(a, b).flat()), n: b - a, d: 10,
  // regression target: a smooth function of the features (the class would be a poor target)
  y: Float64Array.from(rows.X.slice(a, b), (r, i) => (regression ? 50 + 10 * r[0]! - 5 * r[1]! * r[2]! : rows.y[a + i]!)),
});
const train = ds(0, 400), val = ds(400, 500);

const CONFIG: TrainConfig = {
  max_epochs: 10, batch_size: 64, lr: 3e-3, weight_decay: 1e-4, grad_clip: 0.5, patience: 4, min_delta: 0,
  eta_min_ratio: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8,
};

describe.skipIf(!status.available)('native trainer vs TF.js trainMlp', () => {
  let tf: Tf;
  beforeAll(async () => { tf = (await loadTf('cpu')).tf; });

  async function both(spec: MlpSpec, task: 'classification' | 'regression', config: TrainConfig, data = { train, val }, targetScale?: { mean: number; std: number }) {
    const out: { res: TrainResult; model: ReturnType<Mlp['toJSON']> }[] = [];
    for (const fn of [trainMlp, trainMlpNative]) {
      const m = Mlp.create(tf, spec, new Rng(5));
      const res = await fn(tf, m, data.train, data.val, { task, numClasses: 2, config, rng: new Rng(9), targetScale });
      out.push({ res, model: m.toJSON() });
      m.dispose();
    }
    return { ref: out[0]!, nat: out[1]! };
  }

  function expectCurvesAgree(ref: TrainResult, nat: TrainResult, tol: number, label: string) {
    expect(nat.curves.length, label).toBe(ref.curves.length);
    expect(nat.bestEpoch, label).toBe(ref.bestEpoch);
    expect(nat.stoppedEarly, label).toBe(ref.stoppedEarly);
    expect(nat.bestTemperature, label).toBeCloseTo(ref.bestTemperature, 12);
    let worst = 0;
    ref.curves.forEach((r, e) => {
      const n = nat.curves[e]!;
      expect(n.lr).toBe(r.lr);
      expect(n.temperature).toBe(r.temperature);
      expect(n.entropy_weight).toBe(r.entropy_weight);
      for (const k of ['train_loss', 'train_total_loss', 'val_loss'] as const) worst = Math.max(worst, Math.abs(n[k] - r[k]) / Math.max(1, Math.abs(r[k])));
      if (Number.isFinite(r.mean_entropy)) worst = Math.max(worst, Math.abs(n.mean_entropy - r.mean_entropy));
      else expect(n.mean_entropy).toBeNaN();
      for (const k of Object.keys(r.val)) {
        if (k === 'accuracy' || k === 'roc_auc') expect(Math.abs(n.val[k]! - r.val[k]!), `${label} ${k} @${e}`).toBeLessThanOrEqual(0.011);
      }
    });
    expect(worst, `${label}: worst relative curve difference`).toBeLessThan(tol);
    return worst;
  }

  function expectModelsAgree(a: ReturnType<Mlp['toJSON']>, b: ReturnType<Mlp['toJSON']>, tol: number) {
    expect(b.format).toBe('pipe-mlp/1');
    expect(b.temperature).toBe(a.temperature);
    expect(Object.keys(b.params)).toEqual(Object.keys(a.params));
    for (const k of Object.keys(a.params)) {
      expect(b.params[k]!.shape).toEqual(a.params[k]!.shape);
      const x = paramValues(a.params[k]!), y = paramValues(b.params[k]!);
      let d = 0;
      for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
      expect(d, k).toBeLessThan(tol);
    }
  }

  it('dropout masks are the ones tf.dropout draws for the same seed', () => {
    const api = blasNative();
    for (const [seed, rate] of [[12345, 0.1], [2 ** 31 - 2, 0.5], [0, 0.3]] as const) {
      const n = 1000;
      const ref = tf.tidy(() => tf.dropout(tf.ones([n]), rate, undefined, seed).dataSync() as Float32Array);
      const mask = new Float32Array(n);
      api.dropoutMask(mask, n, aleaState(seed), Math.fround(1 - rate));
      expect(Array.from(mask)).toEqual(Array.from(ref));
    }
  });

  it('ReLU with dropout: same learning curve, best epoch and weights', async () => {
    const spec: MlpSpec = { inputDim: 10, outputDim: 2, hidden: [32, 32], dropout: 0.1, activation: 'relu' };
    const { ref, nat } = await both(spec, 'classification', CONFIG);
    const w = expectCurvesAgree(ref.res, nat.res, 1e-4, 'relu');
    expectModelsAgree(ref.model, nat.model, 1e-4);
    console.log(`relu: ${ref.res.curves.length} epochs, worst relative curve difference ${w.toExponential(2)}`);
  });

  it('ActMix (annealed T, entropy term, dropout): same learning curve and α', async () => {
    const spec: MlpSpec = { inputDim: 10, outputDim: 2, hidden: [32, 32], dropout: 0.1, activation: 'actmix', actmix: { ...ACTMIX_PRESETS['actmix-paper'], t_final: 0.05, anneal_epochs: 8, warmup_epochs: 3, lambda_max: 0.05 } };
    const { ref, nat } = await both(spec, 'classification', CONFIG);
    const w = expectCurvesAgree(ref.res, nat.res, 1e-4, 'actmix');
    expectModelsAgree(ref.model, nat.model, 1e-4);
    expect(ref.res.curves.at(-1)!.mean_entropy).toBeLessThan(ref.res.curves[0]!.mean_entropy); // the term does something
    console.log(`actmix: ${ref.res.curves.length} epochs, worst relative curve difference ${w.toExponential(2)}`);
  });

  it('other activations and the ActMix sigmoid/silu bases agree', async () => {
    const cfg = { ...CONFIG, max_epochs: 3, patience: 0 };
    for (const activation of ['gelu', 'prelu', 'tanh', 'sigmoid', 'leaky_relu', 'softplus', 'sine', 'identity'] as Activation[]) {
      const spec: MlpSpec = { inputDim: 10, outputDim: 2, hidden: [16], dropout: 0.2, activation, omega0: 2, leakySlope: 0.05 };
      const { ref, nat } = await both(spec, 'classification', cfg);
      expectCurvesAgree(ref.res, nat.res, 2e-4, activation);
      expectModelsAgree(ref.model, nat.model, 2e-4);
    }
    const spec: MlpSpec = { inputDim: 10, outputDim: 2, hidden: [16, 8], dropout: 0, activation: 'actmix', actmix: { ...ACTMIX_PRESETS['actmix-paper'], bases: ['sigmoid', 'silu', 'sin'], omega_0: 3, t0: 0.5, lambda_max: 0.1, warmup_epochs: 1 } };
    const { ref, nat } = await both(spec, 'classification', cfg);
    expectCurvesAgree(ref.res, nat.res, 2e-4, 'actmix sigmoid/silu/sin');
  });

  it('regression (MSE on a standardized target) agrees', async () => {
    const rtrain = ds(0, 400, true), rval = ds(400, 500, true);
    const spec: MlpSpec = { inputDim: 10, outputDim: 1, hidden: [24], dropout: 0.1, activation: 'relu' };
    const { ref, nat } = await both(spec, 'regression', { ...CONFIG, max_epochs: 5 }, { train: rtrain, val: rval }, { mean: 50, std: 10 });
    expectCurvesAgree(ref.res, nat.res, 1e-4, 'regression');
    expect(nat.res.curves[0]!.val.rmse).toBeGreaterThan(0);
  });

  it('native prediction equals the restored TF.js model and frees cleanly', () => {
    const api = blasNative();
    const spec: MlpSpec = { inputDim: 10, outputDim: 2, hidden: [8], dropout: 0, activation: 'actmix', actmix: ACTMIX_PRESETS['actmix-paper'] };
    const m = Mlp.create(tf, spec, new Rng(1));
    const net = new NativeMlp(api, spec, 'classification', 64);
    net.loadFrom(m);
    const a = net.predict(val.X, val.n, 0.5);
    m.temperature = 0.5;
    const X = tf.tensor2d(val.X, [val.n, 10]) as TF.Tensor2D;
    const b = m.predict(X);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5);
    X.dispose(); m.dispose(); net.free();
  });
});
