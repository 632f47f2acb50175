/**
 * split: fold disjointness and coverage, stratification within ±1 row per class, inner
 * validation split, seed-parity protocol, holdout, determinism, missing rows, errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runStageDirect } from '../../src/engine/exec/context.js';
import split from '../../src/stages/split.js';
import downloadUci from '../../src/stages/download-uci.js';
import gen from '../../src/stages/generate-synthetic.js';
import { adultTable, loadCsv, parseAdultFile } from '../../src/lib/datasets.js';
import { makeTable, numericColumn, numericVector, readTable, tableMeta, writeTable, ROW_COLUMN, type Table } from '../../src/sdk/table.js';
import { FIXTURES, MIRROR, tmp, useScratchTmp } from './helpers.js';

useScratchTmp();

let magicPath: string;
let magic: Table;
let magicLabels: Float64Array;

interface Parts { train: Table; val: Table; test: Table; info: Record<string, any>; logs: string[] }
const runSplit = async (table: string, params: Record<string, unknown>, seed = 0): Promise<Parts> => {
  const r = await runStageDirect(split, { params, seed, inputs: { table } });
  return {
    train: await readTable(r.outputs.train!), val: await readTable(r.outputs.val!), test: await readTable(r.outputs.test!),
    info: JSON.parse(await readFile(r.outputs.info!, 'utf8')), logs: r.logs,
  };
};
const rowsOf = (t: Table) => Array.from(numericColumn(t, ROW_COLUMN).values);
const countBy = (rows: number[], labels: Float64Array, k: number) => {
  const c = new Array(k).fill(0);
  for (const r of rows) c[labels[r]!]++;
  return c;
};

beforeAll(async () => {
  const r = await runStageDirect(downloadUci, { params: { dataset: 'magic', mirror: MIRROR } });
  magicPath = r.outputs.table!;
  magic = await readTable(magicPath);
  magicLabels = numericColumn(magic, 'class').values;
});

describe('split: stratified 10-fold CV on MAGIC (19,020 rows)', () => {
  let folds: Parts[];
  beforeAll(async () => {
    folds = [];
    for (let f = 0; f < 10; f++) folds.push(await runSplit(magicPath, { method: 'stratified-kfold', k: 10, fold: f, seed: 1192 }));
  });

  it('test folds are disjoint and cover every row exactly once', () => {
    const seen = new Uint8Array(magic.numRows);
    for (const f of folds) for (const r of rowsOf(f.test)) seen[r]!++;
    expect(seen.every((v) => v === 1)).toBe(true);
    expect(folds.map((f) => f.test.numRows).reduce((a, b) => a + b, 0)).toBe(19020);
  });

  it('per fold: train, val and test are disjoint and together are all rows', () => {
    for (const f of folds) {
      const all = [...rowsOf(f.train), ...rowsOf(f.val), ...rowsOf(f.test)];
      expect(new Set(all).size).toBe(19020);
      expect(all.length).toBe(19020);
    }
  });

  it('stratification: every class is spread over the folds within ±1 row; fold sizes within ±1', () => {
    const per = folds.map((f) => countBy(rowsOf(f.test), magicLabels, 2));
    for (let c = 0; c < 2; c++) {
      const counts = per.map((p) => p[c]);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
    expect(per.map((p) => p[0]).reduce((a, b) => a + b, 0)).toBe(12332);
    const sizes = folds.map((f) => f.test.numRows);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(folds[3]!.info.class_counts.test).toEqual(per[3]);
  });

  it('inner validation (clean): 10% of the training folds, stratified within ±1 row per class', () => {
    for (const f of folds) {
      const pool = f.train.numRows + f.val.numRows;
      expect(f.val.numRows).toBe(Math.ceil(0.1 * pool));
      const poolCounts = countBy([...rowsOf(f.train), ...rowsOf(f.val)], magicLabels, 2);
      const valCounts = countBy(rowsOf(f.val), magicLabels, 2);
      for (let c = 0; c < 2; c++) expect(Math.abs(valCounts[c] - (poolCounts[c] * f.val.numRows) / pool)).toBeLessThanOrEqual(1);
      expect(f.info.leaky).toBe(false);
    }
  });

  it('rows keep their content and metadata; `_row` points into the input', () => {
    const f = folds[0]!;
    const rows = rowsOf(f.test);
    const src = numericColumn(magic, 'fAlpha').values;
    const got = numericColumn(f.test, 'fAlpha').values;
    rows.forEach((r, i) => expect(got[i]).toBe(src[r]));
    expect(tableMeta(f.test)).toMatchObject({ target: 'class', classes: ['g', 'h'], features: tableMeta(magic).features });
  });

  it('deterministic: same seed → same bytes and row hashes; another seed → other folds', async () => {
    const again = await runSplit(magicPath, { method: 'stratified-kfold', k: 10, fold: 4, seed: 1192 });
    expect(again.info.rows_sha256).toEqual(folds[4]!.info.rows_sha256);
    const other = await runSplit(magicPath, { method: 'stratified-kfold', k: 10, fold: 4, seed: 42 });
    expect(other.info.rows_sha256.test).not.toBe(folds[4]!.info.rows_sha256.test);
    // the stage seed is used when params.seed is absent
    const viaCtx = await runSplit(magicPath, { method: 'stratified-kfold', k: 10, fold: 4 }, 1192);
    expect(viaCtx.info.rows_sha256).toEqual(folds[4]!.info.rows_sha256);
  });
});

describe('split: protocols, methods, options', () => {
  it('seed-parity: val is the test fold (leaky) and a warning says so', async () => {
    const p = await runSplit(magicPath, { method: 'stratified-kfold', fold: 2, seed: 1192, protocol: 'seed-parity' });
    expect(rowsOf(p.val)).toEqual(rowsOf(p.test));
    expect(p.train.numRows + p.test.numRows).toBe(19020);
    expect(p.info.leaky).toBe(true);
    expect(p.logs.some((l) => /seed-parity.*leaky/.test(l))).toBe(true);
    // the test fold is the same as in the clean protocol
    const clean = await runSplit(magicPath, { method: 'stratified-kfold', fold: 2, seed: 1192 });
    expect(p.info.rows_sha256.test).toBe(clean.info.rows_sha256.test);
  });

  it('kfold on a regression table (stratified falls back, as the seed); shuffle false = contiguous blocks', async () => {
    const g = await runStageDirect(gen, { params: { generator: 'playground' } });
    const p = await runSplit(g.outputs.table!, { method: 'stratified-kfold', k: 10, fold: 0, shuffle: false, val_fraction: 0 });
    expect(p.info.method).toBe('kfold');
    expect(rowsOf(p.test)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(p.val.numRows).toBe(0);
    expect(p.logs.some((l) => /plain kfold/.test(l))).toBe(true);
    const q = await runSplit(g.outputs.table!, { method: 'kfold', k: 7, fold: 6, seed: 3 });
    expect(q.test.numRows).toBe(28); // 200 = 4·29 + 3·28: the first 200 mod 7 = 4 folds get 29
  });

  it('holdout: the seed’s 80/20 of synthetic_2d (shuffle false = last 20%); stratified 10/10/80 on MAGIC', async () => {
    const g = await runStageDirect(gen, { params: { generator: 'synthetic_2d' }, seed: 42 });
    const p = await runSplit(g.outputs.table!, { method: 'holdout', test_fraction: 0.2, val_fraction: 0, shuffle: false, stratify: false });
    expect(rowsOf(p.test)).toEqual(Array.from({ length: 2000 }, (_, i) => 8000 + i));
    expect(p.train.numRows).toBe(8000);
    const m = await runSplit(magicPath, { method: 'holdout', test_fraction: 0.1, val_fraction: 0.1, seed: 7 });
    expect(m.test.numRows).toBe(1902);
    expect(m.val.numRows).toBe(Math.ceil((0.1 / 0.9) * (19020 - 1902) - 1e-9));
    for (const part of [m.test, m.val]) {
      const c = countBy(rowsOf(part), magicLabels, 2);
      expect(Math.abs(c[0] - (part.numRows * 12332) / 19020)).toBeLessThanOrEqual(1);
    }
    expect(new Set([...rowsOf(m.train), ...rowsOf(m.val), ...rowsOf(m.test)]).size).toBe(19020);
  });

  it('drop_missing drops incomplete rows before assignment; a missing target without it is an error', async () => {
    await loadCsv();
    const t = adultTable([parseAdultFile(await readFile(join(FIXTURES, 'adult/adult.data'), 'utf8'), 'adult.data'), parseAdultFile(await readFile(join(FIXTURES, 'adult/adult.test'), 'utf8'), 'adult.test')]);
    const dir = await tmp();
    await writeTable(join(dir, 'adult.arrow'), t);
    const p = await runSplit(join(dir, 'adult.arrow'), { method: 'kfold', k: 7, fold: 0, drop_missing: true, val_fraction: 0 });
    expect(p.info.rows_used).toBe(7);
    expect(p.info.dropped_missing).toBe(3);
    expect(rowsOf(p.test).every((r) => ![4, 8, 9].includes(r))).toBe(true);
    const all = await Promise.all([...Array(7).keys()].map((f) => runSplit(join(dir, 'adult.arrow'), { method: 'kfold', k: 7, fold: f, drop_missing: true, val_fraction: 0 })));
    expect(all.flatMap((x) => rowsOf(x.test)).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 5, 6, 7]);
    const withNullTarget = makeTable({ x: numericVector('float64', [1, 2, 3, 4]), y: numericVector('int32', [0, 1, 0, 1], [1, 1, 0, 1]) }, { target: 'y', task: 'classification', classes: ['a', 'b'] });
    await writeTable(join(dir, 'nt.arrow'), withNullTarget);
    await expect(runSplit(join(dir, 'nt.arrow'), { k: 2 })).rejects.toThrow("target column 'y' has missing values; set drop_missing: true");
    expect((await runSplit(join(dir, 'nt.arrow'), { k: 3, drop_missing: true, val_fraction: 0 })).info.rows_used).toBe(3);
  });

  it('fold out of range is an error', async () => {
    await expect(runSplit(magicPath, { k: 5, fold: 5 })).rejects.toThrow('fold 5 is out of range for k = 5 (folds 0 … 4)');
  });
});
