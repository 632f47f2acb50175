/** Summary statistics shared by run tracking, reports and stages. */

/** Mean and sample standard deviation (n − 1; 0 for a single value). */
export function meanStd(xs: ArrayLike<number>): { mean: number; std: number } {
  const n = xs.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += xs[i]!;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i]! - mean) ** 2;
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0 };
}

import { createRequire } from 'node:module';

/**
 * @stdlib's tests, loaded on first use: importing them costs ≈ 1.5 s (hundreds of small
 * modules), which every `pipe` command that imports this file for meanStd would pay at start-up.
 */
const requireHere = createRequire(import.meta.url);
let lib: { ttest: typeof import('@stdlib/stats-ttest'); wilcoxon: typeof import('@stdlib/stats-wilcoxon'); padjust: typeof import('@stdlib/stats-padjust') } | undefined;
function stdlib(): NonNullable<typeof lib> {
  lib ??= { ttest: requireHere('@stdlib/stats-ttest'), wilcoxon: requireHere('@stdlib/stats-wilcoxon'), padjust: requireHere('@stdlib/stats-padjust') };
  return lib;
}

/** Largest n for which the exact sign-flip test enumerates all 2^n sign patterns. */
export const SIGN_FLIP_MAX_N = 20;

/** A paired comparison: statistics of the differences d_i = a_i − b_i. */
export interface PairedStats {
  n: number;
  /** Mean difference and its two-sided t confidence interval at `level`. */
  mean: number;
  /** Sample standard deviation of the differences (n − 1). */
  sd: number;
  ci: [number, number] | null;
  level: number;
  /** Paired t statistic, its degrees of freedom and two-sided p-value. */
  t: number | null;
  df: number;
  p_t: number | null;
  /** Wilcoxon signed-rank two-sided p-value (exact for n ≤ 50 without ties; zero differences dropped). */
  p_wilcoxon: number | null;
  /** Exact two-sided sign-flip permutation p-value of the mean (n ≤ SIGN_FLIP_MAX_N, else null). */
  p_sign_flip: number | null;
}

/**
 * Exact sign-flip (paired permutation) test: under H0 each difference is equally likely to
 * have either sign, so the p-value is the fraction of the 2^n sign patterns whose |Σ ±d_i| is
 * at least the observed |Σ d_i| (the observed pattern included, so p ≥ 2^-n).
 */
export function signFlipP(d: readonly number[]): number | null {
  const n = d.length;
  if (n === 0 || n > SIGN_FLIP_MAX_N) return null;
  const obs = Math.abs(d.reduce((a, b) => a + b, 0));
  const tol = 1e-12 * Math.max(1, d.reduce((a, b) => a + Math.abs(b), 0));
  // Gray-code walk over the patterns: one sign changes per step
  let sum = d.reduce((a, b) => a + b, 0);
  const sign = new Int8Array(n).fill(1);
  let hits = 0;
  const total = 2 ** n;
  for (let k = 0; k < total; k++) {
    if (k > 0) {
      let j = 0;
      while (((k >> j) & 1) === 0) j++;
      sum -= 2 * sign[j]! * d[j]!;
      sign[j] = -sign[j]! as 1 | -1;
    }
    if (Math.abs(sum) >= obs - tol) hits++;
  }
  return hits / total;
}

/** Paired statistics of a − b (same length, matched by index): t interval and tests. */
export function pairedStats(a: readonly number[], b: readonly number[], level = 0.95): PairedStats {
  if (a.length !== b.length) throw new Error(`pairedStats: ${a.length} vs ${b.length} values`);
  const d = a.map((x, i) => x - b[i]!);
  const n = d.length;
  const { mean, std: sd } = meanStd(d);
  const base: PairedStats = { n, mean, sd, ci: null, level, t: null, df: n - 1, p_t: null, p_wilcoxon: null, p_sign_flip: signFlipP(d) };
  if (n < 2) return base;
  if (d.some((x) => x !== 0)) {
    try { base.p_wilcoxon = stdlib().wilcoxon(d).pValue; } catch { base.p_wilcoxon = null; }
  } else base.p_wilcoxon = 1;
  if (sd === 0) {
    // every difference equal: no spread for a t test; a zero difference is no evidence at all
    return { ...base, ci: [mean, mean], p_t: mean === 0 ? 1 : null };
  }
  const t = stdlib().ttest(d, { alpha: 1 - level });
  base.t = t.statistic;
  base.p_t = t.pValue;
  base.ci = [t.ci[0]!, t.ci[1]!];
  return base;
}

export type Correction = 'holm' | 'bh' | 'none';

/** p-values adjusted for multiple comparisons (Holm or Benjamini–Hochberg); nulls stay null. */
export function adjustP(ps: readonly (number | null)[], method: Correction): (number | null)[] {
  if (method === 'none') return [...ps];
  const idx = ps.flatMap((p, i) => (p === null || !Number.isFinite(p) ? [] : [i]));
  const out: (number | null)[] = ps.map(() => null);
  if (!idx.length) return out;
  const adj = stdlib().padjust(idx.map((i) => ps[i]!), method);
  idx.forEach((i, k) => { out[i] = adj[k]!; });
  return out;
}
