/** The host Optimizer on TF.js variables (kit/tf-params.ts) agrees with optim.ts's on-device AdamW. */
import { describe, it, expect, beforeAll } from 'vitest';
import { loadTf } from '../../src/lib/ml/backend.js';
import { AdamW, type Tf } from '../../src/lib/ml/optim.js';
import { Optimizer } from '../../src/lib/ml/kit/optimizers.js';
import { TfParams } from '../../src/lib/ml/kit/tf-params.js';

describe('TfParams bridge', () => {
  let tf: Tf;
  beforeAll(async () => { tf = (await loadTf('wasm')).tf; });

  it('three AdamW steps on the host match the TF.js AdamW (float32)', () => {
    const init = [[0.5, -1.5, 2], [0.25, 0, -0.75]];
    const a = tf.variable(tf.tensor2d(init)), b = tf.variable(tf.tensor2d(init));
    const dev = new AdamW(tf, [a], { weightDecay: 0.01 });
    const tp = new TfParams(tf, [b]);
    const host = new Optimizer([{ rule: 'adamw', params: tp.params, weightDecay: 0.01 }]);
    const gs = [[[0.1, -0.2, 0.3], [0.05, 0.5, -0.4]], [[-0.3, 0.1, 0.2], [0.2, -0.1, 0.0]], [[0.7, 0.7, -0.7], [0.1, 0.2, 0.3]]];
    for (const g of gs) {
      const gt = tf.tensor2d(g);
      dev.apply([gt], 0.05);
      tp.setGrads([gt]);
      host.step(0.05);
      tp.push();
      gt.dispose();
    }
    const x = a.dataSync(), y = b.dataSync();
    expect(Array.from(y)).not.toEqual(init.flat());
    for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!)).toBeLessThan(1e-6);
    expect(b.shape).toEqual([2, 3]);
    tf.dispose([a, b]);
    dev.dispose();
  });
});
