/**
 * Table artifacts are readable outside pipe: pyarrow reads and fully validates them (column
 * types, metadata). Runs when a Python with pyarrow is available ($PIPE_PYARROW_PYTHON, else
 * python3); skipped otherwise.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runStageDirect } from '../../src/engine/context.js';
import gen from '../../src/stages/generate-synthetic.js';
import encode from '../../src/stages/encode.js';
import { fixedListVector, makeTable, numericVector, stringVector, writeTable } from '../../src/lib/table.js';
import { tmp, useScratchTmp } from './helpers.js';

const python = process.env.PIPE_PYARROW_PYTHON ?? 'python3';
const hasPyarrow = spawnSync(python, ['-c', 'import pyarrow'], { stdio: 'ignore' }).status === 0;

const SCRIPT = `
import sys, json, pyarrow.feather as f
out = []
for p in sys.argv[1:]:
    t = f.read_table(p)
    t.validate(full=True)
    out.append({"rows": t.num_rows, "types": {fl.name: str(fl.type) for fl in t.schema}, "meta": json.loads(t.schema.metadata[b"pipe"]),
                "first": {c: t.column(c)[0].as_py() if t.num_rows else None for c in t.column_names}})
print(json.dumps(out))
`;

useScratchTmp();

describe.skipIf(!hasPyarrow)('pyarrow reads pipe tables', () => {
  it('numeric, string-with-nulls, fixed-size-list and empty tables keep types, values and metadata', async () => {
    const dir = await tmp();
    const t1 = makeTable({
      x: numericVector('float32', [1.5, 2]), n: numericVector('int32', [3, 0], [1, 0]), s: stringVector(['a', null]),
      img: fixedListVector(new Uint8Array([0, 255, 7, 8]), 2), y: numericVector('int32', [1, 0]),
    }, { target: 'y', task: 'classification', classes: ['no', 'yes'] });
    await writeTable(join(dir, 't1.arrow'), t1);
    const g = await runStageDirect(gen, { params: { generator: 'synthetic_2d', per_cluster: 10 } });
    const t2 = makeTable({ x: numericVector('float32', [1.5, 2]), n: numericVector('int32', [3, 0], [1, 0]), s: stringVector(['a', null]), y: numericVector('int32', [1, 0]) }, { target: 'y', task: 'classification', classes: ['no', 'yes'] });
    await writeTable(join(dir, 't2.arrow'), t2);
    const e = await runStageDirect(encode, { inputs: { train: join(dir, 't2.arrow') }, params: { missing: 'impute' } });
    const res = spawnSync(python, ['-c', SCRIPT, join(dir, 't1.arrow'), g.outputs.table!, e.outputs.train!, e.outputs.test!], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    const [a, b, c, d] = JSON.parse(res.stdout);
    expect(a.types).toEqual({ x: 'float', n: 'int32', s: 'string', img: 'fixed_size_list<item: uint8 not null>[2]', y: 'int32' });
    expect(a.first).toEqual({ x: 1.5, n: 3, s: 'a', img: [0, 255], y: 1 });
    expect(a.meta).toEqual({ target: 'y', task: 'classification', classes: ['no', 'yes'] });
    expect(b.rows).toBe(80);
    expect(b.types).toEqual({ x: 'double', y: 'double', cluster: 'int32' });
    expect(c.types['s=a']).toBe('float');
    expect(c.meta.features).toEqual(['x', 'n', 's=a']);
    expect(d.rows).toBe(0);
  });
});
