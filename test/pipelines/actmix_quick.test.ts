import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipe, project, repoRoot, summary } from '../engine/helpers.js';

const mirror = process.env.PIPE_DATA_MIRROR ?? join(repoRoot, '..', 'shared', 'datasets');

// The ActMix pipeline end to end through the CLI, on the real MAGIC data, at smoke size.
describe('pipelines/actmix_quick.yaml', () => {
  it('runs every stage, aggregates per model, draws the figures and writes the report', async () => {
    const dir = project({});
    cpSync(join(repoRoot, 'pipelines'), join(dir, 'pipelines'), { recursive: true });
    process.env.PIPE_DATA_MIRROR = mirror;
    const r = await pipe(dir, 'run', 'pipelines/actmix_quick.yaml', '--set', 'folds=2', '--set', 'training.max_epochs=2', '--set', 'xgboost.n_estimators=50');
    expect(r.code, r.stderr).toBe(0);
    const s = summary(r);
    expect(s.failed).toBe(0);
    // data 1, split/encode/prep 2 each, train 2×4, xgboost 2, results, curves, analyze, 5 single figures, 2×2 per-layer figures
    expect(s.ran).toBe(1 + 3 * 2 + 8 + 2 + 1 + 1 + 1 + 5 + 4);
    const res = JSON.parse(readFileSync(join(dir, 'artifacts/actmix_quick/results/results.json'), 'utf8'));
    const byModel = Object.fromEntries(res.groups.map((g: { group: { model: string }; metrics: Record<string, { mean: number; n: number }> }) => [g.group.model, g.metrics]));
    expect(Object.keys(byModel).sort()).toEqual(['actmix', 'gelu', 'prelu', 'relu', 'xgboost']);
    for (const m of Object.values(byModel)) {
      expect(m.accuracy!.n).toBe(2);
      // far above the 64.8% majority class even after 2 epochs
      expect(m.accuracy!.mean).toBeGreaterThan(0.8);
      expect(m.roc_auc!.mean).toBeGreaterThan(0.85);
    }
    expect(existsSync(join(dir, 'artifacts/actmix_quick/alpha_heatmap[dataset=magic]/png.png'))).toBe(true);
    expect(readFileSync(join(dir, 'artifacts/actmix_quick/report/index.html'), 'utf8')).toContain('alpha_heatmap');
    // a config change below the data stages recomputes only what it affects
    const r2 = await pipe(dir, 'run', 'pipelines/actmix_quick.yaml', '--set', 'folds=2', '--set', 'training.max_epochs=2', '--set', 'xgboost.n_estimators=60');
    expect(summary(r2)).toMatchObject({ ran: 2 + 1, failed: 0 });
  }, 240_000);
});
