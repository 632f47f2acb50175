/**
 * The group-composition kinds end to end: a small 1D run (p = 10, k = 2, SequentialMLP) on the
 * §D.6 test template τ = 3cos(2πi/10) + cos(6πi/10) visits the predicted plateaus L₀ = 5, L₁ = 0.5
 * within 5% before learning the second mode; generate-group's tasks (fourier 1D/2D, onehot,
 * offline exhaustive) and train-group's offline mode, seq-to-seq, optimizers and errors;
 * analyze-group's frequency assignment.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStageDirect } from '../../src/engine/exec/context.js';
import gen from '../../src/stages/generate-group.js';
import train from '../../src/stages/train-group.js';
import analyze from '../../src/stages/analyze-group.js';
import { readTable } from '../../src/sdk/table.js';
import { staircase } from '../../src/lib/ml/group.js';

const rows = async (p: string) => (await readTable(p)).toArray().map((x) => x.toJSON() as Record<string, number | string>);

describe('AGF staircase in a real run', () => {
  it('p = 10, k = 2, SequentialMLP: the loss starts at L₀ = 5.0, dwells at L₁ = 0.5 (±5%), then learns the second mode', async () => {
    const tau = Array.from({ length: 10 }, (_, i) => 3 * Math.cos((2 * Math.PI * i) / 10) + Math.cos((6 * Math.PI * i) / 10));
    const st = staircase(tau, { dims: [10] });
    const dir = mkdtempSync(join(tmpdir(), 'pipe-agf-'));
    writeFileSync(join(dir, 'task.json'), JSON.stringify({ format: 'pipe-group-task/1', dims: [10], k: 2, template: 'custom', tau, powers: st.powers, levels: st.levels, mode: 'online', seq_to_seq: false, train_sequences: 0, val_sequences: 0 }));
    const seqs = await runStageDirect(gen, { params: { p: 10, k: 2 } });
    const r = await runStageDirect(train, { params: { model: 'sequential_mlp', hidden_dim: 12, optimizer: 'adam', lr: 3e-3, init_scale: 1e-3, num_steps: 3000, log_every: 10, batch_size: 500, reduction_threshold: 0.999, save_param_interval: 50 }, inputs: { task: join(dir, 'task.json'), sequences: seqs.outputs.sequences! }, seed: 1 });
    const c = await rows(r.outputs.curves!);
    const val = c.map((x) => x.val_loss as number);
    expect(val[0]).toBeGreaterThan(5 * 0.95);
    expect(val[0]).toBeLessThan(5 * 1.05);
    // a plateau: at least 5 consecutive evaluations within 5% of L₁ = 0.5
    let run = 0, longest = 0;
    for (const v of val) { run = Math.abs(v - 0.5) <= 0.025 ? run + 1 : 0; longest = Math.max(longest, run); }
    expect(longest).toBeGreaterThanOrEqual(5);
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    expect(m.final_loss).toBeLessThan(0.05 * 0.5);
    expect(m.stopped_early).toBe(true);
    expect(m.steps_to_level[0]).toBeLessThan(m.steps_to_level[1]);
    const a = await runStageDirect(analyze, { inputs: { task: join(dir, 'task.json'), curves: r.outputs.curves!, snapshots: r.outputs.snapshots! } });
    const s = JSON.parse(readFileSync(a.outputs.summary!, 'utf8'));
    expect(s.frequencies_acquired.sort()).toEqual(['k=1', 'k=3']);
    expect(s.nearest_level).toBe(2);
    const assign = await rows(a.outputs.assignment!);
    expect(assign.filter((x) => x.fraction === 0).find((x) => x.frequency === 'dead')!.neurons).toBe(12); // small init: every neuron below the norm threshold
  }, 60_000);
});

describe('generate-group', () => {
  it('fourier 1D and 2D tasks carry their staircase; onehot levels; exhaustive offline sequences and the size guard', async () => {
    const f = await runStageDirect(gen, { params: { p: 20, k: 3, template: 'fourier', n_freqs: 3 }, seed: 2 });
    const t = JSON.parse(readFileSync(f.outputs.task!, 'utf8'));
    expect(t.powers).toHaveLength(3);
    expect(t.levels[0]).toBeCloseTo(1, 9);
    expect(t.tau.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(0, 9);
    const f2 = await runStageDirect(gen, { params: { p: [6, 6], k: 2, template: 'fourier', n_freqs: 2 }, seed: 2 });
    expect(JSON.parse(readFileSync(f2.outputs.task!, 'utf8')).powers).toHaveLength(2);
    const o = await runStageDirect(gen, { params: { p: 5, k: 2, template: 'onehot', mode: 'exhaustive' } });
    const ot = JSON.parse(readFileSync(o.outputs.task!, 'utf8'));
    expect(ot.levels).toEqual([0.16, 0.08, 0].map((x) => expect.closeTo(x, 9)));
    expect(ot.train_sequences).toBe(25);
    expect(ot.val_sequences).toBe(1000);
    await expect(runStageDirect(gen, { params: { p: 101, k: 3, mode: 'exhaustive' } })).rejects.toThrow(/more than 10⁶/);
    await expect(runStageDirect(gen, { params: { p: 10, template: 'mnist' } })).rejects.toThrow(/needs the 'mnist' input/);
  });
});

describe('train-group', () => {
  it('offline (exhaustive C_5, k = 2) with per_neuron; QuadraticRNN seq-to-seq with hybrid; option errors', async () => {
    const o = await runStageDirect(gen, { params: { p: 5, k: 2, template: 'onehot', mode: 'exhaustive' } });
    const r = await runStageDirect(train, { params: { model: 'sequential_mlp', hidden_dim: 20, optimizer: 'per_neuron', lr: 0.5, init_scale: 0.1, epochs: 30, batch_size: 5, reduction_threshold: null }, inputs: { task: o.outputs.task!, sequences: o.outputs.sequences! }, seed: 3 });
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    expect(m.steps).toBe(30 * 5);
    expect(m.final_loss).toBeLessThan(m.initial_loss);
    const q = await runStageDirect(gen, { params: { p: 6, k: 3, template: 'fourier', n_freqs: 2, seq_to_seq: true } });
    const rq = await runStageDirect(train, { params: { model: 'quadratic_rnn', hidden_dim: 16, optimizer: 'hybrid', lr: 1e-3, num_steps: 40, log_every: 10, batch_size: 64 }, inputs: { task: q.outputs.task!, sequences: q.outputs.sequences! } });
    const mq = JSON.parse(readFileSync(rq.outputs.metrics!, 'utf8'));
    expect(mq.optimizer).toBe('hybrid');
    expect(mq.steps).toBe(40);
    const snaps = await readTable(rq.outputs.snapshots!);
    expect(snaps.schema.fields.map((x) => x.name)).toEqual(['epoch', 'step', 'W_in', 'W_drive', 'W_mix', 'W_out']);
    await expect(runStageDirect(train, { params: { model: 'sequential_mlp', optimizer: 'hybrid' }, inputs: { task: q.outputs.task!, sequences: q.outputs.sequences! } })).rejects.toThrow(/seq_to_seq|hybrid is for quadratic_rnn/);
  }, 60_000);
});
