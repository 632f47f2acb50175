/**
 * The one table artifact format of pipe: Apache Arrow IPC *file* format (`.arrow`), readable by
 * pandas (`pyarrow.feather.read_table`), polars (`pl.read_ipc`) and DuckDB, with typed columns
 * and a schema (column types, plus key/value metadata).
 */
import { open, readFile, stat } from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';
import { TableTooLargeError, checkTableBytes, isSizeError } from './limits.js';

export { TableTooLargeError, explainSizeError, isSizeError, tableMaxBytes, withTableLimits } from './limits.js';
import {
  tableFromIPC, tableToIPC, Schema, RecordBatch, Table as ArrowTable, type Table, RecordBatchFileWriter, RecordBatchReader,
  makeData, makeVector, vectorFromArray, Field, FixedSizeList, Float32, Float64, Int32, Uint8, Utf8,
  DataType, Type, type Vector, Dictionary, Struct,
} from 'apache-arrow';

export type { Table } from 'apache-arrow';

/**
 * Reads a table artifact. Files up to Node's largest Buffer (4 GiB on Node 20) are read into one
 * buffer the columns then view (no copy; `readFile` alone stops at 2 GiB); larger files are
 * read record batch by record batch (each batch its own buffer). A file beyond
 * `PIPE_TABLE_MAX_BYTES` (default: no limit but the machine's) is a `TableTooLargeError`.
 */
export async function readTable(path: string): Promise<Table> {
  const { size } = await stat(path);
  checkTableBytes(`reading ${path}`, size);
  try {
    if (size < 2 ** 31 - 1) return tableFromIPC(await readFile(path));
    if (size <= bufferConstants.MAX_LENGTH) return tableFromIPC(await readWhole(path, size));
    return await readTableByBatches(path);
  } catch (e) {
    if (isSizeError(e)) throw TableTooLargeError.of(`reading ${path}`, size, null, e as Error);
    // by batches, a batch over Node's largest Buffer fails Buffer's own argument check
    if (size > bufferConstants.MAX_LENGTH && e instanceof RangeError) {
      throw TableTooLargeError.of(`reading ${path}`, size, null, new Error(`a record batch is larger than Node's largest Buffer (${bufferConstants.MAX_LENGTH} bytes): ${e.message}`));
    }
    throw new Error(`${path}: not a readable Arrow IPC table (${(e as Error).message})`);
  }
}

/** The whole file in one Buffer, read in 1 GiB pieces (no 2 GiB `readFile` limit). */
async function readWhole(path: string, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  const fh = await open(path, 'r');
  try {
    let at = 0;
    while (at < size) {
      const { bytesRead } = await fh.read(buf, at, Math.min(2 ** 30, size - at), at);
      if (bytesRead === 0) throw new Error(`${path}: ended at byte ${at} of ${size}`);
      at += bytesRead;
    }
  } finally { await fh.close(); }
  return buf;
}

/** A table read one record batch at a time from the file (memory: the batches, not the file). */
export async function readTableByBatches(path: string): Promise<Table> {
  const fh = await open(path, 'r');
  try {
    const reader = await RecordBatchReader.from(fh);
    const batches: RecordBatch[] = [];
    for await (const b of reader) batches.push(b);
    return new ArrowTable(reader.schema, batches);
  } finally { await fh.close(); }
}

/**
 * The Arrow IPC file bytes of a table — always the same bytes for the same logical table, so
 * content hashes (and the early cutoff of everything downstream) never depend on what else ran
 * in the process before. Arrow JS numbers dictionaries from a process-wide counter; here they are
 * renumbered 0, 1, … in field order. (Metadata keeps its insertion order; nothing is compressed.)
 */
export function tableToBytes(table: Table): Uint8Array {
  return tableToIPC(canonicalDictionaryIds(table), 'file');
}

/** The table with its dictionary fields numbered 0, 1, … in field order (top-level fields). */
export function canonicalDictionaryIds(table: Table): Table {
  const fields = table.schema.fields;
  if (!fields.some((f) => DataType.isDictionary(f.type))) return table;
  let next = 0;
  const types: DataType[] = fields.map((f) => {
    const t = f.type;
    return DataType.isDictionary(t) ? new Dictionary(t.dictionary, t.indices, next++, t.isOrdered) : t;
  });
  const schema = new Schema(fields.map((f, i) => new Field(f.name, types[i]!, f.nullable, f.metadata)), table.schema.metadata);
  const batches = table.batches.map((b) => {
    const children = b.data.children.map((d, i) => (types[i] === fields[i]!.type ? d : d.clone(types[i])));
    return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: b.numRows, nullCount: 0, children }));
  });
  return new ArrowTable(schema, batches);
}

