/**
 * Table formats at the boundary of script stages. pipe's tables are Arrow IPC files
 * (src/lib/table.ts); a script may ask for its table inputs as CSV, NumPy `.npy` / `.npz` or
 * Parquet and write its table outputs in any of these (or Arrow), and pipe converts:
 *
 *  - `csv`     RFC 4180, a header row of column names; null = empty cell. Reading infers each
 *              column's type: all integers in int32 range → Int32, all numbers → Float64,
 *              all `true`/`false` → Bool, else Utf8 (csv-parse).
 *  - `npz`     one 1-D array per column, named after it (`np.load(p)['x1']`); numeric and boolean
 *              columns only. Reading takes every 1-D array of the archive as a column
 *              (np.savez or np.savez_compressed; fflate unzips).
 *  - `npy`     one 2-D float64 array, rows × numeric columns, in the column order the manifest
 *              lists (`columns`). Reading: a 2-D array (n, k) → columns c0 … c{k-1}; a 1-D array
 *              → one column named after the output.
 *  - `parquet` hyparquet (read) and hyparquet-writer (write), typed columns; pipe's dataset
 *              conventions travel in the key/value metadata under `pipe`, as in Arrow.
 *  - `arrow`   Arrow IPC file (the store's own format).
 *
 * Conversion never guesses silently: a column a format cannot hold, or a file that is not what
 * its format says, is an error naming the column or the file and what was expected.
 */
import { readFile, writeFile } from 'node:fs/promises';
import {
  Bool, Float32, Float64, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Table as ArrowTable,
  Type, Utf8, makeData, makeVector, tableFromIPC, vectorFromArray, type DataType, type Table, type Vector,
} from 'apache-arrow';
import { tableToBytes, withMeta, type TableMeta } from '../../sdk/table.js';
import { npyBytes, type NpyArray } from '../npz.js';

export const TABLE_FORMATS = ['arrow', 'csv', 'npy', 'npz', 'parquet'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];
export const isTableFormat = (s: unknown): s is TableFormat => typeof s === 'string' && (TABLE_FORMATS as readonly string[]).includes(s);
export const FORMAT_EXT: Record<TableFormat, string> = { arrow: '.arrow', csv: '.csv', npy: '.npy', npz: '.npz', parquet: '.parquet' };

// ---- Arrow → other formats ---------------------------------------------------------------------

type Col = { name: string; type: DataType; get(i: number): unknown; n: number };

function columns(t: Table): Col[] {
  return t.schema.fields.map((f) => {
    const v = t.getChild(f.name)!;
    return { name: f.name, type: f.type, get: (i: number) => v.get(i), n: t.numRows };
  });
}

