/**
 * The kit's loop (src/lib/ml/kit/loop.ts) on a toy model whose every step can be written out:
 * one scalar w, row targets t_r, loss mean_r (w − t_r)², gradient mean_r 2(w − t_r), the kit's
 * host optimizer; validation loss (w − 1)².
 */
import { describe, it, expect } from 'vitest';
import { fit, flatten, type Batch, type Settings, type TrainStep } from '../../src/lib/ml/kit/loop.js';
import { patience, lossReduction } from '../../src/lib/ml/kit/stopping.js';
import { Optimizer, param, type OptimizerState, type Rule } from '../../src/lib/ml/kit/optimizers.js';
import { snapshotTable, curvesTable } from '../../src/lib/ml/kit/snapshots.js';
import { Rng } from '../../src/sdk/rng.js';

type Ckpt = { w: number; opt: OptimizerState };

class Toy implements TrainStep<Ckpt> {
  readonly w = param('w', Float64Array.of(0));
  readonly opt: Optimizer;
  readonly batches: { epoch: number; rows: number[]; lr: number }[] = [];
  released = 0;
  constructor(readonly targets: number[], w0: number, rule: Rule = { rule: 'sgd' }, readonly valTarget = 1) {
    this.w.value[0] = w0;
    this.opt = new Optimizer([{ ...rule, params: [this.w] }]);
  }
  get value() { return this.w.value[0]!; }
  rowsOf(b: Batch): number[] {
    return Array.from(b.perm!.subarray(b.start, b.start + b.size));
  }
  step(b: Batch, s: Settings) {
    const rows = this.rowsOf(b);
    this.batches.push({ epoch: b.epoch, rows, lr: s.lr! });
    const w = this.value;
    let g = 0, l = 0;
    for (const r of rows) { g += 2 * (w - this.targets[r]!); l += (w - this.targets[r]!) ** 2; }
    this.w.grad[0] = g / rows.length;
    this.opt.step(s.lr);
    return { loss: l / rows.length };
  }
  evaluate() { return { val_loss: (this.value - this.valTarget) ** 2, w: this.value }; }
  checkpoint(): Ckpt { return { w: this.value, opt: this.opt.state() }; }
  restore(c: Ckpt) { this.w.value[0] = c.w; this.opt.setState(c.opt); }
  release() { this.released++; }
  snapshot() { return { w: Float64Array.of(this.value), w2: Float64Array.of(this.value, 2 * this.value) }; }
}

describe('fit: best checkpoint', () => {
  it('restores exactly the parameters (and optimizer state) of the best epoch', async () => {
    // targets spread over [0, 4): w walks from −3 towards their mean 2 and passes the val optimum 1
    const targets = Array.from({ length: 20 }, (_, r) => (4 * r) / 20);
    const toy = new Toy(targets, -3, { rule: 'adam' });
    const res = await fit(toy, {
      data: { mode: 'minibatch', rows: 20, batchSize: 6 }, maxEpochs: 60, rng: new Rng(3),
      schedules: { lr: 0.05 }, best: { monitor: 'val_loss' }, stop: patience({ monitor: 'val_loss', patience: 5 }),
    });
    const vals = res.curves.map((c) => c.eval.val_loss!);
    const best = vals.indexOf(Math.min(...vals));
    expect(best).toBeGreaterThan(0);
    expect(best).toBeLessThan(res.curves.length - 1);
    expect(res.bestEpoch).toBe(best);
    expect(res.bestValue).toBe(vals[best]);
    expect(res.stoppedEarly).toBe(true);
    expect(res.epochsRun).toBe(best + 1 + 5);
    const last = res.curves.at(-1)!.eval.w!;
    expect(last).not.toBe(res.curves[best]!.eval.w);
    expect(toy.value).toBe(res.curves[best]!.eval.w); // exact, not close
    // the optimizer state came back too: t is the step count after the best epoch (4 batches per epoch)
    expect(toy.opt.t).toBe(res.curves[best]!.step);
    expect(res.curves[best]!.step).toBe((best + 1) * 4);
  });

  it('batches: a fresh shuffle per epoch, sizes 6,6,6,2, batch-size-weighted train loss', async () => {
    const targets = Array.from({ length: 20 }, (_, r) => r);
    const toy = new Toy(targets, 0);
    const res = await fit(toy, { data: { mode: 'minibatch', rows: 20, batchSize: 6 }, maxEpochs: 2, rng: new Rng(1), schedules: { lr: 0 } });
    expect(toy.batches.map((b) => b.rows.length)).toEqual([6, 6, 6, 2, 6, 6, 6, 2]);
    const e0 = toy.batches.filter((b) => b.epoch === 0).flatMap((b) => b.rows);
    const e1 = toy.batches.filter((b) => b.epoch === 1).flatMap((b) => b.rows);
    expect([...e0].sort((a, b) => a - b)).toEqual(targets);
    expect(e0).not.toEqual(e1);
    // lr 0: w stays 0, batch loss = mean r² over the batch; epoch mean weighted by size = mean r² over all rows
    const meanSq = targets.reduce((a, r) => a + r * r, 0) / 20;
    expect(res.curves[0]!.train.loss).toBeCloseTo(meanSq, 10);
    // the same seed gives the same order
    const again = new Toy(targets, 0);
    await fit(again, { data: { mode: 'minibatch', rows: 20, batchSize: 6 }, maxEpochs: 2, rng: new Rng(1), schedules: { lr: 0 } });
    expect(again.batches.map((b) => b.rows)).toEqual(toy.batches.map((b) => b.rows));
  });

  it('initial evaluation: the initial state wins when training only makes val worse', async () => {
    const toy = new Toy([5], 1); // val optimum is the start
    const res = await fit(toy, { data: { mode: 'full', rows: 1 }, maxEpochs: 4, schedules: { lr: 0.1 }, best: { monitor: 'val_loss' }, initialEval: true });
    expect(res.initial).toEqual({ val_loss: 0, w: 1 });
    expect(res.bestEpoch).toBe(-1);
    expect(toy.value).toBe(1);
    expect(res.curves.at(-1)!.eval.w).not.toBe(1);
  });
});