/**
 * Writes `table` as an Arrow IPC file — the same bytes as `tableToBytes`, streamed piece by
 * piece (the writer hands out views of the column buffers), so writing costs no second copy of
 * the table. Over `PIPE_TABLE_MAX_BYTES` it is a `TableTooLargeError`.
 */
export async function writeTable(path: string, table: Table): Promise<void> {
  const bytes = table.batches.reduce((a, b) => a + b.data.byteLength, 0);
  checkTableBytes(`writing ${path}`, bytes, table.numRows);
  const writer = new RecordBatchFileWriter();
  writer.writeAll(canonicalDictionaryIds(table));
  const fh = await open(path, 'w');
  try {
    // small pieces (headers, padding) are gathered into one write; column buffers go as they are
    let pend: Uint8Array[] = [], pendBytes = 0;
    const put = async (b: Uint8Array) => {
      // one write(2) moves at most ~2 GiB: loop until the piece is out
      for (let at = 0; at < b.byteLength;) at += (await fh.write(b, at, Math.min(b.byteLength - at, 2 ** 30))).bytesWritten;
    };
    const flush = async () => {
      if (!pendBytes) return;
      await put(pend.length === 1 ? pend[0]! : Buffer.concat(pend, pendBytes));
      pend = []; pendBytes = 0;
    };
    for await (const chunk of writer) {
      if (chunk.byteLength >= 1 << 16) { await flush(); await put(chunk); }
      else { pend.push(chunk); pendBytes += chunk.byteLength; if (pendBytes >= 1 << 20) await flush(); }
    }
    await flush();
  } finally { await fh.close(); }
}

/**
 * Dataset conventions shared by data, training and analysis stages. Stored as JSON under the
 * schema metadata key `pipe` of a table artifact:
 *  - `target`:   name of the label column
 *  - `task`:     'classification' | 'regression'
 *  - `classes`:  class names in index order (classification; the target column holds the index)
 *  - `features`: feature column names in model-input order (default: every other column)
 *  - `dataset`:  free-form dataset name
 * After encode/standardize every feature column is Float32; the target is Int32 (class index)
 * or Float64 (regression).
 */
export interface TableMeta {
  target?: string;
  task?: 'classification' | 'regression';
  classes?: string[];
  features?: string[];
  dataset?: string;
  [k: string]: unknown;
}

export function tableMeta(table: Table): TableMeta {
  const raw = table.schema.metadata.get('pipe');
  return raw ? (JSON.parse(raw) as TableMeta) : {};
}

/** A table with the same columns and `meta` stored in its schema metadata (merged over the old). */
export function withMeta(table: Table, meta: TableMeta): Table {
  const merged = { ...tableMeta(table), ...meta };
  const md = new Map(table.schema.metadata);
  md.set('pipe', JSON.stringify(merged));
  const schema = new Schema(table.schema.fields, md);
  return new ArrowTable(schema, table.batches.map((b) => new RecordBatch(schema, b.data)));
}

export interface FeatureMatrix {
  /** Row-major n × d features. */
  X: Float32Array;
  n: number;
  d: number;
  featureNames: string[];
  /** Targets: class indices (classification) or values (regression); null if no target. */
  y: Float64Array | null;
  meta: TableMeta;
}

/** The float32 values of a one-column, one-chunk, null-free FixedSizeList feature matrix, or null. */
function viewOf(table: Table, names: string[], d: number): Float32Array | null {
  if (names.length !== 1) return null;
  const col = table.getChild(names[0]!);
  if (!col || col.type.typeId !== Type.FixedSizeList || col.data.length !== 1) return null;
  const data = col.data[0]!;
  const child = data.children[0]!;
  if (data.nullCount > 0 || child.nullCount > 0 || !(child.values instanceof Float32Array)) return null;
  const at = child.offset + data.offset * d;
  return child.values.subarray(at, at + data.length * d);
}

/**
 * Pulls the numeric feature matrix and target out of a table that follows the conventions.
 * A FixedSizeList feature column (e.g. MNIST `image`) contributes `listSize` features, named
 * `name[0]`, `name[1]`, ….
 *
 * `view: true` lets X share the table's memory when one float32 FixedSizeList column in one chunk
 * is the whole matrix (MNIST `image` as float32): no copy, so the caller must not write to X.
 */
