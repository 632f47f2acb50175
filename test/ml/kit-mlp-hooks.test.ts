/**
 * A hook acting on a real MLP run (the TF.js step under the kit's loop): lr changed after epoch 1
 * applies from epoch 2 on, is in the curves and the events, and leaves epochs 0–1 bit-identical
 * to a run without the hook.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { loadTf } from '../../src/lib/ml/backend.js';
import { Mlp, type MlpSpec } from '../../src/lib/ml/mlp.js';
import { trainMlp, type Dataset, type TrainConfig, type TrainResult } from '../../src/lib/ml/trainer.js';
import { cosineLr } from '../../src/lib/ml/schedules.js';
import type { Hook } from '../../src/lib/ml/kit/loop.js';
import type { Tf } from '../../src/lib/ml/optim.js';
import { Rng } from '../../src/sdk/rng.js';
import { magic } from './helpers.js';

const rows = magic(300, 2);
const ds = (a: number, b: number): Dataset => ({ X: Float32Array.from(rows.X.slice(a, b).flat()), n: b - a, d: 10, y: Float64Array.from(rows.y.slice(a, b)) });
const CONFIG: TrainConfig = { max_epochs: 5, batch_size: 50, lr: 3e-3, weight_decay: 1e-4, grad_clip: 0.5, patience: 0, min_delta: 0, eta_min_ratio: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
const spec: MlpSpec = { inputDim: 10, outputDim: 2, hidden: [16], dropout: 0.1, activation: 'relu' };

describe('hooks on the MLP trainer', () => {
  let tf: Tf;
  beforeAll(async () => { tf = (await loadTf('wasm')).tf; });

  async function run(hooks?: Hook[]): Promise<TrainResult> {
    const m = Mlp.create(tf, spec, new Rng(5));
    try {
      return await trainMlp(tf, m, ds(0, 240), ds(240, 300), { task: 'classification', numClasses: 2, config: CONFIG, rng: new Rng(9), hooks });
    } finally { m.dispose(); }
  }

  it('lr set after epoch 1 takes effect from epoch 2 and is recorded', async () => {
    const plain = await run();
    const hooked = await run([{ at: 'epochEnd', run: (h) => { if (h.epoch === 1) h.set('lr', 0.05); } }]);
    const cos = (e: number) => cosineLr(e, 3e-3, 3e-5, 5);
    expect(plain.curves.map((c) => c.lr)).toEqual([0, 1, 2, 3, 4].map(cos));
    expect(hooked.curves.map((c) => c.lr)).toEqual([cos(0), cos(1), 0.05, 0.05, 0.05]);
    expect(hooked.events).toEqual([{ epoch: 1, step: 10, at: 'epochEnd', name: 'lr', from: cos(1), to: 0.05 }]);
    expect(hooked.curves.slice(0, 2)).toEqual(plain.curves.slice(0, 2));
    expect(hooked.curves[2]!.train_loss).not.toBe(plain.curves[2]!.train_loss);
  });
});