const isNumeric = (t: DataType) => t.typeId === Type.Int || t.typeId === Type.Float;
const isStringy = (t: DataType): boolean => t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8 || (t.typeId === Type.Dictionary && isStringy((t as any).dictionary));

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  const s = String(v);
  return /[",\n\r]/.test(s) || s === '' ? `"${s.replace(/"/g, '""')}"` : s;
}

export function tableToCsv(t: Table): string {
  const cols = columns(t);
  for (const c of cols) {
    if (!isNumeric(c.type) && !isStringy(c.type) && c.type.typeId !== Type.Bool) throw new Error(`column '${c.name}' is ${c.type}: CSV holds numbers, strings and booleans only`);
  }
  const lines = [cols.map((c) => csvCell(c.name)).join(',')];
  for (let i = 0; i < t.numRows; i++) lines.push(cols.map((c) => csvCell(c.get(i))).join(','));
  return lines.join('\n') + '\n';
}

function numericArray(c: Col): NpyArray['data'] | BigInt64Array | Uint8Array {
  const v = c.type;
  if (v.typeId === Type.Float) {
    const out = (v as Float32).precision === 1 ? new Float32Array(c.n) : new Float64Array(c.n);
    for (let i = 0; i < c.n; i++) { const x = c.get(i); out[i] = x === null ? NaN : Number(x); }
    return out;
  }
  if (v.typeId === Type.Int) {
    const bits: number = (v as Int32).bitWidth;
    if (bits === 64) {
      const out = new BigInt64Array(c.n);
      for (let i = 0; i < c.n; i++) { const x = c.get(i); if (x === null) throw new Error(`column '${c.name}' has nulls: NumPy integer arrays cannot hold them (use csv or parquet)`); out[i] = BigInt(x as bigint); }
      return out;
    }
    const out = new Int32Array(c.n);
    for (let i = 0; i < c.n; i++) { const x = c.get(i); if (x === null) throw new Error(`column '${c.name}' has nulls: NumPy integer arrays cannot hold them (use csv or parquet)`); out[i] = Number(x); }
    return out;
  }
  if (v.typeId === Type.Bool) {
    const out = new Uint8Array(c.n);
    for (let i = 0; i < c.n; i++) out[i] = c.get(i) ? 1 : 0;
    return out;
  }
  throw new Error(`column '${c.name}' is ${v}: NumPy formats hold numeric and boolean columns only (use csv or parquet)`);
}

function npyOf(data: ReturnType<typeof numericArray>, shape: number[]): Uint8Array {
  if (data instanceof BigInt64Array || data instanceof Uint8Array) {
    // npyBytes writes f4/f8/i4; i8 and bool are written here with their own descr
    const descr = data instanceof BigInt64Array ? '<i8' : '|b1';
    const sh = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${sh}, }`;
    header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
    const out = new Uint8Array(10 + header.length + data.byteLength);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
    new DataView(out.buffer).setUint16(8, header.length, true);
    for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
    return out;
  }
  return npyBytes({ data, shape });
}

export async function tableToNpz(t: Table): Promise<Uint8Array> {
  const { zipSync } = await import('fflate');
  const files: Record<string, [Uint8Array, { level: 0; mtime: Date }]> = {};
  const mtime = new Date(1981, 0, 1);
  for (const c of columns(t)) files[`${c.name}.npy`] = [npyOf(numericArray(c), [c.n]), { level: 0, mtime }];
  return zipSync(files);
}

export function tableToNpy(t: Table): Uint8Array {
  const cols = columns(t);
  const out = new Float64Array(t.numRows * cols.length);
  cols.forEach((c, j) => {
    if (!isNumeric(c.type) && c.type.typeId !== Type.Bool) throw new Error(`column '${c.name}' is ${c.type}: .npy holds one numeric matrix (use npz, csv or parquet)`);
    for (let i = 0; i < c.n; i++) { const x = c.get(i); out[i * cols.length + j] = x === null ? NaN : Number(x); }
  });
  return npyBytes({ data: out, shape: [t.numRows, cols.length] });
}

export async function tableToParquet(t: Table): Promise<Uint8Array> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const columnData = columns(t).map((c) => {
    const v = c.type;
    const data: unknown[] = new Array(c.n);
    for (let i = 0; i < c.n; i++) data[i] = c.get(i) ?? null;
    let type: string;
    if (v.typeId === Type.Float) type = (v as Float32).precision === 1 ? 'FLOAT' : 'DOUBLE';
    else if (v.typeId === Type.Int) {
      type = ((v as Int32).bitWidth as number) === 64 ? 'INT64' : 'INT32';
      if (type === 'INT32' && !(v as Int32).isSigned && (v as Int32).bitWidth === 32) type = 'INT64';
      if (type === 'INT64') for (let i = 0; i < c.n; i++) if (data[i] !== null) data[i] = BigInt(data[i] as number | bigint);
    } else if (v.typeId === Type.Bool) type = 'BOOLEAN';
    else if (isStringy(v)) type = 'STRING';
    else throw new Error(`column '${c.name}' is ${v}: not convertible to Parquet by pipe (numbers, booleans and strings)`);
    return { name: c.name, data, type } as never;
  });
  const meta = t.schema.metadata.get('pipe');
  const buf = parquetWriteBuffer({ columnData, ...(meta ? { kvMetadata: [{ key: 'pipe', value: meta }] } : {}) });
  return new Uint8Array(buf);
}

export async function tableToFormat(t: Table, format: TableFormat): Promise<Uint8Array | string> {
  switch (format) {
    case 'arrow': return tableToBytes(t);
    case 'csv': return tableToCsv(t);
    case 'npz': return tableToNpz(t);
    case 'npy': return tableToNpy(t);
    case 'parquet': return tableToParquet(t);
  }
}

export async function writeTableAs(path: string, t: Table, format: TableFormat): Promise<void> {
  await writeFile(path, await tableToFormat(t, format));
}

