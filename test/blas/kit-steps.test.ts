/**
 * The two implementations of the MLP step (TF.js, native blas) under the one loop: a hook that
 * changes lr and temperature mid-run acts on both alike (same settings per epoch, same curves
 * within float32 tolerance), and both restore the best epoch.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { loadTf } from '../../src/lib/ml/backend.js';
import { blasStatus } from '../../src/lib/ml/blas/native.js';
import { trainMlpNative } from '../../src/lib/ml/blas/trainer.js';
import { Mlp, ACTMIX_PRESETS, type MlpSpec } from '../../src/lib/ml/mlp.js';
import { trainMlp, evaluate, type Dataset, type TrainConfig } from '../../src/lib/ml/trainer.js';
import type { Hook } from '../../src/lib/ml/kit/loop.js';
import type { Tf } from '../../src/lib/ml/optim.js';
import { Rng } from '../../src/sdk/rng.js';
import { magic } from '../ml/helpers.js';

const status = blasStatus();
// PIPE_REQUIRE_BLAS=1: run (and so fail) even when the native library does not load, instead of skipping
const required = process.env.PIPE_REQUIRE_BLAS === '1';
if (!status.available && !required) console.warn(`test/blas/kit-steps: SKIPPED, the native blas library is unavailable: ${status.reason}`);

const rows = magic(400, 4);
const ds = (a: number, b: number): Dataset => ({ X: Float32Array.from(rows.X.slice(a, b).flat()), n: b - a, d: 10, y: Float64Array.from(rows.y.slice(a, b)) });
const CONFIG: TrainConfig = { max_epochs: 6, batch_size: 64, lr: 3e-3, weight_decay: 1e-4, grad_clip: 0.5, patience: 0, min_delta: 0, eta_min_ratio: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

describe.skipIf(!status.available && !required)('TF.js and native MLP steps under one loop', () => {
  let tf: Tf;
  beforeAll(async () => { tf = (await loadTf('cpu')).tf; });

  it('a hook changing lr and temperature acts on both steps alike; both restore the best epoch', async () => {
    const spec: MlpSpec = { inputDim: 10, outputDim: 2, hidden: [16, 16], dropout: 0.1, activation: 'actmix', actmix: { ...ACTMIX_PRESETS['actmix-paper'], lambda_max: 0.02, warmup_epochs: 2 } };
    const hooks: Hook[] = [{ at: 'epochEnd', run: (h) => { if (h.epoch === 2) { h.set('lr', 0.02); h.set('temperature', 0.3); } } }];
    const train = ds(0, 320), val = ds(320, 400);
    const out = [];
    for (const fn of [trainMlp, trainMlpNative]) {
      const m = Mlp.create(tf, spec, new Rng(5));
      const res = await fn(tf, m, train, val, { task: 'classification', numClasses: 2, config: CONFIG, rng: new Rng(9), hooks });
      const ev = evaluate(tf, m, val, { task: 'classification', numClasses: 2 });
      out.push({ res, restoredValLoss: ev.loss, T: m.temperature });
      m.dispose();
    }
    const [ref, nat] = out as [typeof out[0], typeof out[0]];
    for (const { res } of out) {
      expect(res.curves.slice(3).map((c) => [c.lr, c.temperature])).toEqual([[0.02, 0.3], [0.02, 0.3], [0.02, 0.3]]);
      expect(res.curves[2]!.lr).toBeLessThan(3e-3);
      expect(res.events!.map((e) => e.name)).toEqual(['lr', 'temperature']);
    }
    ref.res.curves.forEach((r, e) => {
      const n = nat.res.curves[e]!;
      expect(n.lr).toBe(r.lr);
      expect(n.temperature).toBe(r.temperature);
      expect(Math.abs(n.train_loss - r.train_loss)).toBeLessThan(1e-4);
      expect(Math.abs(n.val_loss - r.val_loss)).toBeLessThan(1e-4);
    });
    expect(nat.res.bestEpoch).toBe(ref.res.bestEpoch);
    for (const o of out) {
      // the model holds the best epoch's weights and temperature
      expect(o.T).toBe(o.res.curves[o.res.bestEpoch]!.temperature);
      expect(o.restoredValLoss).toBeCloseTo(o.res.curves[o.res.bestEpoch]!.val_loss, 5);
    }
  });
});
