/**
 * §D's clean case (issue 27): C_10, k = 2, a two-mode Fourier template, SequentialMLP d = 12,
 * per-neuron SGD at lr 0.1 — the validation loss rests on every predicted AGF plateau (L₀ = Var τ,
 * then L₁ after the strong mode) before reaching 0, in the predicted order; plus the
 * rested / passed-through rule on synthetic curves.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runStageDirect } from '../../src/engine/exec/context.js';
import genGroup from '../../src/stages/generate-group.js';
import trainGroup from '../../src/stages/train-group.js';
import analyzeGroup from '../../src/stages/analyze-group.js';
import { plateauVisits } from '../../src/lib/ml/plateaus.js';
import { readTable } from '../../src/sdk/table.js';

describe('plateauVisits', () => {
  it('a stay of ≥ minEvals evaluations within ±tol is a rest; a quick crossing is passed through', () => {
    const levels = [1, 0.5, 0.1, 0];
    // rests on 1 (6 evals), drops through 0.5 in one evaluation, rests on 0.1, ends near 0
    const loss = [1, 1, 0.99, 1.01, 1, 0.98, 0.52, 0.1, 0.1, 0.101, 0.099, 0.1, 0.1, 0.001];
    const steps = loss.map((_, i) => i * 10);
    const v = plateauVisits(steps, loss, levels);
    expect(v.map((x) => x.status)).toEqual(['rested', 'passed through', 'rested']);
    expect(v[0]).toMatchObject({ restFrom: 0, restTo: 50, restEvals: 6, passedAt: 60 });
    expect(v[2]).toMatchObject({ restFrom: 70, restTo: 120, passedAt: 130 });
    expect(plateauVisits(steps.slice(0, 3), loss.slice(0, 3), levels).map((x) => x.status)).toEqual(['not reached', 'not reached', 'not reached']);
  });
});

describe('AGF clean case: C_10, k = 2, SequentialMLP d = 12, per-neuron SGD lr 0.1', () => {
  it('the loss rests on L₀ and on L₁, then learns the second mode: every predicted plateau rested on, in order', async () => {
    const task = await runStageDirect(genGroup, { params: { p: 10, k: 2, template: 'fourier', n_freqs: 2 }, seed: 5 });
    const tr = await runStageDirect(trainGroup, {
      inputs: { task: task.outputs.task!, sequences: task.outputs.sequences! }, seed: 5,
      params: { model: 'sequential_mlp', hidden_dim: 12, optimizer: 'per_neuron', lr: 0.1, num_steps: 12000, log_every: 5, save_param_interval: 500, reduction_threshold: 0.9999 },
    });
    const an = await runStageDirect(analyzeGroup, { inputs: { task: task.outputs.task!, curves: tr.outputs.curves!, snapshots: tr.outputs.snapshots! } });
    const s = JSON.parse(readFileSync(an.outputs.summary!, 'utf8'));
    const levels = s.levels as number[];
    expect(levels).toHaveLength(3);
    expect(levels[0]).toBeCloseTo(1, 9); // standardized template: L₀ = Var τ = 1
    expect(levels[2]).toBe(0);
    expect(s.plateaus.map((v: { status: string }) => v.status)).toEqual(['rested', 'rested']);
    const [p0, p1] = s.plateaus;
    expect(p0.restFrom).toBe(0);
    expect(p1.restTo - p1.restFrom).toBeGreaterThan(1000); // a long stay on L₁
    expect(p0.passedAt).toBeLessThan(p1.restFrom);
    expect(p1.passedAt).toBeGreaterThan(p1.restTo);
    expect(s.final_loss).toBeLessThan(0.01 * levels[1]!); // the second mode learned too
    // the figure's table marks both levels as rested
    const rows = (await readTable(an.outputs.loss!)).toArray().map((r) => r.toJSON());
    expect(new Set(rows.filter((r) => r.status !== 'loss').map((r) => r.status))).toEqual(new Set(['rested']));
  }, 120_000);
});
