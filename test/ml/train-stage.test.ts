import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { runStageDirect } from '../../src/engine/exec/context.js';
import { readTable, featureMatrix } from '../../src/sdk/table.js';
import { loadTf } from '../../src/lib/ml/backend.js';
import { Mlp, type SavedModel } from '../../src/lib/ml/mlp.js';
import { evaluate } from '../../src/lib/ml/trainer.js';
import { temperatureAt, entropyWeightAt, cosineLr } from '../../src/lib/ml/schedules.js';
import { classificationMetrics } from '../../src/lib/ml/metrics.js';
import train, { resolveActMix } from '../../src/stages/train.js';
import { writeDataset, tmp, moons, magic, slice } from './helpers.js';

const dir = tmp('pipe-ml-train-');
let files: { train: string; val: string; test: string };

beforeAll(async () => {
  const all = moons(900, 1);
  files = {
    train: await writeDataset(dir, 'tr', slice(all, 0, 600), 'classification', ['a', 'b']),
    val: await writeDataset(dir, 'va', slice(all, 600, 750), 'classification', ['a', 'b']),
    test: await writeDataset(dir, 'te', slice(all, 750, 900), 'classification', ['a', 'b']),
  };
});

const actmixParams = (extra: Record<string, unknown> = {}) => ({
  backend: 'wasm',
  model: { activation: 'actmix', hidden: [16, 16], dropout: 0.1, actmix: { preset: 'actmix-paper', anneal_epochs: 6, warmup_epochs: 3 } },
  training: { max_epochs: 8, batch_size: 32, lr: 0.01, patience: 0 },
  ...extra,
});

