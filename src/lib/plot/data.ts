/**
 * Plot data: table artifacts (Arrow IPC) and JSON files → plain rows for vega-lite.
 *
 * - Arrow: every column becomes a field; BigInt → number, Float32 values are rounded to 7
 *   significant digits (so 0.1f shows as 0.1), Dates → ISO strings; the class index of a
 *   classification target is replaced by its class name (schema metadata `classes`).
 * - JSON: an array of objects (rows); an object of equal-length arrays (columns, e.g. a training
 *   history {epoch: [...], loss: [...]}); an object holding such under `path`; an object of
 *   scalars (one row); an array of numbers (field `value`, plus `index`).
 * - Several artifacts on one port (a gather such as `train[*].history`) are concatenated; each
 *   row gets the producing instance's matrix values (e.g. `model`, `fold`) and `source` (its
 *   id), unless the row already has those fields.
 */
import { readFile } from 'node:fs/promises';
import { tableFromIPC, Type, type Table } from 'apache-arrow';
import { tableMeta } from '../../sdk/table.js';

export type Row = Record<string, unknown>;

const ARROW_MAGIC = Buffer.from('ARROW1');

function plainValue(v: unknown, typeId: Type, float32: boolean): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return null; // vega-lite data must be JSON: NaN/Inf become gaps
    return float32 ? Number(v.toPrecision(7)) : v;
  }
  if (v instanceof Date) return v.toISOString();
  if (typeId === Type.Timestamp || typeId === Type.Date) return new Date(Number(v)).toISOString();
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, (x) => Number(x));
  if (typeof v === 'object' && v !== null && 'toArray' in v && typeof (v as any).toArray === 'function') {
    return Array.from((v as any).toArray() as ArrayLike<unknown>, (x) => plainValue(x, Type.Float, float32));
  }
  return v;
}

export function tableRows(table: Table, limit?: number): Row[] {
  if (limit !== undefined && table.numRows > limit) table = table.slice(0, limit);
  const meta = tableMeta(table);
  const fields = table.schema.fields;
  const cols = fields.map((f) => table.getChild(f.name)!);
  const f32 = fields.map((f) => f.type.typeId === Type.Float && (f.type as any).precision === 1);
  const classNames = meta.task === 'classification' && Array.isArray(meta.classes) ? meta.classes : undefined;
  const rows: Row[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const r: Row = {};
    fields.forEach((f, j) => {
      let v = plainValue(cols[j]!.get(i), f.type.typeId, f32[j]!);
      if (classNames && f.name === meta.target && typeof v === 'number' && classNames[v] !== undefined) v = classNames[v];
      r[f.name] = v;
    });
    rows[i] = r;
  }
  return rows;
}

function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const k of path.split('.').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') throw new Error(`JSON has nothing at '${path}' (stopped at '${k}')`);
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** JSON value → rows (see the module comment for the accepted shapes). */
export function jsonRows(value: unknown, path?: string): Row[] {
  const v = path ? getPath(value, path) : value;
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'number' || x === null)) return v.map((x, i) => ({ index: i, value: x }));
    if (v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) return v as Row[];
    throw new Error('JSON array must hold objects (rows) or numbers');
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    const arrays = entries.filter(([, x]) => Array.isArray(x)) as [string, unknown[]][];
    if (arrays.length > 0) {
      const n = arrays[0]![1].length;
      if (arrays.some(([, a]) => a.length !== n)) {
        throw new Error(`JSON object has arrays of different lengths (${arrays.map(([k, a]) => `${k}: ${a.length}`).join(', ')}); pick one with the 'path' param`);
      }
      const scalars = entries.filter(([, x]) => !Array.isArray(x) && (x === null || typeof x !== 'object'));
      return Array.from({ length: n }, (_, i) => {
        const r: Row = Object.fromEntries(scalars);
        for (const [k, a] of arrays) r[k] = a[i];
        return r;
      });
    }
    return [v as Row];
  }
  throw new Error('JSON must be an array or an object');
}

/** Reads one artifact (Arrow table or JSON, told apart by content) into rows. */
export async function readRows(path: string, jsonPath?: string, limit?: number): Promise<Row[]> {
  const buf = await readFile(path);
  if (buf.subarray(0, 6).equals(ARROW_MAGIC)) return tableRows(tableFromIPC(buf), limit);
  const text = buf.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Arrow IPC *stream* files have no magic; try them before giving up
    try {
      return tableRows(tableFromIPC(buf), limit);
    } catch {
      throw new Error(`${path}: neither an Arrow table nor JSON`);
    }
  }
  const rows = jsonRows(parsed, jsonPath);
  return limit !== undefined ? rows.slice(0, limit) : rows;
}

export interface SourceArtifact {
  path: string;
  from: string;
  matrix: Record<string, string | number | boolean>;
}

/** Rows of several artifacts, concatenated, tagged with matrix values and source when >1. */
export async function gatherRows(list: SourceArtifact[], jsonPath?: string, limit?: number): Promise<Row[]> {
  const all: Row[] = [];
  const tag = list.length > 1 || list.some((a) => Object.keys(a.matrix).length > 0);
  for (const a of list) {
    if (limit !== undefined && all.length >= limit) break;
    const rows = await readRows(a.path, jsonPath, limit !== undefined ? limit - all.length : undefined);
    for (const r of rows) {
      if (tag) {
        for (const [k, v] of Object.entries(a.matrix)) if (!(k in r)) r[k] = v;
        if (list.length > 1 && !('source' in r)) r.source = a.from;
      }
      all.push(r);
    }
  }
  return all;
}
