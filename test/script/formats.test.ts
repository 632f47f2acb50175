/**
 * Table formats at the boundary: Arrow → CSV / NPY / NPZ / Parquet → Arrow round trips give the
 * same values (same types where the format keeps them), and the files are what other tools read
 * and write: NumPy (/usr/bin/python3) loads pipe's .npy/.npz/.csv and writes arrays pipe reads;
 * Polars (its Rust Parquet reader and writer) reads pipe's Parquet and writes Parquet pipe reads.
 */
import { havePython } from '../helpers/requires.js';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bool, Float32, Float64, Int32, Int64, Utf8, vectorFromArray, Table } from 'apache-arrow';
import { readTableAs, writeTableAs, TABLE_FORMATS, type TableFormat } from '../../src/lib/formats/index.js';
import { withMeta, tableMeta } from '../../src/sdk/table.js';

const PY = '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'pipe-formats-'));

function sample(): Table {
  return withMeta(new Table({
    f32: vectorFromArray([0.1, -2.5, 3.25, 1e-7, 0], new Float32()),
    f64: vectorFromArray([Math.PI, -1 / 3, 1e300, 5e-324, 0], new Float64()),
    i32: vectorFromArray([1, -2, 2147483647, -2147483648, 0], new Int32()),
    flag: vectorFromArray([true, false, true, true, false], new Bool()),
  }), { target: 'i32', task: 'regression', features: ['f32', 'f64'] });
}

function values(t: Table, name: string): unknown[] {
  const v = t.getChild(name)!;
  return Array.from({ length: t.numRows }, (_, i) => { const x = v.get(i); return typeof x === 'bigint' ? Number(x) : x; });
}

describe('round trips', () => {
  for (const f of TABLE_FORMATS.filter((x) => x !== 'npy')) {
    it(`arrow → ${f} → arrow keeps every column's values`, async () => {
      const t = sample();
      const p = join(dir, `rt.${f}`);
      await writeTableAs(p, t, f as TableFormat);
      const back = await readTableAs(p, f as TableFormat);
      expect(back.schema.fields.map((x) => x.name)).toEqual(['f32', 'f64', 'i32', 'flag']);
      for (const c of ['f32', 'f64', 'i32', 'flag']) expect(values(back, c), `${f} ${c}`).toEqual(values(t, c));
      if (f !== 'csv') {
        expect(back.schema.fields.map((x) => String(x.type))).toEqual(t.schema.fields.map((x) => String(x.type)));
      }
      if (f === 'parquet' || f === 'arrow') expect(tableMeta(back)).toEqual(tableMeta(t));
    });
  }

  it('arrow → npy → arrow: one float64 matrix in column order', async () => {
    const t = sample();
    const p = join(dir, 'rt.npy');
    await writeTableAs(p, t, 'npy');
    const back = await readTableAs(p, 'npy');
    expect(back.schema.fields.map((x) => x.name)).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(values(back, 'c0')).toEqual(values(t, 'f32'));
    expect(values(back, 'c2')).toEqual(values(t, 'i32'));
    expect(values(back, 'c3')).toEqual([1, 0, 1, 1, 0]);
  });

  it('strings and nulls survive CSV and Parquet; NumPy formats refuse strings naming the column', async () => {
    const t = new Table({ name: vectorFromArray(['a', 'b,c', null, 'say "hi"'], new Utf8()), x: vectorFromArray([1.5, null, 3, 4], new Float64()) });
    for (const f of ['csv', 'parquet'] as const) {
      const p = join(dir, `s.${f}`);
      await writeTableAs(p, t, f);
      const back = await readTableAs(p, f);
      expect(values(back, 'name')).toEqual(['a', 'b,c', null, 'say "hi"']);
      expect(values(back, 'x')).toEqual([1.5, null, 3, 4]);
    }
    await expect(writeTableAs(join(dir, 's.npz'), t, 'npz')).rejects.toThrow(/column 'name' is Utf8/);
  });

  it('a file that is not what its format says is an error saying so', async () => {
    const p = join(dir, 'junk.bin');
    writeFileSync(p, 'hello,world\n1,2\n');
    await expect(readTableAs(p, 'arrow')).rejects.toThrow(/not an Arrow IPC file/);
    await expect(readTableAs(p, 'npz')).rejects.toThrow(/not an .npz/);
    await expect(readTableAs(p, 'npy')).rejects.toThrow(/not a .npy file/);
    await expect(readTableAs(p, 'parquet')).rejects.toThrow(/not a Parquet file/);
  });
});

