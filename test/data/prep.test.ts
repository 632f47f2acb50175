/**
 * encode and standardize: statistics fit on the training part only (clean), leaky `fit_on: all`
 * for seed-parity, one-hot with unseen levels → zeros, missing drop/impute, population std,
 * target scaling, the column-type conventions.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runStageDirect } from '../../src/engine/exec/context.js';
import encode from '../../src/stages/encode.js';
import standardize from '../../src/stages/standardize.js';
import split from '../../src/stages/split.js';
import downloadUci from '../../src/stages/download-uci.js';
import { adultTable, loadCsv, parseAdultFile } from '../../src/lib/datasets.js';
import {
  featureMatrix, makeTable, numericColumn, numericVector, readTable, stringVector, tableMeta, writeTable, type Table,
} from '../../src/sdk/table.js';
import { FIXTURES, MIRROR, tmp, useScratchTmp } from './helpers.js';

useScratchTmp();

let dir: string;
const save = async (name: string, t: Table) => { const p = join(dir, name); await writeTable(p, t); return p; };
const parts = async (r: { outputs: Record<string, string> }) => ({
  train: await readTable(r.outputs.train!), val: await readTable(r.outputs.val!), test: await readTable(r.outputs.test!),
});
const json = async (p: string) => JSON.parse(await readFile(p, 'utf8'));
const col = (t: Table, c: string) => Array.from(numericColumn(t, c).values);
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const popStd = (a: number[]) => { const m = mean(a); return Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / a.length); };

let adultTrain: string, adultTest: string;
beforeAll(async () => {
  dir = await tmp();
  await loadCsv();
  const fx = async (f: string) => parseAdultFile(await readFile(join(FIXTURES, 'adult', f), 'utf8'), f);
  adultTrain = await save('adult-train.arrow', adultTable([await fx('adult.data')]));
  adultTest = await save('adult-test.arrow', adultTable([await fx('adult.test')]));
});

describe('encode', () => {
  it('one-hot levels come from train only; an unseen level is all zeros; missing rows dropped', async () => {
    const r = await runStageDirect(encode, { inputs: { train: adultTrain, test: adultTest } });
    const { train, val, test } = await parts(r);
    const enc = await json(r.outputs.encoder!);
    expect(enc.levels.workclass).toEqual(['Private', 'Self-emp-inc', 'Self-emp-not-inc', 'State-gov']);
    expect(enc.levels.education).toEqual(['Bachelors', 'HS-grad', 'Masters']);
    expect([train.numRows, val.numRows, test.numRows]).toEqual([5, 0, 2]); // 1 of 6 and 2 of 4 rows have a '?'
    expect(enc.parts.test).toMatchObject({ rows_in: 4, rows_out: 2, dropped: 2, unseen_levels: { education: 1, occupation: 2, relationship: 1, race: 1 } });
    // test row 0 is '11th': no education level is set
    const eduCols = enc.features.filter((f: string) => f.startsWith('education='));
    expect(eduCols.map((c: string) => col(test, c)[0])).toEqual([0, 0, 0]);
    // a seen level is one-hot
    expect(col(test, 'workclass=Private')).toEqual([1, 1]);
    expect(col(test, 'sex=Male')).toEqual([1, 1]);
    // conventions: numeric first, then one-hots; all features Float32; target Int32
    const meta = tableMeta(train);
    expect(meta.features!.slice(0, 6)).toEqual(['age', 'fnlwgt', 'education-num', 'capital-gain', 'capital-loss', 'hours-per-week']);
    expect(meta.encoded).toEqual(meta.features!.slice(6));
    for (const f of meta.features!) expect(String(train.getChild(f)!.type)).toBe('Float32');
    expect(String(train.getChild('income')!.type)).toBe('Int32');
    expect(featureMatrix(test).d).toBe(meta.features!.length);
    expect(String(val.getChild('income')!.type)).toBe('Int32'); // empty part keeps the schema
  });

  it('fit_on: all takes levels from every part (leaky, for seed-parity)', async () => {
    const r = await runStageDirect(encode, { params: { fit_on: 'all' }, inputs: { train: adultTrain, test: adultTest } });
    const enc = await json(r.outputs.encoder!);
    expect(enc.levels.education).toEqual(['11th', 'Bachelors', 'HS-grad', 'Masters']);
    expect(enc.fit_rows).toBe(7);
    expect(r.logs.some((l) => /leaky/.test(l))).toBe(true);
  });

  it('impute: numeric mean/median and the most frequent level, fit on train', async () => {
    const t = makeTable({
      a: numericVector('float64', [1, 2, 9, 0], [1, 1, 1, 0]),
      c: stringVector(['x', 'y', 'y', null]),
      y: numericVector('int32', [0, 1, 0, 1]),
    }, { target: 'y', task: 'classification', classes: ['n', 'p'] });
    const te = makeTable({ a: numericVector('float64', [0, 5], [0, 1]), c: stringVector([null, 'z']), y: numericVector('int32', [1, 0]) }, tableMeta(t));
    const [trainP, testP] = [await save('imp-train.arrow', t), await save('imp-test.arrow', te)];
    const r = await runStageDirect(encode, { params: { missing: 'impute' }, inputs: { train: trainP, test: testP } });
    const { train, test } = await parts(r);
    expect(col(train, 'a')).toEqual([1, 2, 9, 4]);
    expect(col(train, 'c=y')).toEqual([0, 1, 1, 1]);
    expect(col(test, 'a')).toEqual([4, 5]);
    expect(col(test, 'c=x')).toEqual([0, 0]);
    expect(col(test, 'c=y')).toEqual([1, 0]); // imputed; 'z' unseen → zeros
    const enc = await json(r.outputs.encoder!);
    expect(enc.fill).toMatchObject({ numeric: { a: 4 }, categorical: { c: 'y' } });
    const med = await runStageDirect(encode, { params: { missing: 'impute', impute_numeric: 'median' }, inputs: { train: trainP } });
    expect(col(await readTable(med.outputs.train!), 'a')[3]).toBe(2);
  });

  it('a string target is label-encoded with sorted classes; an unseen label is an error', async () => {
    const t = makeTable({ a: numericVector('float64', [1, 2, 3]), label: stringVector(['b', 'a', 'b']) }, { target: 'label' });
    const te = makeTable({ a: numericVector('float64', [1]), label: stringVector(['c']) }, { target: 'label' });
    const r = await runStageDirect(encode, { inputs: { train: await save('s-train.arrow', t) } });
    const out = await readTable(r.outputs.train!);
    expect(tableMeta(out)).toMatchObject({ classes: ['a', 'b'], task: 'classification' });
    expect(col(out, 'label')).toEqual([1, 0, 1]);
    await expect(runStageDirect(encode, { inputs: { train: await save('s-train.arrow', t), test: await save('s-test.arrow', te) } }))
      .rejects.toThrow("test row 0: target 'c' is not a class seen when fitting (a, b)");
  });
});

describe('standardize', () => {
  const tbl = (a: number[], b: number[], y: number[]) => makeTable({
    a: numericVector('float64', a), b: numericVector('float64', b), y: numericVector('float64', y),
  }, { target: 'y', task: 'regression', dataset: 'toy' });

  it('fits mean and population std on train only and applies them to val/test', async () => {
    const trA = [1, 2, 3, 4, 10], trB = [5, 5, 5, 5, 5];
    const r = await runStageDirect(standardize, {
      inputs: { train: await save('z-train.arrow', tbl(trA, trB, [1, 2, 3, 4, 5])), test: await save('z-test.arrow', tbl([100, -100], [6, 4], [0, 0])) },
    });
    const { train, test } = await parts(r);
    const stats = await json(r.outputs.stats!);
    expect(stats.columns.a.mean).toBeCloseTo(mean(trA), 12);
    expect(stats.columns.a.std).toBeCloseTo(popStd(trA), 12); // divide by N, not N−1
    expect(stats.fit_rows).toBe(5);
    expect(col(train, 'a')).toEqual(trA.map((x) => Math.fround((x - mean(trA)) / popStd(trA))));
    expect(col(test, 'a')).toEqual([100, -100].map((x) => Math.fround((x - mean(trA)) / popStd(trA))));
    expect(col(train, 'b')).toEqual([0, 0, 0, 0, 0]); // zero std scales by 1
    expect(col(test, 'b')).toEqual([1, -1]);
    expect(String(train.getChild('a')!.type)).toBe('Float32');
    expect(String(train.getChild('y')!.type)).toBe('Float64');
    expect(col(train, 'y')).toEqual([1, 2, 3, 4, 5]); // target untouched by default
  });

  it('no statistic sees held-out rows: changing val/test leaves train output and stats byte-identical', async () => {
    const train = await save('l-train.arrow', tbl([1, 2, 3, 4], [0, 1, 0, 1], [1, 1, 1, 1]));
    const a = await runStageDirect(standardize, { inputs: { train, val: await save('l-val1.arrow', tbl([5], [0], [0])), test: await save('l-test1.arrow', tbl([7, 8], [1, 1], [0, 0])) } });
    const b = await runStageDirect(standardize, { inputs: { train, val: await save('l-val2.arrow', tbl([5e6], [-3], [9])), test: await save('l-test2.arrow', tbl([-7e9, 8e3], [1e4, 1], [0, 0])) } });
    expect((await readFile(a.outputs.train!)).equals(await readFile(b.outputs.train!))).toBe(true);
    expect(await readFile(a.outputs.stats!, 'utf8')).toBe(await readFile(b.outputs.stats!, 'utf8'));
    // fit_on: all does see them
    const c = await runStageDirect(standardize, { params: { fit_on: 'all' }, inputs: { train, test: await save('l-test1.arrow', tbl([7, 8], [1, 1], [0, 0])) } });
    expect((await json(c.outputs.stats!)).columns.a.mean).toBeCloseTo(mean([1, 2, 3, 4, 7, 8]), 12);
  });

  it('target: true standardizes a regression target and records how to unscale it; eps is added to the std', async () => {
    const y = [10, 20, 30, 40];
    const r = await runStageDirect(standardize, { params: { target: true, eps: 1e-8 }, inputs: { train: await save('t-train.arrow', tbl([1, 2, 3, 4], [1, 2, 3, 5], y)) } });
    const out = await readTable(r.outputs.train!);
    const sc = tableMeta(out).target_scaler as { mean: number; std: number };
    expect(sc.mean).toBe(25);
    expect(sc.std).toBeCloseTo(popStd(y) + 1e-8, 12);
    col(out, 'y').forEach((z, i) => expect(z * sc.std + sc.mean).toBeCloseTo(y[i]!, 10));
    expect((await json(r.outputs.stats!)).target).toMatchObject({ column: 'y', mean: 25 });
  });

  it('errors: string features (run encode first), missing values, target: true on classification', async () => {
    const s = makeTable({ c: stringVector(['a', 'b']), y: numericVector('int32', [0, 1]) }, { target: 'y', task: 'classification', classes: ['0', '1'] });
    await expect(runStageDirect(standardize, { inputs: { train: await save('e1.arrow', s) } })).rejects.toThrow("feature 'c' is Utf8, not numeric: run encode first");
    const m = makeTable({ a: numericVector('float64', [1, 2], [1, 0]), y: numericVector('int32', [0, 1]) }, { target: 'y', task: 'classification', classes: ['0', '1'] });
    await expect(runStageDirect(standardize, { inputs: { train: await save('e2.arrow', m) } })).rejects.toThrow("train: column 'a' has missing values (row 1)");
    const ok = makeTable({ a: numericVector('float64', [1, 2]), y: numericVector('int32', [0, 1]) }, { target: 'y', task: 'classification', classes: ['0', '1'] });
    await expect(runStageDirect(standardize, { params: { target: true }, inputs: { train: await save('e3.arrow', ok) } })).rejects.toThrow('target: true needs a regression target');
  });
});

describe('Adult, one fold end to end (split → encode → standardize)', () => {
  it('clean: encoder and scaler are fit on exactly the training rows; seed-parity: on all 45,222', async () => {
    const dl = await runStageDirect(downloadUci, { params: { dataset: 'adult', mirror: MIRROR } });
    const sp = await runStageDirect(split, { params: { fold: 3, seed: 1192, drop_missing: true }, inputs: { table: dl.outputs.table! } });
    const spTrain = await readTable(sp.outputs.train!);
    const en = await runStageDirect(encode, { inputs: { train: sp.outputs.train!, val: sp.outputs.val!, test: sp.outputs.test! } });
    const st = await runStageDirect(standardize, { inputs: { train: en.outputs.train!, val: en.outputs.val!, test: en.outputs.test! } });
    const enc = await json(en.outputs.encoder!);
    const stats = await json(st.outputs.stats!);
    expect(enc.fit_rows).toBe(spTrain.numRows);
    expect(stats.fit_rows).toBe(spTrain.numRows);
    const age = col(spTrain, 'age');
    expect(stats.columns.age.mean).toBeCloseTo(mean(age), 9);
    expect(stats.columns.age.std).toBeCloseTo(popStd(age), 9);
    const out = await parts(st);
    const fm = featureMatrix(out.train);
    expect(fm.d).toBe(104); // 6 continuous + 98 one-hot levels (§A.5)
    expect(fm.X.every(Number.isFinite)).toBe(true);
    expect(out.train.numRows + out.val.numRows + out.test.numRows).toBe(45222);

    const par = await runStageDirect(split, { params: { fold: 3, seed: 1192, drop_missing: true, protocol: 'seed-parity' }, inputs: { table: dl.outputs.table! } });
    // the protocol switch is the one param of split: fit_on: auto (default) follows it
    const en2 = await runStageDirect(encode, { inputs: { train: par.outputs.train!, val: par.outputs.val!, test: par.outputs.test! } });
    const st2 = await runStageDirect(standardize, { inputs: { train: en2.outputs.train!, val: en2.outputs.val!, test: en2.outputs.test! } });
    const stats2 = await json(st2.outputs.stats!);
    expect((await json(en2.outputs.encoder!)).fit_rows).toBe(45222); // val = test fold, counted once via _row
    expect(stats2.fit_rows).toBe(45222);
    expect([enc.fit_on, stats.fit_on, stats2.fit_on]).toEqual(['train', 'train', 'all']);
    expect(st2.logs.some((l) => /auto: seed-parity input.*leaky/.test(l))).toBe(true);
    expect(stats2.columns.age.mean).not.toBeCloseTo(stats.columns.age.mean, 6);
  });
});
