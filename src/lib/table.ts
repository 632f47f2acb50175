/**
 * The one table artifact format of pipe: Apache Arrow IPC *file* format (`.arrow`), readable by
 * pandas (`pyarrow.feather.read_table`), polars (`pl.read_ipc`) and DuckDB, with typed columns
 * and a schema (column types, plus key/value metadata).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';

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
