/**
 * Table artifacts are readable outside pipe: Polars (its Rust Arrow IPC reader, through the
 * nodejs-polars binding — a different implementation from the apache-arrow JS writer pipe uses)
 * reads them with the same column types, values and nulls. nodejs-polars is a devDependency with
 * its binary inside the npm package, so this runs everywhere `npm ci` ran — on CI it cannot skip.
 */
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStageDirect } from '../../src/engine/exec/context.js';
import gen from '../../src/stages/generate-synthetic.js';
import encode from '../../src/stages/encode.js';
import { fixedListVector, makeTable, numericVector, stringVector, writeTable } from '../../src/sdk/table.js';
import { tmp, useScratchTmp } from './helpers.js';

const pl = createRequire(import.meta.url)('nodejs-polars');

/** Column name → Polars dtype, as Polars prints it. */
function dtypes(df: any): Record<string, string> {
  return Object.fromEntries(df.columns.map((c: string) => [c, String(df.getColumn(c).dtype).replace(/DataType\((\w+)\)/g, '$1')]));
}

function read(path: string): any {
  return pl.readIPC(readFileSync(path));
}

useScratchTmp();

describe('Polars (Rust Arrow IPC reader) reads pipe tables', () => {
  it('numeric, string-with-nulls, fixed-size-list and empty tables keep types and values', async () => {
    const dir = await tmp();
    const t1 = makeTable({
      x: numericVector('float32', [1.5, 2]), n: numericVector('int32', [3, 0], [1, 0]), s: stringVector(['a', null]),
      img: fixedListVector(new Uint8Array([0, 255, 7, 8]), 2), y: numericVector('int32', [1, 0]),
    }, { target: 'y', task: 'classification', classes: ['no', 'yes'] });
    await writeTable(join(dir, 't1.arrow'), t1);
    const a = read(join(dir, 't1.arrow'));
    expect(a.height).toBe(2);
    expect(dtypes(a)).toEqual({ x: 'Float32', n: 'Int32', s: 'String', img: 'DataType(FixedSizeList(UInt8,2))', y: 'Int32' });
    expect(a.getColumn('x').toArray()).toEqual([1.5, 2]);
    expect(a.getColumn('n').toArray()).toEqual([3, null]);
    expect(a.getColumn('s').toArray()).toEqual(['a', null]);
    expect(a.getColumn('y').toArray()).toEqual([1, 0]);
    expect(a.getColumn('img').toArray().map((v: any) => Array.from(v.toArray ? v.toArray() : v))).toEqual([[0, 255], [7, 8]]);

    // tables written by stages
    const g = await runStageDirect(gen, { params: { generator: 'synthetic_2d', per_cluster: 10 } });
    const b = read(g.outputs.table!);
    expect(b.height).toBe(80);
    expect(dtypes(b)).toEqual({ x: 'Float64', y: 'Float64', cluster: 'Int32' });

    const t2 = makeTable({ x: numericVector('float32', [1.5, 2]), n: numericVector('int32', [3, 0], [1, 0]), s: stringVector(['a', null]), y: numericVector('int32', [1, 0]) }, { target: 'y', task: 'classification', classes: ['no', 'yes'] });
    await writeTable(join(dir, 't2.arrow'), t2);
    const e = await runStageDirect(encode, { inputs: { train: join(dir, 't2.arrow') }, params: { missing: 'impute' } });
    const c = read(e.outputs.train!);
    expect(dtypes(c)['s=a']).toBe('Float32');
    expect(c.getColumn('s=a').toArray()).toEqual([1, 1]); // the missing s is imputed with the mode 'a'
    const d = read(e.outputs.test!);
    expect(d.height).toBe(0);
    expect(d.columns).toEqual(c.columns);
  });
});
