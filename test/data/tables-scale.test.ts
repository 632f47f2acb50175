/**
 * Tables at scale (issue 30), proven at small size: the streamed writer gives exactly
 * `tableToBytes`'s bytes, large-file reading by record batches reads the same table back,
 * dictionary-coded string columns encode like plain ones, load-csv's streamed parse keeps
 * missing values and string columns, a table that does not fit fails naming the stage, and the
 * lint rule against data-sized spreads fires (so it cannot silently stop working).
 * Figures at 1 M / 10 M / 50 M rows are bench/tables.mjs's, never asserted here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { RecordBatch, Table as ArrowTable, makeData, Struct, tableFromArrays } from 'apache-arrow';
import { runStageDirect } from '../../src/engine/exec/context.js';
import generate from '../../src/stages/generate-synthetic.js';
import split from '../../src/stages/split.js';
import encode from '../../src/stages/encode.js';
import loadCsv from '../../src/stages/load-csv.js';
import {
  categoryCodes, dictionaryVector, explainSizeError, makeTable, numericVector, readTable, readTableByBatches, stringVector,
  tableMeta, tableToBytes, TableTooLargeError, writeTable, type Table,
} from '../../src/sdk/table.js';
import { repoRoot, tmp } from './helpers.js';

const bytesOf = async (t: Table) => {
  const p = join(await tmp(), 't.arrow');
  await writeTable(p, t);
  return new Uint8Array(await readFile(p));
};

describe('writing and reading tables', () => {
  it('writeTable streams exactly the bytes of tableToBytes (numeric, nulls, dictionary columns, several batches)', async () => {
    const t = makeTable({
      x: numericVector('float64', Float64Array.from({ length: 1000 }, (_, i) => i / 7)),
      y: numericVector('int32', Int32Array.from({ length: 1000 }, (_, i) => i % 3), Uint8Array.from({ length: 1000 }, (_, i) => (i % 11 ? 1 : 0))),
      s: dictionaryVector(Int32Array.from({ length: 1000 }, (_, i) => (i % 13 ? i % 4 : -1)), ['a', 'b', 'c', 'd']),
      u: stringVector(Array.from({ length: 1000 }, (_, i) => (i % 5 ? `v${i % 6}` : null))),
    }, { target: 'y', task: 'classification' });
    expect(await bytesOf(t)).toEqual(tableToBytes(t));
    // two record batches
    const two = new ArrowTable(t.schema, [...t.slice(0, 400).batches, ...t.slice(400).batches]);
    expect(two.batches.length).toBe(2);
    expect(await bytesOf(two)).toEqual(tableToBytes(two));
  });

  it('reading by record batches gives the same table as reading the whole file', async () => {
    const a = tableFromArrays({ v: Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i)), k: Int32Array.from({ length: 5000 }, (_, i) => i) });
    const schema = a.schema;
    const batches = [0, 1700, 3400].map((s) => a.slice(s, Math.min(5000, s + 1700)).batches[0]!);
    const t = new ArrowTable(schema, batches.map((b) => new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: b.numRows, nullCount: 0, children: b.data.children }))));
    const p = join(await tmp(), 'b.arrow');
    await writeTable(p, t);
    const whole = await readTable(p), byBatch = await readTableByBatches(p);
    expect(byBatch.batches.length).toBe(3);
    expect(tableToBytes(byBatch)).toEqual(tableToBytes(whole));
    expect(Array.from(byBatch.getChild('v')!.toArray() as Float32Array)).toEqual(Array.from(a.getChild('v')!.toArray() as Float32Array));
  });

  it('categoryCodes reads dictionary indices and plain strings alike (levels in first-appearance order, −1 missing)', () => {
    const d = makeTable({ s: dictionaryVector(Int32Array.from([2, 0, -1, 2, 1]), ['p', 'q', 'r']) });
    expect(categoryCodes(d, 's')).toEqual({ codes: Int32Array.from([0, 1, -1, 0, 2]), levels: ['r', 'p', 'q'] });
    const u = makeTable({ s: stringVector(['r', 'p', null, 'r', 'q']) });
    expect(categoryCodes(u, 's')).toEqual(categoryCodes(d, 's'));
  });
});

describe('encode and load-csv on typed columns', () => {
  it('encode gives the same features from a dictionary-coded and a plain string column', async () => {
    const n = 500;
    const lv = ['north', 'south', 'east'];
    const codes = Int32Array.from({ length: n }, (_, i) => (i * 7) % 3);
    const base = { x: numericVector('float64', Float64Array.from({ length: n }, (_, i) => i % 17)), y: numericVector('int32', Int32Array.from(codes, (c) => (c === 1 ? 1 : 0))) };
    const meta = { target: 'y', task: 'classification' as const, classes: ['0', '1'], features: ['x', 'region'] };
    const dir = await tmp();
    const save = async (name: string, t: Table) => { const p = join(dir, name); await writeTable(p, t); return p; };
    const a = await runStageDirect(encode, { inputs: { train: await save('d.arrow', makeTable({ ...base, region: dictionaryVector(codes, lv) }, meta)) } });
    const b = await runStageDirect(encode, { inputs: { train: await save('u.arrow', makeTable({ ...base, region: stringVector(Array.from(codes, (c) => lv[c]!)) }, meta)) } });
    const ta = await readTable(a.outputs.train!), tb = await readTable(b.outputs.train!);
    expect(tableMeta(ta).features).toEqual(['x', 'region=east', 'region=north', 'region=south']);
    expect(tableToBytes(ta)).toEqual(tableToBytes(tb));
    expect(Array.from(ta.getChild('region=south')!.toArray() as Float32Array).reduce((s, v) => s + v, 0)).toBe(Array.from(codes).filter((c) => c === 1).length);
  });

  it('load-csv: missing cells are nulls, a string column is dictionary-coded, the target is Int32', async () => {
    const dir = await tmp();
    await writeFile(join(dir, 'c.csv'), 'a,b,city,y\n1.5,,Oslo,1\n2,3e2,,0\n-0.25,4,Lima,1\n');
    const r = await runStageDirect(loadCsv, { params: { path: 'c.csv', schema: 'custom', target: 'y', features: ['a', 'b'] }, projectDir: dir });
    const t = await readTable(r.outputs.table!);
    expect(t.getChild('a')!.toArray()).toEqual(Float64Array.from([1.5, 2, -0.25]));
    expect([...t.getChild('b')!].map((v) => v ?? null)).toEqual([null, 300, 4]);
    expect(String(t.getChild('city')!.type)).toBe('Dictionary<Int32, Utf8>');
    expect([...t.getChild('city')!].map((v) => v ?? null)).toEqual(['Oslo', null, 'Lima']);
    expect(t.getChild('y')!.toArray()).toEqual(Int32Array.from([1, 0, 1]));
    expect((r.result as { metrics: Record<string, number> }).metrics).toEqual({ rows: 3, positive_rate: 2 / 3 });
  });
});

describe('a table that does not fit fails naming the stage', () => {
  const saved = process.env.PIPE_TABLE_MAX_BYTES;
  afterEach(() => { if (saved === undefined) delete process.env.PIPE_TABLE_MAX_BYTES; else process.env.PIPE_TABLE_MAX_BYTES = saved; });

  it('over PIPE_TABLE_MAX_BYTES: the stage, the file, the rows/bytes and what to do', async () => {
    const g = await runStageDirect(generate, { params: { generator: 'health_risk', n: 2000 }, seed: 1 });
    process.env.PIPE_TABLE_MAX_BYTES = '20000'; // the 2,000-row table is ~72 kB
    const err = await runStageDirect(split, { params: { k: 5 }, inputs: { table: g.outputs.table! } }).then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(TableTooLargeError);
    expect(err!.message).toMatch(/^stage 'split' \(split\): the table does not fit in this process \(reading \S+table\.arrow: \d+ bytes — over PIPE_TABLE_MAX_BYTES = 20000 bytes\)\. Input tables: \S+ \d+ bytes\. What to do: give the process more memory/);
    // writing is checked too: generating a table over the limit
    await expect(runStageDirect(generate, { params: { generator: 'health_risk', n: 2000 }, seed: 1 })).rejects.toThrow(/^stage 'generate-synthetic' \(generate-synthetic\): the table does not fit in this process \(writing .*: 2,000 rows, \d+ bytes — over PIPE_TABLE_MAX_BYTES/);
  });

  it("the engine's own limits (a failed allocation, a stack overflow) are explained with the stage; other errors pass through", async () => {
    const stage = { id: 'split[fold=3]', kind: 'split', inputSizes: async () => [{ name: 'gen.table', bytes: 3 * 2 ** 30 }] };
    const alloc = (await explainSizeError(new RangeError('Array buffer allocation failed'), stage)) as Error;
    expect(alloc.message).toBe("stage 'split[fold=3]' (split): the table does not fit in this process (RangeError: Array buffer allocation failed). Input tables: gen.table 3.00 GiB. What to do: give the process more memory (free RAM; NODE_OPTIONS=--max-old-space-size for JS heap), use fewer rows or columns (sample, or split the data into several tables), or narrower types (float32 features).");
    const stack = (await explainSizeError(new RangeError('Maximum call stack size exceeded'), stage)) as Error;
    expect(stack.message).toMatch(/^stage 'split\[fold=3\]' \(split\): .*What to do: this is a bug \(a data-sized array spread into a call\)/);
    const big = Object.assign(new RangeError('File size (3221225472) is greater than 2 GiB'), { code: 'ERR_FS_FILE_TOO_LARGE' });
    expect(((await explainSizeError(big, stage)) as Error).message).toContain("stage 'split[fold=3]'");
    const other = new Error('fold 5 is out of range');
    expect(await explainSizeError(other, stage)).toBe(other);
  });
});

describe('the lint rule against data-sized spreads', () => {
  it('fires on push(...), Math.max(...) and String.fromCharCode(...) in a data file, not on loops; npm test runs it', async () => {
    const eslint = new ESLint({ cwd: repoRoot });
    const bad = [
      'export function f(rows: number[], part: number[], bytes: Uint8Array) {',
      '  rows.push(...part);',
      '  const top = Math.max(...rows);',
      '  return String.fromCharCode(...bytes) + top;',
      '}',
    ].join('\n');
    const [r] = await eslint.lintText(bad, { filePath: join(repoRoot, 'src/lib/splits.ts') });
    expect(r!.messages.map((m) => [m.line, m.ruleId])).toEqual([[2, 'no-restricted-syntax'], [3, 'no-restricted-syntax'], [4, 'no-restricted-syntax']]);
    expect(r!.messages[0]!.message).toMatch(/overflows the call stack/);
    const good = 'export function f(rows: number[], part: number[]) { for (const v of part) rows.push(v); return [...rows, 1].length; }\n';
    const [ok] = await eslint.lintText(good, { filePath: join(repoRoot, 'src/stages/split.ts') });
    expect(ok!.messages).toEqual([]);
    // every data kind is covered by the rule
    for (const f of ['generate-synthetic', 'load-csv', 'download-uci', 'encode', 'split', 'standardize', 'aggregate']) {
      const cfg = await eslint.calculateConfigForFile(join(repoRoot, `src/stages/${f}.ts`));
      expect(cfg?.rules?.['no-restricted-syntax']?.[0], f).toBe(2);
    }
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.scripts.test).toContain('npm run -s lint:spread');
    expect(pkg.scripts['lint:spread']).toBe('eslint src');
  });
});