export function featureMatrix(table: Table, opts: { view?: boolean } = {}): FeatureMatrix {
  const meta = tableMeta(table);
  const names = featureNames(table);
  const n = table.numRows;
  const widths = names.map((name) => {
    const col = table.getChild(name);
    if (!col) throw new Error(`feature column '${name}' not in table`);
    return col.type.typeId === Type.FixedSizeList ? (col.type as FixedSizeList).listSize : 1;
  });
  const d = widths.reduce((a, b) => a + b, 0);
  const view = opts.view ? viewOf(table, names, d) : null;
  const shared = view !== null;
  const X = view ?? new Float32Array(n * d);
  const outNames: string[] = [];
  let j0 = 0;
  names.forEach((name, c) => {
    const col = table.getChild(name)!;
    const w = widths[c]!;
    if (col.type.typeId === Type.FixedSizeList) {
      for (let k = 0; k < w; k++) outNames.push(`${name}[${k}]`);
      if (shared) return;
      let i = 0;
      for (const data of col.data) {
        const child = data.children[0]!;
        const vals = child.values as ArrayLike<number>;
        const typed = ArrayBuffer.isView(vals) ? (vals as Float32Array) : null;
        for (let r = 0; r < data.length; r++, i++) {
          if (data.nullCount > 0 && !data.getValid(r)) throw new Error(`feature column '${name}' has a missing value at row ${i}`);
          const at = child.offset + (data.offset + r) * w;
          if (typed) X.set(typed.subarray(at, at + w), i * d + j0);
          else for (let k = 0; k < w; k++) X[i * d + j0 + k] = vals[at + k]!;
        }
      }
    } else {
      outNames.push(name);
      let i = 0;
      for (const v of col) {
        if (v === null || v === undefined) throw new Error(`feature column '${name}' has a missing value at row ${i}`);
        X[i * d + j0] = Number(v);
        i++;
      }
    }
    j0 += w;
  });
  let y: Float64Array | null = null;
  if (meta.target) {
    const col = table.getChild(meta.target);
    if (!col) throw new Error(`target column '${meta.target}' not in table`);
    y = new Float64Array(n);
    let i = 0;
    for (const v of col) y[i++] = Number(v);
  }
  return { X, n, d, featureNames: outNames, y, meta };
}

/* ------------------------------------------------------------------------------------------
 * Building, reading and slicing tables (added for the data stages; used by any stage).
 * ---------------------------------------------------------------------------------------- */


/** Name of the column `split` adds: each row's index in the table that was split. */
export const ROW_COLUMN = '_row';

export type NumericKind = 'float32' | 'float64' | 'int32' | 'uint8';

const CTOR = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array } as const;
const ARROW_TYPE = { float32: () => new Float32(), float64: () => new Float64(), int32: () => new Int32(), uint8: () => new Uint8() };

function packValidity(valid: ArrayLike<number | boolean>, n: number): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i]) bitmap[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return { bitmap, nulls };
}

/**
 * A numeric column. `valid` (optional, one entry per row, truthy = present) marks nulls;
 * without it every value is present.
 */
export function numericVector(kind: NumericKind, values: ArrayLike<number>, valid?: ArrayLike<number | boolean> | null): Vector {
  const n = values.length;
  const data = values instanceof CTOR[kind] ? (values as InstanceType<(typeof CTOR)[NumericKind]>) : CTOR[kind].from(values);
  if (!valid) return makeVector(makeData({ type: ARROW_TYPE[kind](), length: n, nullCount: 0, data } as never));
  const { bitmap, nulls } = packValidity(valid, n);
  return makeVector(makeData({ type: ARROW_TYPE[kind](), length: n, nullCount: nulls, nullBitmap: nulls ? bitmap : undefined, data } as never));
}

/** A UTF-8 string column (null = missing). */
export function stringVector(values: (string | null)[]): Vector {
  return vectorFromArray(values, new Utf8());
}

/**
 * A dictionary-encoded string column (Dictionary<Utf8, Int32>) from per-row codes into `levels`
 * (code −1 = missing): one Int32 per row instead of one JS string per row. Codes are used as
 * given (no re-sorting), so the same codes and levels give the same bytes.
 */
