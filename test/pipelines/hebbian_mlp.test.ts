import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipe, project, repoRoot, summary } from '../engine/helpers.js';

// pipelines/hebbian_mlp.yaml through the CLI at smoke size: every stage runs, the arm comparison
// has paired differences to the plain arm, the diverging arms are counted, the report is written.
describe('pipelines/hebbian_mlp.yaml', () => {
  it('runs the recipes, the arms with paired comparisons, the figures and the report', async () => {
    const dir = project({});
    cpSync(join(repoRoot, 'pipelines'), join(dir, 'pipelines'), { recursive: true });
    const r = await pipe(dir, 'run', 'pipelines/hebbian_mlp.yaml', '--set', 'seeds=2', '--set', 'epochs=6');
    expect(r.code, r.stderr).toBe(0);
    // data, split, prep: 2 data sets × 2 reps each; recipes 3, arms 6×2 (Hebbian off, or on with γ 0 or 1; × meta), comparison,
    // study recipe with/without the fix 2×2 + its aggregate, restore 2×2, restore_effect, 6 curve plots, separator + plot
    expect(summary(r)).toMatchObject({ ran: 4 + 4 + 4 + 3 + 12 + 1 + 4 + 1 + 4 + 1 + 6 + 2, failed: 0 });
    // every repetition sees its own data (the seed's generators are unseeded)
    const d0 = readFileSync(join(dir, 'artifacts/hebbian_mlp/study_data[rep=0]/table.arrow'));
    const d1 = readFileSync(join(dir, 'artifacts/hebbian_mlp/study_data[rep=1]/table.arrow'));
    expect(d0.equals(d1)).toBe(false);
    const fx = JSON.parse(readFileSync(join(dir, 'artifacts/hebbian_mlp/study_recipe_effect/results.json'), 'utf8'));
    expect(fx.groups.map((g: { group: Record<string, unknown> }) => g.group.restore_best).sort()).toEqual([false, true]);
    const res = JSON.parse(readFileSync(join(dir, 'artifacts/hebbian_mlp/comparison/results.json'), 'utf8'));
    expect(res.paired_on).toEqual(['rep']);
    const plain = res.groups.find((g: { group: Record<string, unknown> }) => g.group.hebbian === false && g.group.meta === false);
    expect(plain.metrics.accuracy.n).toBe(2);
    const mp = res.paired.find((x: { group: Record<string, unknown>; metric: string }) => x.group.hebbian === false && x.group.meta === true && x.metric === 'accuracy');
    const meta = res.groups.find((g: { group: Record<string, unknown> }) => g.group.hebbian === false && g.group.meta === true);
    // the paired mean is the mean of the per-rep differences
    const d = meta.metrics.accuracy.values.map((v: number, i: number) => v - plain.metrics.accuracy.values[i]);
    expect(mp.mean).toBeCloseTo((d[0] + d[1]) / 2, 12);
    expect(readFileSync(join(dir, 'artifacts/hebbian_mlp/comparison/table.md'), 'utf8')).toMatch(/Paired differences/);
    expect(existsSync(join(dir, 'artifacts/hebbian_mlp/separator_plot/png.png'))).toBe(true);
    expect(existsSync(join(dir, 'artifacts/hebbian_mlp/report/index.html'))).toBe(true);
  }, 120_000);
});
