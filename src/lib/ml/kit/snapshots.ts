/**
 * The loop's snapshots (parameters or any named tensors, kept every N epochs/steps) and its
 * curves as table artifacts (Arrow IPC, src/lib/table.ts):
 *
 *  - `snapshotTable(snaps)`: one row per snapshot — `epoch` (−1 = before training), `step`, and
 *    one FixedSizeList<float32> column per named tensor (its flattened values); the shapes go
 *    into the schema metadata as `snapshot_shapes` (for GIFs, Fourier analyses, over-training
 *    plots: `pyarrow.feather.read_table(path)['W_out']`).
 *  - `curvesTable(rows)`: one row per epoch from flat records (`flatten` of loop.ts, or any
 *    rows with the same keys): `epoch` Int32, every other column Float64, columns in the order
 *    of the first row's keys, a key a row lacks is NaN.
 *
 * Every NaN is written as the one canonical NaN: arithmetic leaves NaNs with other bit patterns
 * (which a checkpoint's round trip does not keep), and a resumed run's table must be the bytes of
 * the uninterrupted run's.
 */
import { tableFromArrays } from 'apache-arrow';
import { fixedListVector, makeTable, numericVector, type Table } from '../../../sdk/table.js';
import type { Snapshot } from './loop.js';

/** The value, with any NaN as JavaScript's own (0x7ff8000000000000). */
const canonical = (v: number): number => (v !== v ? NaN : v);

export function snapshotTable(snaps: Snapshot[], shapes: Record<string, number[]> = {}): Table {
  if (!snaps.length) throw new Error('snapshotTable: no snapshots');
  const names = Object.keys(snaps[0]!.values);
  const cols: Record<string, ReturnType<typeof numericVector>> = {
    epoch: numericVector('int32', snaps.map((s) => s.epoch)),
    step: numericVector('int32', snaps.map((s) => s.step)),
  };
  const sizes: Record<string, number[]> = {};
  for (const name of names) {
    const w = snaps[0]!.values[name]!.length;
    const flat = new Float32Array(w * snaps.length);
    snaps.forEach((s, r) => {
      const v = s.values[name];
      if (!v || v.length !== w) throw new Error(`snapshot at step ${s.step}: '${name}' has ${v?.length ?? 0} values, the first snapshot ${w}`);
      for (let i = 0; i < w; i++) flat[r * w + i] = canonical(v[i]!);
    });
    cols[name] = fixedListVector(flat, w);
    sizes[name] = shapes[name] ?? [w];
  }
  return makeTable(cols, { snapshot_shapes: sizes });
}

export function curvesTable(rows: Record<string, number>[]): Table {
  const keys = Object.keys(rows[0] ?? { epoch: 0 });
  return tableFromArrays(Object.fromEntries(keys.map((k) =>
    [k, k === 'epoch' ? Int32Array.from(rows, (r) => r[k]!) : Float64Array.from(rows, (r) => canonical(r[k] ?? NaN))])));
}