describe('fit: schedules and hooks', () => {
  it('a hook that sets lr after epoch 2 changes epochs 3… only, and the curves record it', async () => {
    const toy = new Toy([2], 0);
    const res = await fit(toy, {
      data: { mode: 'full', rows: 1 }, maxEpochs: 6, schedules: { lr: 0.1 },
      hooks: [{ at: 'epochEnd', run: (h) => { if (h.epoch === 2) h.set('lr', 0.5); } }],
    });
    expect(res.curves.map((c) => c.settings.lr)).toEqual([0.1, 0.1, 0.1, 0.5, 0.5, 0.5]);
    expect(toy.batches.map((b) => b.lr)).toEqual([0.1, 0.1, 0.1, 0.5, 0.5, 0.5]);
    expect(res.events).toEqual([{ epoch: 2, step: 3, at: 'epochEnd', name: 'lr', from: 0.1, to: 0.5 }]);
    // the update rule with the logged w: w_{e+1} = w_e − lr_e·2(w_e − 2), lr_3 = 0.5
    const w = res.curves.map((c) => c.eval.w!);
    expect(w[0]).toBe(0 - 0.1 * (2 * (0 - 2)));
    expect(w[2]).toBe(w[1]! - 0.1 * (2 * (w[1]! - 2)));
    expect(w[3]).toBe(w[2]! - 0.5 * (2 * (w[2]! - 2)));
    // the flat curve rows carry the setting
    expect(curvesTable(res.curves.map(flatten)).getChild('lr')!.toArray()).toEqual(Float64Array.from([0.1, 0.1, 0.1, 0.5, 0.5, 0.5]));
  });

  it('schedules of any named quantity; a replaced schedule applies from the next epoch', async () => {
    const toy = new Toy([2], 0);
    const res = await fit(toy, {
      data: { mode: 'full', rows: 1 }, maxEpochs: 5,
      schedules: { lr: (e) => 0.1 / (e + 1), alpha: (e) => e * 0.01 },
      hooks: [{ at: 'epochEnd', every: 2, run: (h) => { if (h.epoch === 1) h.schedule('alpha', (e) => -e); } }],
    });
    expect(res.curves.map((c) => c.settings.lr)).toEqual([0.1, 0.05, 0.1 / 3, 0.025, 0.02]);
    expect(res.curves.map((c) => c.settings.alpha)).toEqual([0, 0.01, -2, -3, -4]);
    expect(res.events).toEqual([{ epoch: 1, step: 2, at: 'epochEnd', name: 'alpha', from: 0.01, to: -2 }]);
  });

  it('steps hook: a change takes effect from the next step; the epoch record keeps the value it started with', async () => {
    const toy = new Toy([1, 1, 1, 1], 0);
    const res = await fit(toy, {
      data: { mode: 'minibatch', rows: 4, batchSize: 1 }, maxEpochs: 2, rng: new Rng(0), schedules: { lr: 0.25 },
      hooks: [{ at: 'steps', every: 2, run: (h) => { if (h.step === 2) h.set('lr', 0); } }],
    });
    expect(toy.batches.map((b) => b.lr)).toEqual([0.25, 0.25, 0, 0, 0, 0, 0, 0]);
    expect(res.curves.map((c) => c.settings.lr)).toEqual([0.25, 0]);
    // two SGD steps towards 1: w = 0 → 0.5 → 0.75, then frozen
    expect(res.curves[0]!.eval.w).toBe(0.75);
    expect(res.curves[1]!.eval.w).toBe(0.75);
    expect(res.events).toEqual([{ epoch: 0, step: 2, at: 'steps', name: 'lr', from: 0.25, to: 0 }]);
  });

  it('§E.5-style tuner: before each epoch snapshot model + optimizer, try candidates, restore, set the winner', async () => {
    const toy = new Toy([2], 0, { rule: 'sgd_ema', momentum: 0.9 });
    const tried: number[] = [];
    const res = await fit(toy, {
      data: { mode: 'full', rows: 1 }, maxEpochs: 3, schedules: { lr: 0.05 },
      hooks: [{
        at: 'epochStart',
        run: (h) => {
          let best = { lr: h.settings.lr!, loss: Infinity };
          for (const lr of [0.05, 0.4]) {
            const c = h.model.checkpoint();
            const before = toy.value;
            h.model.step({ epoch: h.epoch, index: 0, step: h.step, perm: Int32Array.of(0), start: 0, size: 1, rng: null }, { lr });
            const loss = (toy.value - 2) ** 2; // the tuner's own criterion: training loss after the trial step
            tried.push(lr);
            h.model.restore(c);
            expect(toy.value).toBe(before);
            if (loss < best.loss) best = { lr, loss };
          }
          h.set('lr', best.lr);
        },
      }],
    });
    expect(tried).toEqual([0.05, 0.4, 0.05, 0.4, 0.05, 0.4]);
    expect(res.curves.map((c) => c.settings.lr)).toEqual([0.4, 0.4, 0.4]);
    // the trials were undone: the run equals three plain EMA steps with lr 0.4
    let w = 0, v = 0;
    for (let e = 0; e < 3; e++) { v = 0.9 * v + (1 - 0.9) * (2 * (w - 2)); w = w - 0.4 * v; }
    expect(toy.value).toBe(w);
    expect(toy.opt.t).toBe(3); // every trial step was undone, t included
  });
});

