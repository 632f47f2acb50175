import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { runStageDirect } from '../../src/engine/exec/context.js';
import { readTable } from '../../src/sdk/table.js';
import { classificationMetrics } from '../../src/lib/ml/metrics.js';
import xgboost from '../../src/stages/xgboost.js';
import { openXgboost, XGBoostUnavailableError } from '../../src/lib/ml/xgboost.js';
import { writeDataset, tmp, moons, slice } from './helpers.js';

const dir = tmp('pipe-ml-xgb-');

describe('xgboost stage (libxgboost through koffi)', () => {
  it('one depth-1 tree equals the closed-form leaf weights (base 0.5, leaf = Σresidual/(n+λ))', async () => {
    const X = Array.from({ length: 100 }, (_, i) => [i / 100]);
    const y = X.map(([x]) => (x! < 0.5 ? 0 : 10));
    const tr = await writeDataset(dir, 'step', { X, y }, 'regression');
    const te = await writeDataset(dir, 'step-te', { X: [[0.1], [0.9]], y: [0, 10] }, 'regression');
    const r = await runStageDirect(xgboost, {
      params: { n_estimators: 1, learning_rate: 1, max_depth: 1, reg_lambda: 1, nthread: 1, extra: { base_score: 0.5 } },
      inputs: { train: tr, test: te }, seed: 0,
    });
    const pred = (await readTable(r.outputs.predictions!)).getChild('y_pred')!.toArray() as Float64Array;
    expect(pred[0]).toBeCloseTo(0.5 + (50 * -0.5) / 51, 4);
    expect(pred[1]).toBeCloseTo(0.5 + (50 * 9.5) / 51, 4);
    const model = JSON.parse(readFileSync(r.outputs.model!, 'utf8'));
    expect(model.learner.gradient_booster.model.trees).toHaveLength(1);
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    expect(m.xgboost).toMatch(/^\d+\.\d+\.\d+$/);
    expect(m.test.rmse).toBeCloseTo(Math.sqrt(((0.5 - 25 / 51) ** 2 + (10 - 0.5 - 475 / 51) ** 2) / 2), 4);
  });

  it('classifies moons; probabilities and metrics agree; val rows are added to training', async () => {
    const all = moons(700, 4);
    const inputs = {
      train: await writeDataset(dir, 'tr', slice(all, 0, 400), 'classification', ['a', 'b']),
      val: await writeDataset(dir, 'va', slice(all, 400, 500), 'classification', ['a', 'b']),
      test: await writeDataset(dir, 'te', slice(all, 500, 700), 'classification', ['a', 'b']),
    };
    const r = await runStageDirect(xgboost, { params: { n_estimators: 50, nthread: 1 }, inputs, seed: 42 });
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    expect(m.n_train).toBe(500);
    expect(m.params).toMatchObject({ objective: 'binary:logistic', eval_metric: 'logloss', max_depth: 6, tree_method: 'hist' });
    expect(m.test.accuracy).toBeGreaterThan(0.93);
    const rows = (await readTable(r.outputs.predictions!)).toArray().map((x) => x.toJSON());
    rows.forEach((p) => expect(p.prob_a + p.prob_b).toBeCloseTo(1, 6));
    const again = classificationMetrics(rows.map((p) => p.y_true), rows.flatMap((p) => [p.prob_a, p.prob_b]), 2);
    expect(again.roc_auc).toBeCloseTo(m.test.roc_auc, 12);
    expect(r.result && r.result.metrics?.test_accuracy).toBe(m.test.accuracy);
  });

  it('three classes use multi:softprob', async () => {
    const all = moons(300, 5);
    const y = all.X.map((x) => (x[0]! < 0 ? 0 : x[0]! < 1 ? 1 : 2));
    const rows = { X: all.X, y };
    const r = await runStageDirect(xgboost, {
      params: { n_estimators: 20, nthread: 1 },
      inputs: { train: await writeDataset(dir, 'm3', slice(rows, 0, 200), 'classification'), test: await writeDataset(dir, 'm3t', slice(rows, 200, 300), 'classification') },
    });
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    expect(m.params).toMatchObject({ objective: 'multi:softprob', num_class: 3 });
    expect(m.test.accuracy).toBeGreaterThan(0.95);
  });

  it('a missing library is a clear error naming the Debian package', () => {
    expect(() => openXgboost(['/nonexistent/libxgboost.so'])).toThrow(XGBoostUnavailableError);
    expect(() => openXgboost(['/nonexistent/libxgboost.so'])).toThrow(/apt-get install libxgboost0/);
    expect(openXgboost(['libxgboost.so.0']).version).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
