import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipe, project, repoRoot, summary } from '../engine/helpers.js';

// pipelines/group_agf_quick.yaml through the CLI: every stage runs; the 1D QuadraticRNN leaves
// L₀ and settles on a predicted plateau; the figures, the GIF and the report are written; the
// full pipeline file validates (dry run).
describe('pipelines/group_agf_quick.yaml', () => {
  it('trains both models, analyses them against the staircase, draws the figures', async () => {
    const dir = project({});
    cpSync(join(repoRoot, 'pipelines'), join(dir, 'pipelines'), { recursive: true });
    const r = await pipe(dir, 'run', 'pipelines/group_agf_quick.yaml');
    expect(r.code, r.stderr).toBe(0);
    // 2 tasks, 2 trainings, 2 analyses, 5 figures, GIF, 4 sweep runs, summary
    expect(summary(r)).toMatchObject({ ran: 2 + 2 + 2 + 4 + 1 + 4 + 1, failed: 0 });
    const m = JSON.parse(readFileSync(join(dir, 'artifacts/group_agf_quick/rnn_1d/metrics.json'), 'utf8'));
    expect(m.initial_loss).toBeCloseTo(m.levels[0], 2); // small init: L₀ = Var(τ)
    expect(m.plateaus_passed).toBeGreaterThanOrEqual(1);
    const a = JSON.parse(readFileSync(join(dir, 'artifacts/group_agf_quick/analyze_1d/summary.json'), 'utf8'));
    // it ends on a plateau: within 5% of the nearest predicted level
    expect(a.final_over_nearest).toBeGreaterThan(0.95);
    expect(a.final_over_nearest).toBeLessThan(1.05);
    // the modes it has are the strongest ones, in order
    expect(a.frequencies_acquired[0]).toBe(a.template_modes[0].frequency);
    expect(existsSync(join(dir, 'artifacts/group_agf_quick/wout_1d/gif.gif'))).toBe(true);
    expect(existsSync(join(dir, 'artifacts/group_agf_quick/report/index.html'))).toBe(true);
    const dry = await pipe(dir, 'run', 'pipelines/group_agf.yaml', '--dry-run');
    expect(dry.stdout).toMatch(/69 would run/); // + the clean case: task, 2 runs, 2 analyses, 2 staircases
  }, 120_000);
});
