import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { runStageDirect } from '../../src/engine/exec/context.js';
import { readTable } from '../../src/sdk/table.js';
import download from '../../src/stages/download-uci.js';
import split from '../../src/stages/split.js';
import encode from '../../src/stages/encode.js';
import standardize from '../../src/stages/standardize.js';
import xgboost from '../../src/stages/xgboost.js';

const mirror = new URL('../../../shared/datasets', import.meta.url).pathname;
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const rowsOf = async (p: string) => Array.from((await readTable(p)).getChild('_row')!.toArray() as ArrayLike<number>, Number);

// Under protocol seed-parity the val part of a fold is its test fold: XGBoost (no early stopping)
// must train on the training folds only, never on a test row.
describe('xgboost: no test row among the training rows', () => {
  it.each(['seed-parity', 'clean'] as const)('protocol %s, every fold of a 3-fold CV on CCPP', async (protocol) => {
    const data = await runStageDirect(download, { params: { dataset: 'ccpp', mirror } });
    for (let fold = 0; fold < 3; fold++) {
      const sp = await runStageDirect(split, { params: { method: 'stratified-kfold', k: 3, fold, seed: 1192, val_fraction: 0.1, protocol }, inputs: { table: data.outputs.table! } });
      const parts = (o: Record<string, string>) => ({ train: o.train!, val: o.val!, test: o.test! });
      const en = await runStageDirect(encode, { inputs: parts(sp.outputs) });
      const st = await runStageDirect(standardize, { inputs: parts(en.outputs) });
      const x = await runStageDirect(xgboost, { params: { n_estimators: 5, nthread: 1 }, inputs: parts(st.outputs), seed: 1 });
      const trained = await rowsOf(x.outputs.train_rows!);
      const test = new Set(await rowsOf(sp.outputs.test!));
      const train = await rowsOf(sp.outputs.train!);
      const val = await rowsOf(sp.outputs.val!);
      expect(trained.filter((r) => test.has(r))).toEqual([]);
      const m = json(x.outputs.metrics!);
      expect(m.n_train).toBe(trained.length);
      if (protocol === 'seed-parity') {
        expect(val.every((r) => test.has(r))).toBe(true); // val is the test fold
        expect(trained.sort((a, b) => a - b)).toEqual(train.sort((a, b) => a - b));
        expect(m.train_on_val).toBe(false);
        expect(trained.length + test.size).toBe(9568);
      } else {
        expect(trained.sort((a, b) => a - b)).toEqual([...train, ...val].sort((a, b) => a - b));
        expect(m.train_on_val).toBe(true);
      }
    }
  }, 120_000);

  it('train_on_val: true under seed-parity is refused', async () => {
    const data = await runStageDirect(download, { params: { dataset: 'ccpp', mirror } });
    const sp = await runStageDirect(split, { params: { method: 'stratified-kfold', k: 3, fold: 0, protocol: 'seed-parity' }, inputs: { table: data.outputs.table! } });
    const parts = { train: sp.outputs.train!, val: sp.outputs.val!, test: sp.outputs.test! };
    await expect(runStageDirect(xgboost, { params: { n_estimators: 2, nthread: 1, train_on_val: true }, inputs: parts })).rejects.toThrow(/would train on the test fold/);
  }, 60_000);
});