describe('fit: data plans, stopping, snapshots, failure', () => {
  it('online: fresh batches from one stream, no permutation', async () => {
    const draws: number[] = [];
    const step: TrainStep<null> = {
      step(b) { expect(b.perm).toBeNull(); draws.push(b.rng!.random()); return { loss: 1 }; },
      evaluate: () => ({ loss: 1 }), checkpoint: () => null, restore() {},
    };
    const res = await fit(step, { data: { mode: 'online', batchSize: 32, stepsPerEpoch: 3 }, maxEpochs: 2, rng: new Rng(7) });
    expect(res.steps).toBe(6);
    const ref = new Rng(7).fork('fresh');
    expect(draws).toEqual(Array.from({ length: 6 }, () => ref.random()));
  });

  it('loss reduction relative to the step-0 evaluation stops the run', async () => {
    const toy = new Toy([3], 0, { rule: 'sgd' }, 3);
    const res = await fit(toy, {
      data: { mode: 'full', rows: 1 }, maxEpochs: 50, schedules: { lr: 0.1 }, initialEval: true,
      stop: lossReduction({ monitor: 'val_loss', threshold: 0.99 }),
    });
    // val_loss_e = 9·0.8^(2(e+1)); 1 − 0.64^(e+1) ≥ 0.99 first at e + 1 = 11
    expect(res.initial!.val_loss).toBe(9);
    expect(res.epochsRun).toBe(11);
    expect(res.stopReason).toMatch(/val_loss reduced/);
    expect(1 - res.curves.at(-1)!.eval.val_loss! / 9).toBeGreaterThanOrEqual(0.99);
    expect(1 - res.curves.at(-2)!.eval.val_loss! / 9).toBeLessThan(0.99);
  });

  it('snapshots at the start, every N epochs and at the end, as one table', async () => {
    const toy = new Toy([2], 0);
    const res = await fit(toy, { data: { mode: 'full', rows: 1 }, maxEpochs: 5, schedules: { lr: 0.1 }, snapshots: { every: 2 } });
    expect(res.snapshots.map((s) => [s.epoch, s.step])).toEqual([[-1, 0], [1, 2], [3, 4], [4, 5]]);
    expect(res.snapshots[2]!.values.w[0]).toBe(res.curves[3]!.eval.w);
    const t = snapshotTable(res.snapshots, { w2: [2] });
    expect(t.numRows).toBe(4);
    expect(Array.from(t.getChild('epoch')!.toArray() as Int32Array)).toEqual([-1, 1, 3, 4]);
    const row = t.getChild('w2')!.get(3)!.toArray() as Float32Array;
    expect(Array.from(row)).toEqual([Math.fround(toy.value), Math.fround(2 * toy.value)]);
    expect(JSON.parse(t.schema.metadata.get('pipe')!).snapshot_shapes).toEqual({ w: [1], w2: [2] });
  });

  it('a non-finite monitored loss fails the run; the abort signal is honoured', async () => {
    const bad: TrainStep<null> = { step: () => ({ loss: NaN }), evaluate: () => ({ v: 0 }), checkpoint: () => null, restore() {} };
    await expect(fit(bad, { data: { mode: 'full', rows: 3 }, maxEpochs: 2, finite: ['train_loss'] })).rejects.toThrow(/training diverged at epoch 0 \(train loss NaN\)/);
    const ac = new AbortController();
    ac.abort(new Error('stop requested'));
    await expect(fit(new Toy([1], 0), { data: { mode: 'full', rows: 1 }, maxEpochs: 2, schedules: { lr: 1 }, signal: ac.signal })).rejects.toThrow(/stop requested/);
    await expect(fit(new Toy([1], 0), { data: { mode: 'minibatch', rows: 1, batchSize: 1 }, maxEpochs: 1 })).rejects.toThrow(/need an rng/);
  });

  it('progress once per epoch with the described message', async () => {
    const seen: { done: number; total: number; unit?: string; message?: string }[] = [];
    await fit(new Toy([2], 0), {
      data: { mode: 'full', rows: 1 }, maxEpochs: 3, schedules: { lr: 0.1 },
      progress: (p) => seen.push(p), describe: (r) => `e${r.epoch} w=${r.eval.w!.toFixed(2)}`,
    });
    expect(seen).toEqual([{ done: 1, total: 3, unit: 'epoch', message: 'e0 w=0.40' }, { done: 2, total: 3, unit: 'epoch', message: 'e1 w=0.72' }, { done: 3, total: 3, unit: 'epoch', message: 'e2 w=0.98' }]);
  });
});