// ---- other formats → Arrow ---------------------------------------------------------------------

function withPipeMeta(t: Table, meta: string | undefined): Table {
  if (!meta) return t;
  try { return withMeta(t, JSON.parse(meta) as TableMeta); } catch { return t; }
}

export function csvToTable(text: string, parse: (s: string, o: object) => string[][]): Table {
  const rows = parse(text, { relax_column_count: false, skip_empty_lines: true });
  if (!rows.length) throw new Error('no header row');
  const header = rows[0]!;
  const body = rows.slice(1);
  if (new Set(header).size !== header.length) throw new Error(`duplicate column names in the header: ${header.join(', ')}`);
  const cols: Record<string, Vector> = {};
  header.forEach((name, j) => {
    const cells = body.map((r) => r[j] ?? '');
    const present = cells.filter((s) => s !== '');
    const num = (s: string) => s === 'NaN' || s === 'nan' || (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) || /^[-+]?(inf|Infinity)$/i.test(s);
    const toNum = (s: string) => (s === 'NaN' || s === 'nan' ? NaN : /inf/i.test(s) ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s));
    if (present.length && present.every((s) => /^[-+]?\d+$/.test(s) && Math.abs(Number(s)) <= 2147483647)) {
      cols[name] = vectorFromArray(cells.map((s) => (s === '' ? null : Number(s))), new Int32());
    } else if (present.length && present.every(num)) {
      cols[name] = vectorFromArray(cells.map((s) => (s === '' ? null : toNum(s))), new Float64());
    } else if (present.length && present.every((s) => s === 'true' || s === 'false' || s === 'True' || s === 'False')) {
      cols[name] = vectorFromArray(cells.map((s) => (s === '' ? null : s.toLowerCase() === 'true')), new Bool());
    } else {
      cols[name] = vectorFromArray(cells.map((s) => (s === '' ? null : s)), new Utf8());
    }
  });
  return new ArrowTable(cols);
}

interface NpyParsed { descr: string; shape: number[]; fortran: boolean; data: ArrayLike<number> | BigInt64Array | BigUint64Array }