export function dictionaryVector(codes: Int32Array, levels: string[] | Vector): Vector {
  const n = codes.length;
  let nulls = 0;
  for (let i = 0; i < n; i++) if (codes[i]! < 0) nulls++;
  let bitmap: Uint8Array | undefined;
  if (nulls) {
    bitmap = new Uint8Array(Math.ceil(n / 8));
    for (let i = 0; i < n; i++) if (codes[i]! >= 0) bitmap[i >> 3]! |= 1 << (i & 7);
  }
  const dict = Array.isArray(levels) ? vectorFromArray(levels, new Utf8()) : levels; // a shared dictionary (chunks of one column)
  const type = new Dictionary(new Utf8(), new Int32());
  return makeVector(makeData({ type, length: n, nullCount: nulls, nullBitmap: bitmap, data: codes, dictionary: dict } as never));
}

/** A FixedSizeList<uint8|float32>[width] column (e.g. flattened images), row-major values. */
export function fixedListVector(values: Uint8Array | Float32Array, width: number): Vector {
  const n = values.length / width;
  if (!Number.isInteger(n)) throw new Error(`fixedListVector: ${values.length} values are not a multiple of width ${width}`);
  const itemType = values instanceof Uint8Array ? new Uint8() : new Float32();
  const child = makeData({ type: itemType, length: values.length, nullCount: 0, data: values } as never);
  return makeVector(makeData({ type: new FixedSizeList(width, new Field('item', itemType, false)), length: n, nullCount: 0, child } as never));
}

/** A table from named columns (in order), with `meta` stored in the schema metadata. */
export function makeTable(columns: Record<string, Vector>, meta?: TableMeta): Table {
  const t = new ArrowTable(columns);
  return meta ? withMeta(t, meta) : t;
}

/** Is the column numeric (ints or floats)? */
export function isNumericType(type: DataType): boolean {
  return type.typeId === Type.Int || type.typeId === Type.Float;
}

export function isStringType(type: DataType): boolean {
  return type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8 || (type.typeId === Type.Dictionary);
}

/**
 * A numeric column as float64 values; missing values are NaN and flagged in `valid`
 * (`valid` is null when the column has no nulls).
 */
export function numericColumn(table: Table, name: string): { values: Float64Array; valid: Uint8Array | null } {
  const col = table.getChild(name);
  if (!col) throw new Error(`column '${name}' not in table`);
  if (!isNumericType(col.type)) throw new Error(`column '${name}' is ${String(col.type)}, not numeric`);
  const n = table.numRows;
  const values = new Float64Array(n);
  let valid: Uint8Array | null = null;
  let i = 0;
  for (const d of col.data) {
    const arr = d.values as ArrayLike<number | bigint>;
    const big = typeof arr[0] === 'bigint';
    for (let r = 0; r < d.length; r++, i++) {
      if (d.nullCount > 0 && !d.getValid(r)) {
        valid ??= new Uint8Array(n).fill(1);
        valid[i] = 0;
        values[i] = NaN;
      } else {
        const v = arr[d.offset + r]!;
        values[i] = big ? Number(v) : (v as number);
      }
    }
  }
  return { values, valid };
}

/** A string (or dictionary) column as JS strings, null for missing. */
export function stringColumn(table: Table, name: string): (string | null)[] {
  const col = table.getChild(name);
  if (!col) throw new Error(`column '${name}' not in table`);
  const out: (string | null)[] = new Array(table.numRows);
  let i = 0;
  for (const v of col) out[i++] = v === null || v === undefined ? null : String(v);
  return out;
}

/**
 * A categorical column as per-row codes into `levels` (first-appearance order; −1 = missing):
 * dictionary columns are read through their indices (no per-row strings), other columns are
 * interned value by value (`String(v)`). One Int32 per row instead of one JS string per row.
 */
export function categoryCodes(table: Table, name: string): { codes: Int32Array; levels: string[] } {
  const col = table.getChild(name);
  if (!col) throw new Error(`column '${name}' not in table`);
  const codes = new Int32Array(table.numRows);
  const levels: string[] = [];
  const index = new Map<string, number>();
  const intern = (v: unknown) => {
    const s = String(v);
    let j = index.get(s);
    if (j === undefined) { j = levels.length; levels.push(s); index.set(s, j); }
    return j;
  };
  let i = 0;
  for (const d of col.data) {
    if (DataType.isDictionary(d.type) && d.dictionary) {
      const dict = d.dictionary;
      const map = new Int32Array(dict.length).fill(-2);
      const keys = d.values as ArrayLike<number | bigint>;
      for (let r = 0; r < d.length; r++, i++) {
        if (d.nullCount > 0 && !d.getValid(r)) { codes[i] = -1; continue; }
        const k = Number(keys[d.offset + r]!);
        if (map[k] === -2) { const v = dict.get(k); map[k] = v === null || v === undefined ? -1 : intern(v); }
        codes[i] = map[k]!;
      }
    } else {
      const chunk = makeVector(d);
      for (let r = 0; r < d.length; r++, i++) {
        const v = chunk.get(r);
        codes[i] = v === null || v === undefined ? -1 : intern(v);
      }
    }
  }
  return { codes, levels };
}

