/** Test helpers: small dataset tables following the conventions of src/lib/table.ts. */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { tableFromArrays } from 'apache-arrow';
import { withMeta, writeTable } from '../../src/sdk/table.js';
import { Rng } from '../../src/sdk/rng.js';

export interface Rows { X: number[][]; y: number[] }

export async function writeDataset(dir: string, name: string, rows: Rows, task: 'classification' | 'regression', classes?: string[]): Promise<string> {
  const d = rows.X[0]!.length;
  const cols: Record<string, Float32Array | Int32Array | Float64Array> = {};
  for (let j = 0; j < d; j++) cols[`f${j}`] = Float32Array.from(rows.X, (r) => r[j]!);
  cols.label = task === 'classification' ? Int32Array.from(rows.y) : Float64Array.from(rows.y);
  const t = withMeta(tableFromArrays(cols), { target: 'label', task, classes, features: Array.from({ length: d }, (_, j) => `f${j}`), dataset: name });
  const path = join(dir, `${name}.arrow`);
  await writeTable(path, t);
  return path;
}

export const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

/** Two interleaved half-moons-like classes in 2-D plus noise features. */
export function moons(n: number, seed: number): Rows {
  const rng = new Rng(seed);
  const X: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2, t = rng.uniform(0, Math.PI);
    const x0 = c ? 1 - Math.cos(t) : Math.cos(t), x1 = c ? 0.5 - Math.sin(t) : Math.sin(t);
    X.push([x0 + rng.normal(0, 0.1), x1 + rng.normal(0, 0.1), rng.normal()]);
    y.push(c);
  }
  return { X, y };
}

/** MAGIC gamma telescope (../shared/datasets), first `n` rows of a seeded shuffle, features z-scored. */
export function magic(n: number, seed = 0): Rows {
  const text = readFileSync(new URL('../../../shared/datasets/magic/magic04.data', import.meta.url), 'utf8');
  const all = text.trim().split('\n').map((l) => l.split(','));
  const perm = new Rng(seed).permutation(all.length);
  const X = Array.from(perm.slice(0, n), (i) => all[i]!.slice(0, 10).map(Number));
  const y = Array.from(perm.slice(0, n), (i) => (all[i]![10]!.trim() === 'h' ? 1 : 0));
  for (let j = 0; j < 10; j++) {
    const m = X.reduce((a, r) => a + r[j]!, 0) / n;
    const s = Math.sqrt(X.reduce((a, r) => a + (r[j]! - m) ** 2, 0) / n);
    for (const r of X) r[j] = (r[j]! - m) / s;
  }
  return { X, y };
}

export const slice = (r: Rows, a: number, b: number): Rows => ({ X: r.X.slice(a, b), y: r.y.slice(a, b) });
