import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runStageDirect } from '../../src/engine/exec/context.js';
import { readTable } from '../../src/sdk/table.js';
import { ACTMIX_PRESETS, type SavedModel } from '../../src/lib/ml/mlp.js';
import analyze from '../../src/stages/analyze-actmix.js';
import plot from '../../src/stages/plot.js';
import { repoRoot } from '../engine/helpers.js';
import { tmp } from './helpers.js';

const dir = tmp('pipe-ml-analyze-seed-');
const rowsOf = async (p: string) => (await readTable(p)).toArray().map((r) => r.toJSON());

/** A 2-layer ActMix model with 3 bases (K = 3, so ln K = ln 3, not ln 4). */
function model3(dropout: number): string {
  const F = 6;
  const logits = (seed: number) => Array.from({ length: F * 3 }, (_, i) => ((i * 7 + seed) % 5) - 2);
  const saved: SavedModel = {
    format: 'pipe-mlp/1', temperature: 0.7,
    spec: { inputDim: 2, outputDim: 2, hidden: [F, F], dropout, activation: 'actmix', actmix: { ...ACTMIX_PRESETS['actmix-paper'], bases: ['sigmoid', 'relu', 'identity'] } },
    params: { 'act0/logits': { shape: [F, 3], values: logits(1) }, 'act1/logits': { shape: [F, 3], values: logits(3) } },
  };
  const path = join(dir, `model-${dropout}.json`);
  writeFileSync(path, JSON.stringify(saved));
  return path;
}

describe('analyze-actmix: entropy histogram on [0, ln K] and the seed-layout layer_statistics.json', () => {
  it('exactly 50 entropy bins per layer on [0, ln K], K from the model bases; ln K and the mean in the rows', async () => {
    const r = await runStageDirect(analyze, { inputs: { model: model3(0.1) } });
    const hist = (await rowsOf(r.outputs.histograms!)).filter((h) => h.kind === 'entropy');
    const neurons = await rowsOf(r.outputs.neurons!);
    for (const layer of [0, 1]) {
      const h = hist.filter((x) => x.layer === layer);
      expect(h).toHaveLength(50);
      expect(h[0]!.bin_start).toBe(0);
      expect(h[49]!.bin_end).toBeCloseTo(Math.log(3), 12);
      h.forEach((x) => expect(x.bin_end - x.bin_start).toBeCloseTo(Math.log(3) / 50, 12));
      h.forEach((x) => expect(x.ln_k).toBeCloseTo(Math.log(3), 12));
      const ent = neurons.filter((n) => n.layer === layer).map((n) => n.entropy as number);
      expect(h.reduce((a, x) => a + x.count, 0)).toBe(ent.length);
      expect(h[0]!.mean).toBeCloseTo(ent.reduce((a, v) => a + v, 0) / ent.length, 12);
      expect(h[0]!.layer_name).toBe(`actmix_layer_${layer}`);
    }
  });

  it("layer_statistics.json has the seed's keys (network.<i>) and list-valued basis_mass", async () => {
    for (const [dropout, keys] of [[0.1, ['network.1', 'network.4']], [0, ['network.1', 'network.3']]] as const) {
      const r = await runStageDirect(analyze, { inputs: { model: model3(dropout) } });
      const seed = JSON.parse(readFileSync(r.outputs.layer_statistics!, 'utf8'));
      const own = JSON.parse(readFileSync(r.outputs.stats!, 'utf8'));
      expect(Object.keys(seed)).toEqual(keys);
      keys.forEach((k, i) => {
        const s = seed[k], o = own[`actmix_layer_${i}`];
        expect(Object.keys(s).sort()).toEqual(['basis_mass', 'dominance_counts', 'max_alphas', 'max_entropy', 'mean_entropy', 'min_entropy', 'num_neurons', 'std_entropy']);
        expect(s.basis_mass).toEqual([o.basis_mass.sigmoid, o.basis_mass.relu, o.basis_mass.identity]);
        expect(s.basis_mass.reduce((a: number, v: number) => a + v, 0)).toBeCloseTo(6, 9); // Σ_f Σ_k α = F
        expect(s.dominance_counts).toEqual(o.dominance_counts);
        expect(s.max_alphas).toHaveLength(6);
        expect(s.num_neurons).toBe(6);
        expect(s.mean_entropy).toBe(o.mean_entropy);
      });
    }
  });

  it("actmix_quick's entropy_hist draws those 50 bars with a rule at ln K", async () => {
    const r = await runStageDirect(analyze, { inputs: { model: model3(0.1) } });
    const doc = parse(readFileSync(join(repoRoot, 'pipelines/actmix_quick.yaml'), 'utf8'));
    const params = doc.stages.entropy_hist.params;
    expect(JSON.stringify(params)).not.toContain('1.386');
    const p = await runStageDirect(plot, { params, inputs: { data: r.outputs.histograms! } });
    const spec = JSON.parse(readFileSync(p.outputs.spec!, 'utf8'));
    const values: { kind: string; layer_name: string }[] = spec.data?.values ?? spec.datasets?.[Object.keys(spec.datasets)[0]!];
    expect(values.filter((v) => v.kind === 'entropy')).toHaveLength(100);
    const text = JSON.stringify(spec);
    expect(text).toContain('"x2":{"field":"bin_end"}');
    expect(text).toContain('"field":"ln_k"');
    expect(readFileSync(p.outputs.png!).subarray(1, 4).toString()).toBe('PNG');
  }, 60_000);
});