/** The rows `indices` (in that order) of `table`; schema, column types and metadata kept. */
export function takeRows(table: Table, indices: ArrayLike<number>): Table {
  const n = indices.length;
  const cols: Vector[] = [];
  for (const field of table.schema.fields) {
    const col = table.getChild(field.name)!;
    const t = field.type;
    if (isNumericType(t) && col.data.every((d) => d.values && !(d.values instanceof BigInt64Array) && !(d.values instanceof BigUint64Array))) {
      // gather from the (possibly chunked) typed arrays
      const Ctor = (col.data[0]?.values?.constructor ?? Float64Array) as { new (n: number): Float64Array };
      const out = new Ctor(n);
      const rowsIn = table.numRows;
      if (col.data.length === 1 && col.nullCount === 0) {
        // one chunk, no nulls (the usual case): a plain gather
        const d = col.data[0]!;
        const src = (d.values as Float64Array).subarray(d.offset, d.offset + d.length);
        for (let k = 0; k < n; k++) {
          const i = indices[k]!;
          if (!(i >= 0 && i < rowsIn)) throw new Error(`takeRows: row ${i} out of range (table has ${rowsIn} rows)`);
          out[k] = src[i]!;
        }
        cols.push(makeVector(makeData({ type: t, length: n, nullCount: 0, data: out } as never)));
        continue;
      }
      const starts: number[] = [];
      let s = 0;
      for (const d of col.data) { starts.push(s); s += d.length; }
      const nullable = col.nullCount > 0;
      const valid = nullable ? new Uint8Array(n) : null;
      let chunk = 0;
      for (let k = 0; k < n; k++) {
        const i = indices[k]!;
        if (i < 0 || i >= table.numRows) throw new Error(`takeRows: row ${i} out of range (table has ${table.numRows} rows)`);
        if (i < starts[chunk]! || i >= starts[chunk]! + col.data[chunk]!.length) {
          chunk = 0;
          while (i >= starts[chunk]! + col.data[chunk]!.length) chunk++;
        }
        const d = col.data[chunk]!;
        const r = i - starts[chunk]!;
        out[k] = (d.values as Float64Array)[d.offset + r]!;
        if (valid) valid[k] = d.getValid(r) ? 1 : 0;
      }
      const { bitmap, nulls } = valid ? packValidity(valid, n) : { bitmap: undefined, nulls: 0 };
      cols.push(makeVector(makeData({ type: t, length: n, nullCount: nulls, nullBitmap: nulls ? bitmap : undefined, data: out } as never)));
    } else if (t.typeId === Type.FixedSizeList && col.nullCount === 0 && isNumericType((t as FixedSizeList).children[0]!.type)) {
      const w = (t as FixedSizeList).listSize;
      const first = col.data[0]?.children[0]?.values as Uint8Array | undefined;
      const Ctor = (first?.constructor ?? Uint8Array) as { new (n: number): Uint8Array };
      const out = new Ctor(n * w);
      const starts: number[] = [];
      let s = 0;
      for (const d of col.data) { starts.push(s); s += d.length; }
      for (let k = 0; k < n; k++) {
        const i = indices[k]!;
        if (i < 0 || i >= table.numRows) throw new Error(`takeRows: row ${i} out of range (table has ${table.numRows} rows)`);
        let chunk = 0;
        while (i >= starts[chunk]! + col.data[chunk]!.length) chunk++;
        const d = col.data[chunk]!;
        const child = d.children[0]!;
        const at = child.offset + (d.offset + i - starts[chunk]!) * w;
        out.set((child.values as Uint8Array).subarray(at, at + w), k * w);
      }
      const child = makeData({ type: (t as FixedSizeList).children[0]!.type, length: n * w, nullCount: 0, data: out } as never);
      cols.push(makeVector(makeData({ type: t, length: n, nullCount: 0, child } as never)));
    } else {
      const vals = new Array(n);
      for (let k = 0; k < n; k++) {
        const i = indices[k]!;
        if (i < 0 || i >= table.numRows) throw new Error(`takeRows: row ${i} out of range (table has ${table.numRows} rows)`);
        vals[k] = col.get(i);
      }
      cols.push(vectorFromArray(vals, t));
    }
  }
  const built = new ArrowTable(Object.fromEntries(table.schema.fields.map((f, j) => [f.name, cols[j]!])));
  const schema = new Schema(table.schema.fields, new Map(table.schema.metadata));
  return new ArrowTable(schema, built.batches.map((b) => new RecordBatch(schema, b.data)));
}