describe('train stage', () => {
  it('trains ActMix, writes model/curves/predictions/metrics; schedules in the curves; best checkpoint restored', async () => {
    const { tf } = await loadTf('wasm');
    const before = tf.memory().numTensors;
    const r = await runStageDirect(train, { params: actmixParams(), inputs: files, seed: 5 });
    expect(tf.memory().numTensors).toBe(before); // nothing leaks
    expect(r.progress).toHaveLength(8);
    expect(r.progress[7]).toMatchObject({ done: 8, total: 8 });
    const curves = (await readTable(r.outputs.curves!)).toArray().map((x) => x.toJSON());
    expect(curves).toHaveLength(8);
    curves.forEach((c, e) => {
      expect(c.temperature).toBeCloseTo(temperatureAt(e, 1, 0.01, 6), 12);
      expect(c.entropy_weight).toBeCloseTo(entropyWeightAt(e, 0.01, 3), 12);
      expect(c.lr).toBeCloseTo(cosineLr(e, 0.01, 1e-4, 8), 12);
      expect(c.train_total_loss).toBeGreaterThanOrEqual(c.train_loss - 1e-6); // + λ·H̄ ≥ 0
    });
    expect(curves[0]!.mean_entropy).toBeLessThan(Math.log(4));
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    const bestEpoch = curves.reduce((b, c, i) => (c.val_loss < curves[b]!.val_loss ? i : b), 0);
    expect(m.best_epoch).toBe(bestEpoch);
    expect(m.temperature_at_best).toBeCloseTo(temperatureAt(bestEpoch, 1, 0.01, 6), 12);
    expect(m.test.accuracy).toBeGreaterThan(0.85); // chance 0.5
    // predictions agree with the metrics
    const pred = (await readTable(r.outputs.predictions!)).toArray().map((x) => x.toJSON());
    expect(pred).toHaveLength(150);
    const probs = pred.flatMap((p) => [p.prob_a, p.prob_b]);
    pred.forEach((p) => expect(p.prob_a + p.prob_b).toBeCloseTo(1, 9));
    expect(classificationMetrics(pred.map((p) => p.y_true), probs, 2).accuracy).toBeCloseTo(m.test.accuracy, 12);
    // the saved model is the best checkpoint: its val loss equals the curve at the best epoch
    const saved = JSON.parse(readFileSync(r.outputs.model!, 'utf8')) as SavedModel;
    expect(saved.temperature).toBeCloseTo(m.temperature_at_best, 6);
    const model = Mlp.load(tf, saved);
    const val = featureMatrix(await readTable(files.val));
    const ev = evaluate(tf, model, { X: val.X, n: val.n, d: val.d, y: val.y! }, { task: 'classification', numClasses: 2 });
    expect(ev.loss).toBeCloseTo(curves[bestEpoch]!.val_loss, 5);
    model.dispose();
  });

  it('is deterministic given the seed', async () => {
    const p = actmixParams({ training: { max_epochs: 3, batch_size: 64, lr: 0.01, patience: 0 } });
    const a = await runStageDirect(train, { params: p, inputs: files, seed: 9 });
    const b = await runStageDirect(train, { params: p, inputs: files, seed: 9 });
    const c = await runStageDirect(train, { params: p, inputs: files, seed: 10 });
    expect(readFileSync(a.outputs.curves!)).toEqual(readFileSync(b.outputs.curves!));
    expect(readFileSync(a.outputs.model!, 'utf8')).toBe(readFileSync(b.outputs.model!, 'utf8'));
    expect(readFileSync(a.outputs.predictions!)).toEqual(readFileSync(b.outputs.predictions!));
    expect(readFileSync(a.outputs.model!, 'utf8')).not.toBe(readFileSync(c.outputs.model!, 'utf8'));
  });

  it('early stopping stops after `patience` epochs without improvement', async () => {
    // lr so large the val loss cannot keep improving
    const r = await runStageDirect(train, {
      params: { backend: 'wasm', model: { activation: 'relu', hidden: [8] }, training: { max_epochs: 60, batch_size: 64, lr: 0.5, patience: 3, grad_clip: 0 } },
      inputs: files, seed: 1,
    });
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    expect(m.stopped_early).toBe(true);
    expect(m.epochs_run).toBe(m.best_epoch + 1 + 3);
    expect(m.temperature_at_best).toBeNull();
  });

  it('regression on the raw target and with standardize_target; val held out when not connected', async () => {
    const rows = moons(500, 3);
    const reg = { X: rows.X, y: rows.X.map((x) => 450 + 10 * x[0]! - 5 * x[1]! + 3 * Math.sin(3 * x[2]!)) };
    const tr = await writeDataset(dir, 'rtr', slice(reg, 0, 400), 'regression');
    const te = await writeDataset(dir, 'rte', slice(reg, 400, 500), 'regression');
    const params = (st: boolean) => ({ backend: 'wasm', standardize_target: st, model: { activation: 'gelu', hidden: [32, 32], dropout: 0 }, training: { max_epochs: 60, batch_size: 32, lr: 0.01, patience: 0, grad_clip: 0 } });
    // 60 epochs: with mixed seeding 30 left seeds 2–4 at RMSE 1.6–2.1 (the old unmixed seed 2 passed at 30)
    const rawRun = await runStageDirect(train, { params: params(false), inputs: { train: tr, test: te }, seed: 2 });
    const raw = JSON.parse(readFileSync(rawRun.outputs.metrics!, 'utf8'));
    // seed parity (raw target) is chosen explicitly and warned about; standardized is the default
    expect(rawRun.logs.filter((l) => l.startsWith('warn: standardize_target: false'))).toHaveLength(1);
    const { standardize_target: _st, ...dflt } = params(true);
    const stdRun = await runStageDirect(train, { params: dflt, inputs: { train: tr, test: te }, seed: 2 });
    expect(stdRun.logs.some((l) => l.includes('standardize_target: false'))).toBe(false);
    const std = JSON.parse(readFileSync(stdRun.outputs.metrics!, 'utf8'));
    expect(raw.n_val).toBe(40);
    expect(raw.n_train).toBe(360);
    // target SD ≈ 6.7; the standardized model fits well, metrics are in target units
    expect(std.test.rmse).toBeLessThan(1.5);
    expect(std.test.r2).toBeGreaterThan(0.95);
    expect(std.standardize_target).toBe(true);
    expect(raw.test.rmse).toBeGreaterThan(std.test.rmse);
  });

  it('MAGIC (real data, 3000 rows): ReLU MLP beats the majority class clearly after 4 epochs', async () => {
    const rows = magic(3000, 1192);
    const inputs = {
      train: await writeDataset(dir, 'mtr', slice(rows, 0, 2000), 'classification', ['g', 'h']),
      val: await writeDataset(dir, 'mva', slice(rows, 2000, 2500), 'classification', ['g', 'h']),
      test: await writeDataset(dir, 'mte', slice(rows, 2500, 3000), 'classification', ['g', 'h']),
    };
    const r = await runStageDirect(train, { params: { backend: 'wasm', model: { activation: 'relu' }, training: { max_epochs: 4 } }, inputs, seed: 1192 });
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    expect(m.test.accuracy).toBeGreaterThan(0.8); // majority 0.648
    expect(m.test.roc_auc).toBeGreaterThan(0.85);
    expect(m.backend).toBe('wasm');
  });

  it('rejects an unknown backend and an unavailable one with a clear error', async () => {
    await expect(runStageDirect(train, { params: { backend: 'gpu' }, inputs: files })).rejects.toThrow(/backend/);
    if (!(await import('../../src/lib/ml/backend.js')).packageVersion('@tensorflow/tfjs-node')) {
      await expect(runStageDirect(train, { params: { backend: 'tensorflow' }, inputs: files })).rejects.toThrow(/tfjs-node is not installed/);
    }
  });

  it('presets and overrides (§A.10): repo-head keeps T = 1 and λ = 0', async () => {
    expect(resolveActMix({ preset: 'actmix-paper' })).toMatchObject({ relu_bias: 1.5, t0: 1, t_final: 0.01, anneal_epochs: 150, lambda_max: 0.01, warmup_epochs: 50, omega_0: 1 });
    expect(resolveActMix({ preset: 'actmix-repo-head' })).toMatchObject({ relu_bias: 0, t_final: 1, lambda_max: 0 });
    expect(resolveActMix({ preset: 'actmix-repo-head', lambda_max: 0.5, bases: ['relu', 'sin'] })).toMatchObject({ relu_bias: 0, lambda_max: 0.5, bases: ['relu', 'sin'] });
    const r = await runStageDirect(train, { params: actmixParams({ model: { activation: 'actmix', hidden: [8], actmix: { preset: 'actmix-repo-head' } }, training: { max_epochs: 2, patience: 0 } }), inputs: files, seed: 1 });
    const curves = (await readTable(r.outputs.curves!)).toArray().map((x) => x.toJSON());
    expect(curves.map((c) => c.temperature)).toEqual([1, 1]);
    expect(curves.map((c) => c.entropy_weight)).toEqual([0, 0]);
    expect(curves[0]!.train_total_loss).toBeCloseTo(curves[0]!.train_loss, 6);
  });

  it('honours the abort signal', async () => {
    const ac = new AbortController();
    const run = runStageDirect(train, {
      params: actmixParams({ training: { max_epochs: 50, patience: 0 } }), inputs: files, signal: ac.signal,
      onProgress: (p) => { if (p.done === 1) ac.abort(new Error('stop requested')); },
    });
    await expect(run).rejects.toThrow(/stop requested/);
  });

  it('the cpu backend gives the same training curve as wasm (up to float32 round-off)', async () => {
    const p = (backend: string) => actmixParams({ backend, model: { activation: 'actmix', hidden: [8], dropout: 0.1 }, training: { max_epochs: 2, batch_size: 64, patience: 0 } });
    const cpu = await runStageDirect(train, { params: p('cpu'), inputs: files, seed: 4 });
    const wasm = await runStageDirect(train, { params: p('wasm'), inputs: files, seed: 4 });
    expect(JSON.parse(readFileSync(cpu.outputs.metrics!, 'utf8')).backend).toBe('cpu');
    const a = (await readTable(cpu.outputs.curves!)).toArray().map((x) => x.toJSON());
    const b = (await readTable(wasm.outputs.curves!)).toArray().map((x) => x.toJSON());
    a.forEach((r, i) => {
      expect(r.val_loss).toBeCloseTo(b[i]!.val_loss, 4);
      expect(r.train_loss).toBeCloseTo(b[i]!.train_loss, 4);
    });
  });
});