export function parseNpy(bytes: Uint8Array): NpyParsed {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new Error('not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new Error(`.npy header not understood: ${header.trim()}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  const raw = bytes.slice(off, off + n * Number(descr.slice(2) || 1)); // copy: aligned
  const ctors: Record<string, any> = {
    '<f4': Float32Array, '<f8': Float64Array, '<i4': Int32Array, '<i2': Int16Array, '|i1': Int8Array, '<i8': BigInt64Array,
    '|u1': Uint8Array, '<u2': Uint16Array, '<u4': Uint32Array, '<u8': BigUint64Array, '|b1': Uint8Array,
  };
  const C = ctors[descr];
  if (!C) throw new Error(`.npy dtype ${descr} is not supported (little-endian numbers or booleans; strings and objects cannot be converted)`);
  if (raw.byteLength < n * C.BYTES_PER_ELEMENT) throw new Error(`.npy data is truncated: ${raw.byteLength} bytes for shape (${shape.join(', ')})`);
  return { descr, shape, fortran, data: new C(raw.buffer, 0, n) };
}

function vectorOfNpy(p: NpyParsed, values: ArrayLike<number> | BigInt64Array | BigUint64Array): Vector {
  const typeOf: Record<string, () => DataType> = {
    '<f4': () => new Float32(), '<f8': () => new Float64(), '<i4': () => new Int32(), '<i2': () => new Int16(), '|i1': () => new Int8(),
    '<i8': () => new Int64(), '|u1': () => new Uint8(), '<u2': () => new Uint16(), '<u4': () => new Uint32(), '<u8': () => new Uint64(),
  };
  if (p.descr === '|b1') return vectorFromArray(Array.from(values as Uint8Array, (x) => x !== 0), new Bool());
  return makeVector(makeData({ type: typeOf[p.descr]!(), length: values.length, nullCount: 0, data: values } as never));
}

export async function npzToTable(bytes: Uint8Array): Promise<Table> {
  const { unzipSync } = await import('fflate');
  let files: Record<string, Uint8Array>;
  try { files = unzipSync(bytes); } catch (e) { throw new Error(`not an .npz (zip) archive: ${(e as Error).message}`); }
  const cols: Record<string, Vector> = {};
  let n: number | undefined;
  for (const [file, data] of Object.entries(files)) {
    if (!file.endsWith('.npy')) continue;
    const name = file.slice(0, -4);
    const p = parseNpy(data);
    if (p.shape.length !== 1) throw new Error(`array '${name}' has shape (${p.shape.join(', ')}): a table column must be 1-D`);
    if (n !== undefined && p.shape[0] !== n) throw new Error(`array '${name}' has ${p.shape[0]} rows, the others ${n}`);
    n = p.shape[0];
    cols[name] = vectorOfNpy(p, p.data);
  }
  if (!Object.keys(cols).length) throw new Error('the .npz archive holds no arrays');
  return new ArrowTable(cols);
}

export function npyToTable(bytes: Uint8Array, name: string): Table {
  const p = parseNpy(bytes);
  if (p.shape.length === 1) return new ArrowTable({ [name]: vectorOfNpy(p, p.data) });
  if (p.shape.length !== 2) throw new Error(`array of shape (${p.shape.join(', ')}): a table needs 1-D or 2-D`);
  const [r, k] = p.shape as [number, number];
  const cols: Record<string, Vector> = {};
  const src = p.data as any;
  for (let j = 0; j < k; j++) {
    const col = new src.constructor(r);
    for (let i = 0; i < r; i++) col[i] = p.fortran ? src[j * r + i] : src[i * k + j];
    cols[`c${j}`] = vectorOfNpy(p, col);
  }
  return new ArrowTable(cols);
}

export async function parquetToTable(bytes: Uint8Array): Promise<Table> {
  const { parquetMetadata, parquetReadObjects, parquetSchema } = await import('hyparquet');
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let meta;
  try { meta = parquetMetadata(ab); } catch (e) { throw new Error(`not a Parquet file: ${(e as Error).message}`); }
  const rows = (await parquetReadObjects({ file: ab, metadata: meta })) as Record<string, unknown>[];
  const schema = parquetSchema(meta);
  const cols: Record<string, Vector> = {};
  for (const child of schema.children) {
    const el = child.element;
    const name = el.name;
    if (child.children.length) throw new Error(`column '${name}' is nested: not convertible to a pipe table`);
    const vals = rows.map((r) => r[name] ?? null);
    let type: DataType;
    switch (el.type) {
      case 'FLOAT': type = new Float32(); break;
      case 'DOUBLE': type = new Float64(); break;
      case 'INT32': type = el.converted_type === 'DATE' ? new Int32() : new Int32(); break;
      case 'INT64': type = new Int64(); break;
      case 'BOOLEAN': type = new Bool(); break;
      case 'BYTE_ARRAY': type = new Utf8(); for (let i = 0; i < vals.length; i++) if (vals[i] instanceof Uint8Array) vals[i] = new TextDecoder().decode(vals[i] as Uint8Array); break;
      default: throw new Error(`column '${name}' has Parquet type ${el.type}: not convertible (numbers, booleans and strings)`);
    }
    if (type instanceof Int64) for (let i = 0; i < vals.length; i++) if (vals[i] !== null) vals[i] = BigInt(vals[i] as bigint);
    cols[name] = vectorFromArray(vals as never[], type);
  }
  const t = new ArrowTable(cols) as Table;
  const pipeMeta = meta.key_value_metadata?.find((kv: { key: string }) => kv.key === 'pipe')?.value;
  return withPipeMeta(t, pipeMeta);
}

/** Reads `path` as a table in `format`; errors say what the file is not. */
export async function readTableAs(path: string, format: TableFormat, name = 'value'): Promise<Table> {
  const bytes = new Uint8Array(await readFile(path));
  switch (format) {
    case 'arrow':
      try { return tableFromIPC(bytes) as Table; } catch (e) { throw new Error(`not an Arrow IPC file (${(e as Error).message})`); }
    case 'csv': {
      const { parse } = await import('csv-parse/sync');
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      if (text.includes('\u0000')) throw new Error('not a CSV text file (binary data)');
      return csvToTable(text, parse as never);
    }
    case 'npz': return npzToTable(bytes);
    case 'npy': return npyToTable(bytes, name);
    case 'parquet': return parquetToTable(bytes);
  }
}

