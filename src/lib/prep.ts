/**
 * Helpers shared by the fit/apply data stages (`encode`, `standardize`): the train/val/test
 * parts of a stage, and the rows a statistic may be fit on.
 */
import type { StageContext } from '../sdk/stage.js';
import { readTable, tableMeta, takeRows, ROW_COLUMN, type Table } from '../sdk/table.js';

export const PARTS = ['train', 'val', 'test'] as const;
export type Part = (typeof PARTS)[number];

export interface Parts {
  train: Table;
  val: Table | null;
  test: Table | null;
}

export async function readParts(ctx: StageContext): Promise<Parts> {
  const get = async (name: Part) => (ctx.has(name) ? readTable(ctx.input(name).path) : null);
  const train = await get('train');
  if (!train) throw new Error(`input 'train' is not connected`);
  return { train, val: await get('val'), test: await get('test') };
}

/**
 * `fit_on: auto` → `all` when the train part comes from a `split` with the seed-parity protocol
 * (table meta `protocol`), else `train`. So the protocol is switched in one place: `split`.
 */
export function resolveFitOn(fitOn: 'auto' | 'train' | 'all', train: Table): 'train' | 'all' {
  if (fitOn !== 'auto') return fitOn;
  return tableMeta(train).protocol === 'seed-parity' ? 'all' : 'train';
}

/** A 0-row table with the columns and metadata of `t` (written for unconnected parts). */
export function emptyLike(t: Table): Table {
  return takeRows(t, []);
}

/**
 * The (table, row) pairs statistics are fit on: the training part (`train`), or the union of
 * all connected parts (`all`). Rows are de-duplicated by the `_row` column `split` adds, so a
 * row present in both val and test (seed-parity protocol) counts once.
 */
export function fitRows(parts: Parts, fitOn: 'train' | 'all', rowsOf: (t: Table) => Int32Array): { table: Table; rows: Int32Array }[] {
  if (fitOn === 'train') return [{ table: parts.train, rows: rowsOf(parts.train) }];
  const out: { table: Table; rows: Int32Array }[] = [];
  const seen = new Set<number>();
  for (const name of PARTS) {
    const t = parts[name];
    if (!t) continue;
    const rows = rowsOf(t);
    const idCol = t.getChild(ROW_COLUMN);
    if (!idCol) { out.push({ table: t, rows }); continue; }
    const keep: number[] = [];
    for (const r of rows) {
      const id = Number(idCol.get(r));
      if (seen.has(id)) continue;
      seen.add(id);
      keep.push(r);
    }
    out.push({ table: t, rows: Int32Array.from(keep) });
  }
  return out;
}
