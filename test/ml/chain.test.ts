import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { runStageDirect } from '../../src/engine/exec/context.js';
import { readTable } from '../../src/sdk/table.js';
import download from '../../src/stages/download-uci.js';
import split from '../../src/stages/split.js';
import encode from '../../src/stages/encode.js';
import standardize from '../../src/stages/standardize.js';
import train from '../../src/stages/train.js';
import xgboost from '../../src/stages/xgboost.js';

const mirror = new URL('../../../shared/datasets', import.meta.url).pathname;
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('data stages → train / xgboost on real CCPP (one fold of the pipeline)', () => {
  it('trains on standardized folds; a target standardized upstream is reported in MW', async () => {
    const data = await runStageDirect(download, { params: { dataset: 'ccpp', mirror } });
    const sp = await runStageDirect(split, { params: { method: 'stratified-kfold', k: 10, fold: 3, seed: 1192, val_fraction: 0.1 }, inputs: { table: data.outputs.table! } });
    const parts = (o: Record<string, string>) => ({ train: o.train!, val: o.val!, test: o.test! });
    const en = await runStageDirect(encode, { inputs: parts(sp.outputs) });
    const raw = await runStageDirect(standardize, { inputs: parts(en.outputs) });
    const zt = await runStageDirect(standardize, { params: { target: true }, inputs: parts(en.outputs) });

    const x = json((await runStageDirect(xgboost, { params: { n_estimators: 100, learning_rate: 0.3, nthread: 1 }, inputs: parts(raw.outputs), seed: 42 })).outputs.metrics!);
    expect(x.n_test).toBe(957);
    expect(x.n_train).toBe(9568 - 957); // val rows added back
    expect(x.test.rmse).toBeLessThan(3.8); // literature GBDT ≈ 2.9–3.2 with 500 trees
    // the same booster on the z-scored target gives the same predictions in MW
    const xz = json((await runStageDirect(xgboost, { params: { n_estimators: 100, learning_rate: 0.3, nthread: 1 }, inputs: parts(zt.outputs), seed: 42 })).outputs.metrics!);
    expect(xz.test.rmse).toBeCloseTo(x.test.rmse, 1);

    const p = { backend: 'wasm', model: { activation: 'gelu', hidden: [32, 32] }, training: { max_epochs: 4, lr: 0.01, patience: 0 } };
    const r = await runStageDirect(train, { params: p, inputs: parts(zt.outputs), seed: 1192 });
    const m = json(r.outputs.metrics!);
    expect(m.standardize_target).toBe(true);
    expect(m.n_train + m.n_val).toBe(9568 - 957);
    expect(m.n_val).toBeGreaterThan(850);
    expect(m.test.rmse).toBeLessThan(6); // target SD ≈ 17 MW; linear regression ≈ 4.6
    expect(m.test.r2).toBeGreaterThan(0.85);
    const pred = await readTable(r.outputs.predictions!);
    const yTrue = pred.getChild('y_true')!.toArray() as Float64Array;
    expect(Math.min(...yTrue)).toBeGreaterThan(420); // MW, not z-scores
    expect(pred.getChild('_row')!.length).toBe(957);
  });
});