describe('curves and snapshot tables', () => {
  it('write every NaN as the canonical one, so a run resumed from a checkpoint writes the bytes of the uninterrupted run', () => {
    // a NaN with another bit pattern, as arithmetic can leave one (0x7ffc…; a checkpoint's round trip gives 0x7ff8…)
    const odd = new Float64Array(new BigUint64Array([0x7ffc000000000000n]).buffer)[0]!;
    expect(new BigUint64Array(Float64Array.of(odd).buffer)[0]).toBe(0x7ffc000000000000n); // stored as is without canonicalizing
    const curves = curvesTable([{ epoch: 0, loss: odd }, { epoch: 1, loss: NaN }, { epoch: 2, loss: 0.5 }]);
    const bits = new BigUint64Array(Float64Array.from(curves.getChild('loss')!.toArray() as Float64Array).buffer);
    expect([...bits]).toEqual([0x7ff8000000000000n, 0x7ff8000000000000n, new BigUint64Array(Float64Array.of(0.5).buffer)[0]!]);
    const snaps = snapshotTable([{ epoch: 0, step: 0, values: { w: [odd, 1] } }, { epoch: 1, step: 1, values: { w: [NaN, 2] } }]);
    const w = snaps.getChild('w')!;
    const f32 = Float32Array.from([...w.get(0)!.toArray(), ...w.get(1)!.toArray()] as number[]);
    expect([...new Uint32Array(f32.buffer)].map((u) => u.toString(16))).toEqual(['7fc00000', '3f800000', '7fc00000', '40000000']);
  });
});
