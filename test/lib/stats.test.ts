/**
 * Paired statistics against published values. Darwin's Zea mays data (height differences,
 * crossed − self-fertilised, eighths of an inch; Fisher, The Design of Experiments §17–21):
 * scipy.stats.wilcoxon's documentation gives statistic 24, p = 0.041259765625 (exact, two-sided);
 * Fisher's paired t is 2.148 on 14 df (p ≈ 0.0497) and his permutation test counts 1,726 of the
 * 2^15 sign patterns at least as extreme (p = 0.05267).
 */
import { describe, expect, it } from 'vitest';
import { adjustP, pairedStats, signFlipP } from '../../src/lib/stats.js';

const DARWIN = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75];

describe('paired statistics', () => {
  it("Darwin's data: t interval, paired t, Wilcoxon (SciPy docs) and exact sign-flip (Fisher)", () => {
    const s = pairedStats(DARWIN, DARWIN.map(() => 0));
    expect(s.n).toBe(15);
    expect(s.mean).toBeCloseTo(314 / 15, 12);
    // hand: sd from Σd² = 26,518: sqrt((28516 − 314²/15)/14)
    expect(s.sd).toBeCloseTo(Math.sqrt((26518 - 314 ** 2 / 15) / 14), 10);
    expect(s.t).toBeCloseTo((314 / 15) / (s.sd / Math.sqrt(15)), 10);
    expect(s.t).toBeCloseTo(2.148, 3);
    expect(s.p_t).toBeCloseTo(0.0497, 4);
    // 95% interval: mean ± t_{0.975,14} · sd/√n with t_{0.975,14} = 2.144787 (tables)
    const half = 2.144787 * s.sd / Math.sqrt(15);
    expect(s.ci![0]).toBeCloseTo(s.mean - half, 4);
    expect(s.ci![1]).toBeCloseTo(s.mean + half, 4);
    expect(s.p_wilcoxon).toBeCloseTo(0.041259765625, 10);
    expect(s.p_sign_flip).toBe(1726 / 32768);
  });

  it('sign-flip: exact on small n, the smallest p is 2/2^n, ties counted', () => {
    expect(signFlipP([1, 2, 3, 4, 5])).toBe(2 / 32); // all positive: only ± all-same are as extreme
    expect(signFlipP([1, -1])).toBe(1);
    expect(signFlipP([1, 2, 3])).toBe(2 / 8);
    expect(signFlipP(new Array(21).fill(1))).toBeNull();
  });

  it('Holm and Benjamini–Hochberg by hand; missing p-values stay missing', () => {
    // Holm: sorted 0.01, 0.03, 0.04 × 3, 2, 1 → 0.03, 0.06, 0.06 (monotone)
    expect(adjustP([0.01, null, 0.04, 0.03], 'holm')).toEqual([0.03, null, 0.06, 0.06]);
    // BH: 0.01·3/1 = 0.03, 0.03·3/2 = 0.045, 0.04·3/3 = 0.04 → step-up min: 0.03, 0.04, 0.04
    const bh = adjustP([0.01, 0.04, 0.03], 'bh');
    expect(bh[0]).toBeCloseTo(0.03, 12);
    expect(bh[1]).toBeCloseTo(0.04, 12);
    expect(bh[2]).toBeCloseTo(0.04, 12);
    expect(adjustP([0.2, 0.5], 'none')).toEqual([0.2, 0.5]);
  });

  it('equal differences: the interval is a point, no t; zero differences: p = 1', () => {
    const same = pairedStats([1, 2, 3], [0, 1, 2]);
    expect(same.ci).toEqual([1, 1]);
    expect(same.p_t).toBeNull();
    expect(pairedStats([1, 2], [1, 2]).p_t).toBe(1);
  });
});