/** The feature names `featureMatrix` uses: meta.features, else every column but the target and `_row`. */
export function featureNames(table: Table): string[] {
  const meta = tableMeta(table);
  return meta.features ?? table.schema.fields.map((f) => f.name).filter((n) => n !== meta.target && n !== ROW_COLUMN);
}

/** `table` with `vector` appended as column `name` (replacing a column of that name); metadata kept. */
export function withColumn(table: Table, name: string, vector: Vector): Table {
  if (vector.length !== table.numRows) throw new Error(`withColumn: column '${name}' has ${vector.length} rows, table has ${table.numRows}`);
  const cols: Record<string, Vector> = {};
  for (const f of table.schema.fields) if (f.name !== name) cols[f.name] = table.getChild(f.name)!;
  cols[name] = vector;
  const t = new ArrowTable(cols);
  const schema = new Schema(t.schema.fields, new Map(table.schema.metadata));
  return new ArrowTable(schema, t.batches.map((b) => new RecordBatch(schema, b.data)));
}

/** Rows (indices) where every one of `columns` is non-null. */
export function completeRows(table: Table, columns: string[]): Int32Array {
  const n = table.numRows;
  const ok = new Uint8Array(n).fill(1);
  for (const name of columns) {
    const col = table.getChild(name);
    if (!col) throw new Error(`column '${name}' not in table`);
    if (col.nullCount === 0) continue;
    let i = 0;
    for (const d of col.data) for (let r = 0; r < d.length; r++, i++) if (!d.getValid(r)) ok[i] = 0;
  }
  let m = 0;
  for (let i = 0; i < n; i++) m += ok[i]!;
  const out = new Int32Array(m);
  for (let i = 0, k = 0; i < n; i++) if (ok[i]) out[k++] = i;
  return out;
}

/**
 * A numeric column as Int32 values (e.g. class indices), `missing` where null — read chunk by
 * chunk from the column buffers (no per-row boxing, no Float64 detour).
 */
export function intColumn(table: Table, name: string, missing = -1): Int32Array {
  const col = table.getChild(name);
  if (!col) throw new Error(`column '${name}' not in table`);
  if (!isNumericType(col.type)) throw new Error(`column '${name}' is ${String(col.type)}, not numeric`);
  const out = new Int32Array(table.numRows);
  let i = 0;
  for (const d of col.data) {
    const arr = d.values as ArrayLike<number | bigint>;
    const big = typeof arr[0] === 'bigint';
    for (let r = 0; r < d.length; r++, i++) {
      if (d.nullCount > 0 && !d.getValid(r)) out[i] = missing;
      else out[i] = big ? Number(arr[d.offset + r]!) : (arr[d.offset + r] as number);
    }
  }
  return out;
}

/** The typed arrays a numeric Arrow column (other than 64-bit integers) keeps its values in. */
export type NumericArray = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;

/**
 * A numeric column's values, READ-ONLY: a view of the column's own buffer when it is one chunk
 * without nulls (no copy; the column's own type, e.g. Float32Array), else a Float64 copy.
 * Missing values are an error naming the row (use `numericColumn` to handle them).
 */
export function numericValues(table: Table, name: string): NumericArray {
  const col = table.getChild(name);
  if (!col) throw new Error(`column '${name}' not in table`);
  if (!isNumericType(col.type)) throw new Error(`column '${name}' is ${String(col.type)}, not numeric`);
  const v = col.data[0]?.values;
  if (col.data.length === 1 && col.nullCount === 0 && ArrayBuffer.isView(v) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array)) {
    const d = col.data[0]!;
    return (v as NumericArray).subarray(d.offset, d.offset + d.length);
  }
  const { values, valid } = numericColumn(table, name);
  if (valid) throw new Error(`column '${name}' has a missing value at row ${valid.indexOf(0)}`);
  return values;
}
