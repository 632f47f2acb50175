/** generate-synthetic: determinism (same seed → same bytes) and the generators' definitions. */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { runStageDirect } from '../../src/engine/exec/context.js';
import gen from '../../src/stages/generate-synthetic.js';
import { numericColumn, readTable, tableMeta } from '../../src/sdk/table.js';
import { useScratchTmp } from './helpers.js';

useScratchTmp();

const run = async (params: Record<string, unknown>, seed = 0) => {
  const r = await runStageDirect(gen, { params, seed });
  return { bytes: await readFile(r.outputs.table!), table: await readTable(r.outputs.table!) };
};
const col = (t: Awaited<ReturnType<typeof run>>['table'], c: string) => numericColumn(t, c).values;

describe('generate-synthetic', () => {
  it.each(['study_success', 'health_risk', 'synthetic_2d', 'playground'])('%s: same seed → byte-identical artifact; other seed → different', async (g) => {
    const a = await run({ generator: g }, 7);
    const b = await run({ generator: g }, 7);
    expect(a.bytes.equals(b.bytes)).toBe(true);
    const c = await run({ generator: g }, 8);
    expect(c.bytes.equals(a.bytes)).toBe(g === 'playground'); // the playground is noiseless
  });

  it('study_success (§E.1): ranges, label = [score ≥ 60], pass rate near the population rate 0.369', async () => {
    const { table: t } = await run({ generator: 'study_success' }, 3);
    expect(t.numRows).toBe(1200);
    expect(tableMeta(t)).toMatchObject({ target: 'passed', features: ['hours', 'sleep', 'attendance', 'breakfast'], task: 'classification' });
    const [h, s, a, b, sc, p] = ['hours', 'sleep', 'attendance', 'breakfast', 'score', 'passed'].map((c) => col(t, c));
    expect(Math.min(...h!)).toBeGreaterThanOrEqual(0); expect(Math.max(...h!)).toBeLessThan(10);
    expect(Math.min(...s!)).toBeGreaterThanOrEqual(4); expect(Math.max(...s!)).toBeLessThan(10);
    expect(Math.min(...a!)).toBeGreaterThanOrEqual(0.5); expect(Math.max(...a!)).toBeLessThan(1);
    expect(new Set(b)).toEqual(new Set([0, 1]));
    expect(Math.min(...sc!)).toBeGreaterThanOrEqual(0); expect(Math.max(...sc!)).toBeLessThanOrEqual(100);
    for (let i = 0; i < t.numRows; i++) expect(p![i]).toBe(sc![i]! >= 60 ? 1 : 0);
    // residual of the score formula is N(0, 5²) where not clipped
    const res: number[] = [];
    for (let i = 0; i < t.numRows; i++) if (sc![i]! > 0 && sc![i]! < 100) res.push(sc![i]! - (5 + 6.5 * h![i]! + 4 * (s![i]! - 6) + 30 * (a![i]! - 0.5) + 5 * b![i]!));
    const sd = Math.sqrt(res.reduce((x, r) => x + r * r, 0) / res.length);
    expect(sd).toBeGreaterThan(4.5); expect(sd).toBeLessThan(5.5);
    const rate = p!.reduce((x, y) => x + y, 0) / t.numRows;
    expect(Math.abs(rate - 0.369)).toBeLessThan(0.05);
  });

  it('health_risk (§E.1): clipping, risk_score = 100·sigmoid(s), label = [prob ≥ 0.55], rate near 0.650', async () => {
    const { table: t } = await run({ generator: 'health_risk', n: 3000 }, 5);
    const [bmi, steps, cal, risk, high] = ['bmi', 'steps', 'calories', 'risk_score', 'high_risk'].map((c) => col(t, c));
    expect(Math.min(...bmi!)).toBeGreaterThanOrEqual(15); expect(Math.max(...bmi!)).toBeLessThanOrEqual(45);
    expect(Math.min(...steps!)).toBeGreaterThanOrEqual(1000); expect(Math.max(...steps!)).toBeLessThanOrEqual(18000);
    expect(Math.min(...cal!)).toBeGreaterThanOrEqual(1200); expect(Math.max(...cal!)).toBeLessThanOrEqual(4000);
    expect(bmi!.filter((x) => x === 15).length).toBeGreaterThan(0); // N(26, 6²) does reach the clip
    for (let i = 0; i < t.numRows; i++) expect(high![i]).toBe(risk![i]! / 100 >= 0.55 ? 1 : 0);
    const rate = high!.reduce((x, y) => x + y, 0) / t.numRows;
    expect(Math.abs(rate - 0.65)).toBeLessThan(0.04);
  });

  it('synthetic_2d (§B.4): 8 × 1,250 points around 2(cos θᵢ, sin θᵢ) with std 0.3, shuffled', async () => {
    const { table: t } = await run({ generator: 'synthetic_2d' }, 42);
    expect(t.numRows).toBe(10000);
    const [x, y, c] = ['x', 'y', 'cluster'].map((n) => col(t, n));
    for (let k = 0; k < 8; k++) {
      const idx = [...c!.keys()].filter((i) => c![i] === k);
      expect(idx.length).toBe(1250);
      const mx = idx.reduce((a, i) => a + x![i]!, 0) / 1250, my = idx.reduce((a, i) => a + y![i]!, 0) / 1250;
      expect(mx).toBeCloseTo(2 * Math.cos((2 * Math.PI * k) / 8), 1);
      expect(my).toBeCloseTo(2 * Math.sin((2 * Math.PI * k) / 8), 1);
      const sd = Math.sqrt(idx.reduce((a, i) => a + (x![i]! - mx) ** 2, 0) / 1250);
      expect(Math.abs(sd - 0.3)).toBeLessThan(0.02);
    }
    expect(Array.from(c!.subarray(0, 20))).not.toEqual(new Array(20).fill(c![0])); // shuffled
  });

  it('playground (§C.1): 200 points on [-2.5, 2.5] and the five exact polynomials', async () => {
    const want: Record<string, (x: number) => number> = {
      linear_pos: (x) => 1.2 * x,
      quadratic_u: (x) => 0.6 * x ** 2 + 0.2,
      cubic_s: (x) => 0.4 * x ** 3 - 0.8 * x ** 2 + 1.5 * x + 0.5,
      cubic_neg: (x) => -0.5 * x ** 3 + 0.3 * x ** 2 - 0.8 * x,
      quartic_w: (x) => 0.04 * x ** 4,
    };
    for (const [name, f] of Object.entries(want)) {
      const { table: t } = await run({ generator: 'playground', polynomial: name });
      const x = col(t, 'x'), y = col(t, 'y');
      expect(t.numRows).toBe(200);
      expect([x[0], x[199]]).toEqual([-2.5, 2.5]);
      expect(x[1]! - x[0]!).toBeCloseTo(5 / 199, 12);
      for (let i = 0; i < 200; i++) expect(y[i]).toBeCloseTo(f(x[i]!), 12);
      expect(tableMeta(t)).toMatchObject({ task: 'regression', target: 'y', features: ['x'] });
    }
  });
});
