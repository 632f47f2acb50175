/**
 * Row assignment for `split`: k-fold, stratified k-fold and (stratified) holdout draws.
 * Pure functions of (n, labels, seed): every matrix instance of `split` recomputes the same
 * assignment and picks its own fold.
 */
import type { Rng } from '../sdk/rng.js';

/**
 * Plain k-fold: fold of each row. With `shuffle`, rows are permuted first; folds are
 * contiguous blocks of the (permuted) order, the first n mod k folds one row larger
 * (as scikit-learn's KFold).
 */
export function kfoldAssign(n: number, k: number, rng: Rng | null): Int32Array {
  if (k < 2 || k > n) throw new Error(`k-fold needs 2 ≤ k ≤ rows (k = ${k}, rows = ${n})`);
  const order = rng ? rng.permutation(n) : iota(n);
  const fold = new Int32Array(n);
  const base = Math.floor(n / k), extra = n % k;
  let at = 0;
  for (let f = 0; f < k; f++) {
    const size = base + (f < extra ? 1 : 0);
    for (let j = 0; j < size; j++) fold[order[at++]!] = f;
  }
  return fold;
}

/** 0, 1, …, n − 1 as an Int32Array (a loop: no per-element callback, no boxed array). */
export function iota(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/**
 * Row indices grouped by class (ascending within a class), classes in ascending order. Typed
 * (one Int32Array per class, sized by a counting pass): no per-row JS numbers in growing arrays.
 */
export function byClass(rows: ArrayLike<number>, labels: ArrayLike<number>): Map<number, Int32Array> {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < rows.length; i++) { const c = labels[rows[i]!]!; if (c < lo) lo = c; if (c > hi) hi = c; }
  const m = new Map<number, Int32Array>();
  if (!rows.length) return m;
  if (Number.isInteger(lo) && Number.isInteger(hi) && hi - lo < 1 << 20) {
    // class indices (the usual case): counts and fill positions in typed arrays, no Map per row
    const counts = new Int32Array(hi - lo + 1);
    for (let i = 0; i < rows.length; i++) counts[labels[rows[i]!]! - lo]!++;
    const groups: (Int32Array | null)[] = Array.from(counts, (k) => (k ? new Int32Array(k) : null));
    const fill = new Int32Array(counts.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const c = labels[r]! - lo;
      groups[c]![fill[c]!++] = r;
    }
    groups.forEach((g, c) => { if (g) m.set(c + lo, g); });
    return m;
  }
  const counts = new Map<number, number>();
  for (let i = 0; i < rows.length; i++) {
    const c = labels[rows[i]!]!;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  const fill = new Map<number, number>();
  for (const c of [...counts.keys()].sort((a, b) => a - b)) { m.set(c, new Int32Array(counts.get(c)!)); fill.set(c, 0); }
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const c = labels[r]!;
    const at = fill.get(c)!;
    m.get(c)![at] = r;
    fill.set(c, at + 1);
  }
  return m;
}

/**
 * Stratified k-fold: rows of each class (shuffled when `rng` is given) are dealt to the folds
 * round-robin, continuing the deal across classes. So every class is spread over the folds
 * within ±1 row, and fold sizes differ by at most 1.
 */
export function stratifiedKfoldAssign(labels: ArrayLike<number>, k: number, rng: Rng | null): Int32Array {
  const n = labels.length;
  if (k < 2 || k > n) throw new Error(`k-fold needs 2 ≤ k ≤ rows (k = ${k}, rows = ${n})`);
  const fold = new Int32Array(n);
  let deal = 0;
  for (const rows of byClass(iota(n), labels).values()) {
    if (rng) rng.shuffle(rows);
    for (let i = 0; i < rows.length; i++) fold[rows[i]!] = deal++ % k;
  }
  return fold;
}

/** Counts per group proportional to `sizes`, summing to `total` (largest remainder, ties → lower index). */
export function allocate(sizes: number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  if (n === 0) return sizes.map(() => 0);
  const exact = sizes.map((s) => (s * total) / n);
  const out = exact.map((e) => Math.floor(e + 1e-9));
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e + 1e-9), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    if (out[i]! < sizes[i]!) { out[i]!++; left--; }
  }
  return out;
}

/**
 * Moves `count` of `rows` out (the "held" part): stratified by `labels` when given (per class
 * counts within ±1 of proportional), from a shuffled order when `rng` is given, else the last
 * rows (as scikit-learn's train_test_split with shuffle=False). Both results are ascending.
 * Typed throughout (a held-mark per row, no Set, no spread): 50 M rows cost ≈ 9 bytes a row.
 */
export function holdOut(rows: ArrayLike<number>, count: number, labels: ArrayLike<number> | null, rng: Rng | null): { kept: Int32Array; held: Int32Array } {
  const held = new Int32Array(count);
  let h = 0;
  if (labels) {
    const groups = [...byClass(rows, labels).values()];
    const alloc = allocate(groups.map((g) => g.length), count);
    groups.forEach((g, c) => {
      if (rng) rng.shuffle(g);
      for (let i = g.length - alloc[c]!; i < g.length; i++) held[h++] = g[i]!;
    });
  } else {
    const order = Int32Array.from(rows);
    if (rng) rng.shuffle(order);
    for (let i = order.length - count; i < order.length; i++) held[h++] = order[i]!;
  }
  if (h !== count) throw new Error(`holdOut: drew ${h} rows, wanted ${count}`);
  held.sort();
  // kept = rows minus held, in ascending order (rows may be any subset of 0 … max)
  let max = -1;
  for (let i = 0; i < rows.length; i++) if (rows[i]! > max) max = rows[i]!;
  const mark = new Uint8Array(max + 1);
  for (let i = 0; i < count; i++) mark[held[i]!] = 1;
  const kept = new Int32Array(rows.length - count);
  let k = 0;
  for (let i = 0; i < rows.length; i++) if (!mark[rows[i]!]) kept[k++] = rows[i]!;
  return { kept: kept.sort(), held };
}

/** ceil(fraction · n) with a guard against float noise (scikit-learn's test_size rounding). */
export function fractionCount(fraction: number, n: number): number {
  return Math.min(n, Math.ceil(fraction * n - 1e-9));
}
