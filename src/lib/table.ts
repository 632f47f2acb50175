/**
 * The one table artifact format of pipe: Apache Arrow IPC *file* format (`.arrow`), readable by
 * pandas (`pyarrow.feather.read_table`), polars (`pl.read_ipc`) and DuckDB, with typed columns
 * and a schema (column types, plus key/value metadata).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { tableFromIPC, tableToIPC, Schema, RecordBatch, Table as ArrowTable, type Table } from 'apache-arrow';

export type { Table } from 'apache-arrow';

export async function readTable(path: string): Promise<Table> {
  const buf = await readFile(path);
  try {
    return tableFromIPC(buf);
  } catch (e) {
    throw new Error(`${path}: not a readable Arrow IPC table (${(e as Error).message})`);
  }
}

export function tableToBytes(table: Table): Uint8Array {
  return tableToIPC(table, 'file');
}

export async function writeTable(path: string, table: Table): Promise<void> {
  await writeFile(path, tableToBytes(table));
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

/** Pulls the numeric feature matrix and target out of a table that follows the conventions. */
export function featureMatrix(table: Table): FeatureMatrix {
  const meta = tableMeta(table);
  const names = meta.features ?? table.schema.fields.map((f) => f.name).filter((n) => n !== meta.target);
  const n = table.numRows;
  const d = names.length;
  const X = new Float32Array(n * d);
  names.forEach((name, j) => {
    const col = table.getChild(name);
    if (!col) throw new Error(`feature column '${name}' not in table`);
    let i = 0;
    for (const v of col) {
      if (v === null || v === undefined) throw new Error(`feature column '${name}' has a missing value at row ${i}`);
      X[i * d + j] = Number(v);
      i++;
    }
  });
  let y: Float64Array | null = null;
  if (meta.target) {
    const col = table.getChild(meta.target);
    if (!col) throw new Error(`target column '${meta.target}' not in table`);
    y = new Float64Array(n);
    let i = 0;
    for (const v of col) y[i++] = Number(v);
  }
  return { X, n, d, featureNames: names, y, meta };
}
