/**
 * Seeds 0, 1, 2, … must give independent streams: over seeds 0–999 the first normal draw passes a
 * Kolmogorov–Smirnov test against N(0, 1), the first uniform one against U(0, 1), and the first
 * element of permutation(1200) is uniform (chi-square). pure-rand's own integer seeding fails all
 * three (checked below, so the test can tell the two apart).
 */
import { describe, it, expect } from 'vitest';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { Rng } from '../../src/sdk/rng.js';
import { splitmix64, mul64 } from '../../src/sdk/seed-mix.js';

const SEEDS = Array.from({ length: 1000 }, (_, i) => i);

/** Φ(x): erf by its Taylor series for |x|/√2 < 3, erfc by its continued fraction beyond. */
function normCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  let erfc: number;
  if (z < 3) {
    let sum = z, term = z;
    for (let n = 1; n < 200; n++) { term *= -z * z / n; const t = term / (2 * n + 1); sum += t; if (Math.abs(t) < 1e-17) break; }
    erfc = 1 - (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let f = 0;
    for (let k = 60; k >= 1; k--) f = (k / 2) / (z + f);
    erfc = Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
  }
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}
function ks(sample: number[], cdf: (x: number) => number): number {
  const s = [...sample].sort((a, b) => a - b), n = s.length;
  let d = 0;
  s.forEach((v, i) => { const F = cdf(v); d = Math.max(d, F - i / n, (i + 1) / n - F); });
  return d;
}
// KS critical value at α = 0.001 for n = 1000: 1.949 / √n
const KS_CRIT = 1.949 / Math.sqrt(1000);
/** Chi-square of the first permutation element binned into 12 bins of 100 (df 11; α = 0.001 → 31.26). */
function chi2(first: number[]): number {
  const bins = new Array<number>(12).fill(0);
  for (const v of first) bins[Math.floor(v / 100)]!++;
  const e = first.length / 12;
  return bins.reduce((s, o) => s + (o - e) ** 2 / e, 0);
}
const CHI2_CRIT = 31.26;

describe('seeding through SplitMix64', () => {
  it('first normal, first uniform and first permutation element over seeds 0–999 look independent', () => {
    expect(normCdf(1.959963984540054)).toBeCloseTo(0.975, 9);
    expect(normCdf(-3.5)).toBeCloseTo(2.326290790355250e-4, 12);
    const normals = SEEDS.map((s) => new Rng(s).normal());
    const uniforms = SEEDS.map((s) => new Rng(s).random());
    const firsts = SEEDS.map((s) => new Rng(s).permutation(1200)[0]!);
    const dN = ks(normals, normCdf), dU = ks(uniforms, (u) => Math.min(1, Math.max(0, u)));
    expect(dN).toBeLessThan(KS_CRIT);
    expect(dU).toBeLessThan(KS_CRIT);
    expect(chi2(firsts)).toBeLessThan(CHI2_CRIT);
    // the first swap no longer lands on one element per seed (it was 847 − seed)
    expect(new Set(firsts).size).toBeGreaterThan(500);
    // forks of nearby seeds are independent too
    const forks = SEEDS.map((s) => new Rng(s).fork('init').normal());
    expect(ks(forks, normCdf)).toBeLessThan(KS_CRIT);
  });

  it('the unmixed integer seeding fails the same tests (so the tests can fail)', () => {
    const uniforms = SEEDS.map((s) => uniformFloat64(xoroshiro128plus(s)));
    expect(ks(uniforms, (u) => u)).toBeGreaterThan(KS_CRIT);
  });

  it('SplitMix64 on 32-bit halves equals a BigInt SplitMix64', () => {
    const M = (1n << 64n) - 1n;
    const ref = (seed: bigint, n: number): bigint[] => {
      let x = seed & M; const out: bigint[] = [];
      for (let i = 0; i < n; i++) {
        x = (x + 0x9e3779b97f4a7c15n) & M;
        let z = x;
        z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
        z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
        out.push(z ^ (z >> 31n));
      }
      return out;
    };
    for (const seed of [0, 1, 42, 1192, 2 ** 31 - 1, -1, -12345, 2 ** 40 + 7]) {
      const mine = splitmix64(seed, 4).map(([h, l]) => (BigInt(h) << 32n) | BigInt(l));
      expect(mine).toEqual(ref(BigInt(seed), 4));
    }
    const a = 0x9e3779b97f4a7c15n, b = 0xbf58476d1ce4e5b9n;
    const [h, l] = mul64(Number(a >> 32n), Number(a & 0xffffffffn), Number(b >> 32n), Number(b & 0xffffffffn));
    expect((BigInt(h) << 32n) | BigInt(l)).toBe((a * b) & M);
  });
});