describe('other tools read and write the files', () => {
  it.skipIf(!havePython('numpy', 'python3-numpy', 'test/script/formats: NumPy reads pipe\'s files'))('NumPy reads pipe\'s npz, npy and csv; pipe reads what NumPy writes', async () => {
    const t = sample();
    await writeTableAs(join(dir, 'n.npz'), t, 'npz');
    await writeTableAs(join(dir, 'n.npy'), t, 'npy');
    await writeTableAs(join(dir, 'n.csv'), t, 'csv');
    const out = execFileSync(PY, ['-c', `
import numpy as np, json, csv
z = np.load('${dir}/n.npz')
m = np.load('${dir}/n.npy')
rows = list(csv.DictReader(open('${dir}/n.csv')))
print(json.dumps({'dtypes': {k: str(z[k].dtype) for k in z.files}, 'f64': z['f64'].tolist(), 'shape': list(m.shape), 'm02': float(m[0, 2]), 'csv_f32': [float(r['f32']) for r in rows]}))
np.savez_compressed('${dir}/from_np.npz', a=np.arange(4, dtype=np.int64), b=np.array([0.5, 1.5, 2.5, 3.5], dtype=np.float32))
np.save('${dir}/from_np.npy', np.asfortranarray(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])))
assert b'True' in open('${dir}/from_np.npy', 'rb').read(128)
`], { encoding: 'utf8' });
    const r = JSON.parse(out);
    expect(r.dtypes).toEqual({ f32: 'float32', f64: 'float64', i32: 'int32', flag: 'bool' });
    expect(r.f64).toEqual(values(t, 'f64'));
    expect(r.shape).toEqual([5, 4]);
    expect(r.m02).toBe(1);
    expect(r.csv_f32.map(Math.fround)).toEqual(values(t, 'f32'));
    const z = await readTableAs(join(dir, 'from_np.npz'), 'npz');
    expect(values(z, 'a')).toEqual([0, 1, 2, 3]);
    expect(String(z.schema.fields[0]!.type)).toBe('Int64');
    expect(values(z, 'b')).toEqual([0.5, 1.5, 2.5, 3.5]);
    const m = await readTableAs(join(dir, 'from_np.npy'), 'npy');
    expect(values(m, 'c0')).toEqual([1, 3, 5]);
    expect(values(m, 'c1')).toEqual([2, 4, 6]);
  });

  it('Polars reads pipe\'s Parquet and pipe reads Polars\' Parquet', async () => {
    const pl = (await import('nodejs-polars')).default;
    const t = sample();
    await writeTableAs(join(dir, 'p.parquet'), t, 'parquet');
    const df = pl.readParquet(join(dir, 'p.parquet'));
    expect(df.columns).toEqual(['f32', 'f64', 'i32', 'flag']);
    expect(df.getColumn('f64').toArray()).toEqual(values(t, 'f64'));
    expect(df.getColumn('i32').toArray()).toEqual(values(t, 'i32'));
    const df2 = pl.DataFrame({ k: ['x', 'y', 'z'], v: [1.25, 2.5, null] });
    df2.writeParquet(join(dir, 'polars.parquet'));
    const back = await readTableAs(join(dir, 'polars.parquet'), 'parquet');
    expect(values(back, 'k')).toEqual(['x', 'y', 'z']);
    expect(values(back, 'v')).toEqual([1.25, 2.5, null]);
  });
});
