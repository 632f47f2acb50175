/**
 * Parsing into table artifacts: full-data row counts and label balance (from the mirror), the
 * fixture formats, and every malformed-input error naming file and line/record.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import { runStageDirect } from '../../src/engine/exec/context.js';
import downloadUci from '../../src/stages/download-uci.js';
import downloadMnist from '../../src/stages/download-mnist.js';
import { loadCsv, parseAdultFile, adultTable, parseMagic, parseCcppXlsx, parseIdx, readMnistGz, mnistTable } from '../../src/lib/datasets.js';
import { completeRows, featureMatrix, numericColumn, readTable, tableMeta, type Table } from '../../src/sdk/table.js';
import { FIXTURES, MIRROR, useScratchTmp } from './helpers.js';

useScratchTmp();

const fixture = (rel: string) => readFile(join(FIXTURES, rel), 'utf8');
const classCounts = (t: Table) => {
  const m = tableMeta(t);
  const c = new Array(m.classes!.length).fill(0);
  for (const v of t.getChild(m.target!)!) c[v as number]++;
  return c;
};

beforeAll(async () => { await loadCsv(); });

describe('full datasets from the mirror directory', () => {
  it('Adult: 48,842 rows (32,561 + 16,281), 45,222 complete, 23.9% / 24.8% positive', async () => {
    const r = await runStageDirect(downloadUci, { params: { dataset: 'adult', mirror: MIRROR } });
    const t = await readTable(r.outputs.table!);
    const meta = tableMeta(t);
    expect(t.numRows).toBe(48842);
    expect(meta.parts).toEqual({ 'adult.data': 32561, 'adult.test': 16281 });
    expect(t.numCols).toBe(15);
    expect(classCounts(t)).toEqual([37155, 11687]);
    const complete = completeRows(t, meta.features!);
    expect(complete.length).toBe(45222);
    const y = numericColumn(t, 'income').values;
    expect(complete.reduce((a, i) => a + y[i]!, 0)).toBe(11208);
    expect(String(t.getChild('age')!.type)).toBe('Int32');
    expect(String(t.getChild('workclass')!.type)).toBe('Utf8');
    expect(t.getChild('workclass')!.nullCount).toBe(2799);
    expect(t.getChild('occupation')!.nullCount).toBe(2809);
    expect(t.getChild('native-country')!.nullCount).toBe(857);
    // labels of adult.test had a trailing '.', stripped: the first test row (line 2) is '<=50K.'
    expect(t.getChild('income')!.get(32561)).toBe(0);
    expect(t.getChild('age')!.get(32561)).toBe(25);
    expect(r.result).toMatchObject({ metrics: { rows: 48842 } });
  });

  it('MAGIC: 19,020 rows, 12,332 g / 6,688 h, 10 float features', async () => {
    const r = await runStageDirect(downloadUci, { params: { dataset: 'magic', mirror: MIRROR } });
    const t = await readTable(r.outputs.table!);
    expect(t.numRows).toBe(19020);
    expect(classCounts(t)).toEqual([12332, 6688]);
    expect(tableMeta(t)).toMatchObject({ target: 'class', classes: ['g', 'h'], task: 'classification' });
    const fm = featureMatrix(t);
    expect(fm.d).toBe(10);
    expect(fm.X[0]).toBeCloseTo(28.7967, 4);
  });

  it('CCPP: 9,568 rows of AT, V, AP, RH → PE (420.26 … 495.76 MW)', async () => {
    const r = await runStageDirect(downloadUci, { params: { dataset: 'ccpp', mirror: MIRROR } });
    const t = await readTable(r.outputs.table!);
    expect(t.numRows).toBe(9568);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['AT', 'V', 'AP', 'RH', 'PE']);
    const pe = numericColumn(t, 'PE').values;
    expect(Math.min(...pe)).toBe(420.26);
    expect(Math.max(...pe)).toBe(495.76);
    expect(pe.reduce((a, b) => a + b, 0) / pe.length).toBeCloseTo(454.365, 2);
    // the xlsx's Sheet1 equals the CSV export of PROVENANCE.md, row for row
    const csv = (await readFile(join(MIRROR, 'ccpp', 'Folds5x2_pp_Sheet1.csv'), 'utf8')).trim().split('\n').slice(1);
    expect(csv.length).toBe(9568);
    for (const i of [0, 1, 4321, 9567]) {
      const want = csv[i]!.split(',').map(Number);
      expect(['AT', 'V', 'AP', 'RH', 'PE'].map((c) => numericColumn(t, c).values[i])).toEqual(want);
    }
  });

  it('MNIST: 60,000 + 10,000 images of 28×28 with the known label counts (uint8 and float32)', async () => {
    const r = await runStageDirect(downloadMnist, { params: { mirror: MIRROR } });
    const train = await readTable(r.outputs.train!);
    const test = await readTable(r.outputs.test!);
    expect(train.numRows).toBe(60000);
    expect(test.numRows).toBe(10000);
    expect(String(train.getChild('image')!.type)).toBe('FixedSizeList[784]<Uint8>');
    expect(classCounts(train)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(classCounts(test)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    const fm = featureMatrix(test);
    expect([fm.n, fm.d]).toEqual([10000, 784]);
    expect(Math.max(...fm.X.subarray(0, 784))).toBe(255);
    // the float32 variant (pixels: float32) of the same images: x / 255
    const gz = (n: string) => readFile(join(MIRROR, 'mnist', n));
    const ftable = mnistTable(
      await readMnistGz(await gz('t10k-images-idx3-ubyte.gz'), 't10k-images-idx3-ubyte.gz', 'images'),
      await readMnistGz(await gz('t10k-labels-idx1-ubyte.gz'), 't10k-labels-idx1-ubyte.gz', 'labels'), 'float32', 'test');
    expect(String(ftable.getChild('image')!.type)).toBe('FixedSizeList[784]<Float32>');
    const ft = featureMatrix(ftable);
    for (const i of [0, 200, 783, 784 * 9999 + 400]) expect(ft.X[i]).toBeCloseTo(fm.X[i]! / 255, 6);
    expect(Math.max(...ft.X.subarray(0, 784))).toBe(1);
  });
});

describe('Adult / MAGIC parsers (fixtures)', () => {
  it('adult.data and adult.test: first test line skipped, "." stripped, "?" → null', async () => {
    const data = parseAdultFile(await fixture('adult/adult.data'), 'adult.data');
    const test = parseAdultFile(await fixture('adult/adult.test'), 'adult.test');
    expect([data.n, test.n]).toEqual([6, 4]);
    expect(Array.from(test.label)).toEqual([0, 0, 1, 0]);
    const t = adultTable([data, test]);
    expect(t.numRows).toBe(10);
    expect(t.getChild('workclass')!.get(4)).toBeNull();
    expect(t.getChild('native-country')!.get(8)).toBeNull();
    expect(completeRows(t, tableMeta(t).features!).length).toBe(7);
    expect(t.getChild('age')!.get(6)).toBe(25);
  });

  it('adult: a ragged row, a bad integer, a bad label, an empty field name file and line', async () => {
    const lines = (await fixture('adult/adult.data')).split('\n');
    const bad = (i: number, s: string) => { const l = [...lines]; l[i] = s; return l.join('\n'); };
    expect(() => parseAdultFile(bad(2, lines[2]!.replace(', 40, United-States', ', United-States')), 'adult.data')).toThrow("adult.data:3: ragged row: 14 fields, expected 15");
    expect(() => parseAdultFile(bad(3, lines[3]!.replace('52,', '5x2,')), 'adult.data')).toThrow("adult.data:4: column 'age': '5x2' is not an integer");
    expect(() => parseAdultFile(bad(1, lines[1]!.replace('<=50K', '<=50')), 'adult.data')).toThrow("adult.data:2: label '<=50' is not one of <=50K, >50K");
    expect(() => parseAdultFile(bad(0, lines[0]!.replace('State-gov', '')), 'adult.data')).toThrow("adult.data:1: column 'workclass' is empty");
    const t = (await fixture('adult/adult.test')).split('\n');
    t[3] = t[3]!.replace('160323', '160323.5');
    expect(() => parseAdultFile(t.join('\n'), 'adult.test')).toThrow("adult.test:4: column 'fnlwgt': '160323.5' is not an integer");
  });

  it('adult: a file with another row count than the original is rejected when checked', async () => {
    const text = await fixture('adult/adult.data');
    expect(() => parseAdultFile(text, 'adult.data', { checkRows: true }))
      .toThrow('adult.data: 6 rows, but the original has 32561 — not the original file');
  });

  it('magic: parses g/h; ragged row, bad number and bad class name the line', async () => {
    const text = await fixture('magic/magic04.data');
    const t = parseMagic(text, 'magic04.data');
    expect(t.numRows).toBe(6);
    expect(Array.from(numericColumn(t, 'class').values)).toEqual([0, 0, 0, 0, 1, 1]);
    const lines = text.split('\n');
    const bad = (i: number, s: string) => { const l = [...lines]; l[i] = s; return l.join('\n'); };
    expect(() => parseMagic(bad(4, lines[4]!.replace(',h', ',3.3,h')), 'magic04.data')).toThrow('magic04.data:5: ragged row: 12 fields, expected 11');
    expect(() => parseMagic(bad(2, lines[2]!.replace('4.0612', '4.06.12')), 'magic04.data')).toThrow("magic04.data:3: column 'fSize': '4.06.12' is not a number");
    expect(() => parseMagic(bad(5, lines[5]!.replace(',h', ',x')), 'magic04.data')).toThrow("magic04.data:6: class 'x' is not 'g' or 'h'");
    expect(() => parseMagic(bad(1, lines[1]!.replace('11.7235', '')), 'magic04.data')).toThrow("magic04.data:2: column 'fWidth': '' is not a number");
  });
});

describe('CCPP xlsx parser (workbooks built with exceljs)', () => {
  const book = async (rows: unknown[][]) => {
    const ExcelJS = (await import('exceljs')).default;
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Sheet1');
    for (const r of rows) ws.addRow(r);
    return new Uint8Array(await wb.xlsx.writeBuffer());
  };
  const header = ['AT', 'V', 'AP', 'RH', 'PE'];

  it('parses the first sheet', async () => {
    const t = await parseCcppXlsx(await book([header, [14.96, 41.76, 1024.07, 73.17, 463.26], [25.18, 62.96, 1020.04, 59.08, 444.37]]), 'Folds5x2_pp.xlsx');
    expect(t.numRows).toBe(2);
    expect(Array.from(numericColumn(t, 'PE').values)).toEqual([463.26, 444.37]);
  });

  it('bad header, text cell, ragged row, not an xlsx: errors name file, sheet and row', async () => {
    await expect(parseCcppXlsx(await book([['AT', 'V', 'AP', 'RH', 'EP'], [1, 2, 3, 4, 5]]), 'F.xlsx')).rejects.toThrow("F.xlsx: sheet 'Sheet1' row 1: header is [AT, V, AP, RH, EP], expected [AT, V, AP, RH, PE]");
    await expect(parseCcppXlsx(await book([header, [1, 2, 3, 4, 5], [1, 2, 'n/a', 4, 5]]), 'F.xlsx')).rejects.toThrow(`F.xlsx: sheet 'Sheet1' row 3: column 'AP': "n/a" is not a number`);
    await expect(parseCcppXlsx(await book([header, [1, 2, 3, 4, 5, 6]]), 'F.xlsx')).rejects.toThrow("F.xlsx: sheet 'Sheet1' row 2: ragged row: 6 cells, expected 5");
    await expect(parseCcppXlsx(new TextEncoder().encode('AT,V,AP,RH,PE\n1,2,3,4,5\n'), 'F.xlsx')).rejects.toThrow(/F\.xlsx: not a readable xlsx workbook/);
  });
});

describe('MNIST IDX parser', () => {
  const idx = (magic: number, dims: number[], body: number[]) => {
    const b = Buffer.alloc(4 + 4 * dims.length + body.length);
    b.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
    Buffer.from(body).copy(b, 4 + 4 * dims.length);
    return new Uint8Array(b);
  };

  it('parses images and labels into a table', () => {
    const im = parseIdx(idx(0x803, [2, 2, 2], [0, 255, 1, 2, 3, 4, 5, 6]), 'img', 'images');
    const lb = parseIdx(idx(0x801, [2], [7, 3]), 'lab', 'labels');
    const t = mnistTable(im, lb, 'float32', 'train');
    expect(t.numRows).toBe(2);
    const fm = featureMatrix(t);
    expect(fm.d).toBe(4);
    expect(Array.from(fm.X.subarray(0, 4))).toEqual([0, 1, 1 / 255, 2 / 255].map(Math.fround));
    expect(Array.from(fm.y!)).toEqual([7, 3]);
    expect(tableMeta(t).image_shape).toEqual([2, 2]);
  });

  it('wrong magic, truncated record, trailing bytes, bad label, short header, bad gzip', async () => {
    expect(() => parseIdx(idx(0x801, [1, 2, 2], [0, 0, 0, 0]), 'train-images-idx3-ubyte', 'images')).toThrow('train-images-idx3-ubyte: wrong magic number 0x00000801, expected 0x00000803');
    expect(() => parseIdx(idx(0x803, [3], [1, 2, 3]), 'train-labels-idx1-ubyte', 'labels')).toThrow('train-labels-idx1-ubyte: wrong magic number 0x00000803, expected 0x00000801');
    expect(() => parseIdx(idx(0x803, [3, 2, 2], [0, 0, 0, 0, 0, 0, 0, 0, 0]), 'img', 'images')).toThrow('img: truncated: header says 3 images of 2×2 (28 bytes), file has 25 bytes; record 2 is incomplete');
    expect(() => parseIdx(idx(0x801, [2], [1, 2, 3]), 'lab', 'labels')).toThrow('lab: 1 trailing bytes after the 2 records');
    expect(() => parseIdx(idx(0x801, [3], [1, 12, 3]), 'lab', 'labels')).toThrow('lab: record 1: label 12 is not a digit 0–9');
    expect(() => parseIdx(new Uint8Array([0, 0, 8]), 'lab', 'labels')).toThrow('lab: 3 bytes, too short for an IDX header (8 bytes)');
    await expect(readMnistGz(new Uint8Array([1, 2, 3, 4]), 't10k-labels-idx1-ubyte.gz', 'labels')).rejects.toThrow(/t10k-labels-idx1-ubyte\.gz: not a valid gzip file/);
    await expect(readMnistGz(gzipSync(idx(0x801, [2], [1, 2])), 't10k-labels-idx1-ubyte.gz', 'labels')).rejects.toThrow('t10k-labels-idx1-ubyte.gz: 2 labels, but the original has 10000');
  });
});
