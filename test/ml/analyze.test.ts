import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStageDirect } from '../../src/engine/exec/context.js';
import { readTable } from '../../src/sdk/table.js';
import { ACTMIX_PRESETS, type SavedModel } from '../../src/lib/ml/mlp.js';
import analyze from '../../src/stages/analyze-actmix.js';
import train from '../../src/stages/train.js';
import { writeDataset, tmp, moons, slice } from './helpers.js';

const dir = tmp('pipe-ml-analyze-');
const rowsOf = async (p: string) => (await readTable(p)).toArray().map((r) => r.toJSON());

describe('analyze-actmix', () => {
  it('α, entropies, dominance, basis mass and curves of a hand-made model', async () => {
    const logits = [0, 0, 1.5, 0, /**/ 0, 0, 0, 0, /**/ 30, 0, 0, 0, /**/ 0, 0, 0, 30];
    const saved: SavedModel = {
      format: 'pipe-mlp/1', temperature: 1,
      spec: { inputDim: 2, outputDim: 2, hidden: [4], dropout: 0, activation: 'actmix', actmix: { ...ACTMIX_PRESETS['actmix-paper'], omega_0: 2 } },
      params: { 'act0/logits': { shape: [4, 4], values: logits } },
    };
    const path = join(dir, 'model.json');
    writeFileSync(path, JSON.stringify(saved));
    const r = await runStageDirect(analyze, { params: { n_select: 1, curve_points: 5 }, inputs: { model: path } });
    const stats = JSON.parse(readFileSync(r.outputs.stats!, 'utf8')).actmix_layer_0;
    const ent = (await rowsOf(r.outputs.neurons!)).map((n) => n.entropy);
    expect(ent[0]).toBeCloseTo(1.1139, 4);
    expect(ent[1]).toBeCloseTo(Math.log(4), 8);
    expect(ent[2]).toBeLessThan(1e-9);
    expect(stats.mean_entropy).toBeCloseTo((ent[0] + ent[1] + ent[2] + ent[3]) / 4, 12);
    expect(stats.max_possible_entropy).toBeCloseTo(Math.log(4), 12);
    // neuron 1 (uniform) argmax is the first basis (ties → first), as np.argmax
    expect(stats.dominance_counts).toEqual({ sin: 2, tanh: 0, relu: 1, identity: 1 });
    expect(stats.basis_mass.relu).toBeCloseTo(0.5990 + 0.25, 4);
    expect(stats.basis_mass.sin).toBeCloseTo(0.1337 + 0.25 + 1, 4);
    expect(stats.max_alphas[0]).toBeCloseTo(0.5990, 4);
    const mass = await rowsOf(r.outputs.basis_mass!);
    expect(mass.reduce((a, m) => a + m.fraction, 0)).toBeCloseTo(1, 12);
    // lowest-entropy neuron is the one-hot sin neuron (index 2): g(x) = sin(2x); highest is the uniform one
    const curves = await rowsOf(r.outputs.curves!);
    const low = curves.filter((c) => c.group === 'lowest entropy');
    expect(low.map((c) => c.neuron)).toEqual([2, 2, 2, 2, 2]);
    expect(low.map((c) => c.x)).toEqual([-5, -2.5, 0, 2.5, 5]);
    low.forEach((c) => expect(c.y).toBeCloseTo(Math.sin(2 * c.x), 9));
    const high = curves.filter((c) => c.group === 'highest entropy');
    expect(high[0]!.neuron).toBe(1);
    high.forEach((c) => expect(c.y).toBeCloseTo(0.25 * (Math.sin(2 * c.x) + Math.tanh(c.x) + Math.max(0, c.x) + c.x), 12));
    const hist = await rowsOf(r.outputs.histograms!);
    expect(hist.filter((h) => h.kind === 'entropy').reduce((a, h) => a + h.count, 0)).toBe(4);
    const maxH = hist.filter((h) => h.kind === 'max_alpha');
    expect(maxH).toHaveLength(50);
    expect(maxH[49]!.count).toBe(2); // the two one-hot neurons
    expect((await rowsOf(r.outputs.alpha!))).toHaveLength(16);
  });

  it('analyses the model written by the train stage (α at its checkpoint temperature)', async () => {
    const all = moons(300, 2);
    const inputs = {
      train: await writeDataset(dir, 'tr', slice(all, 0, 200), 'classification'),
      val: await writeDataset(dir, 'va', slice(all, 200, 250), 'classification'),
      test: await writeDataset(dir, 'te', slice(all, 250, 300), 'classification'),
    };
    const t = await runStageDirect(train, { params: { backend: 'wasm', model: { activation: 'actmix', hidden: [8, 6] }, training: { max_epochs: 2, patience: 0 } }, inputs, seed: 3 });
    const m = JSON.parse(readFileSync(t.outputs.metrics!, 'utf8'));
    const r = await runStageDirect(analyze, { inputs: { model: t.outputs.model! } });
    const stats = JSON.parse(readFileSync(r.outputs.stats!, 'utf8'));
    expect(Object.keys(stats)).toEqual(['actmix_layer_0', 'actmix_layer_1']);
    expect(stats.actmix_layer_0.num_neurons).toBe(8);
    expect(stats.actmix_layer_1.temperature).toBeCloseTo(m.temperature_at_best, 12);
    // two epochs barely move the logits from the paper init (relu dominant, H ≈ 1.11 at T≈1)
    expect(stats.actmix_layer_1.dominance_counts.relu).toBe(6);
    expect(stats.actmix_layer_0.mean_entropy).toBeCloseTo(m.mean_entropy_at_best, 3);
  });

  it('refuses a model without ActMix layers', async () => {
    const path = join(dir, 'relu.json');
    writeFileSync(path, JSON.stringify({ format: 'pipe-mlp/1', temperature: 1, spec: { inputDim: 1, outputDim: 1, hidden: [2], dropout: 0, activation: 'relu' }, params: {} }));
    await expect(runStageDirect(analyze, { inputs: { model: path } })).rejects.toThrow(/no ActMix layers/);
  });
});
