/**
 * `analyze-actmix`: per-ActMix-layer analysis of a trained model (§A.9), as tables shaped for
 * the plot stage kind plus `layer_statistics.json`.
 *
 *   analyze:
 *     kind: analyze-actmix
 *     inputs: { model: train[fold=0,model=actmix].model }
 *
 * Figures of §A.9 and the table that feeds each:
 *   (1) α heatmap (neurons × bases, colour [0,1])         → `alpha`       layer, neuron, basis, alpha
 *   (2) entropy histogram, 50 bins, lines at ln K, mean   → `neurons`     (entropy; ln K and mean in `stats`)
 *                                                            `histograms` kind = entropy (pre-binned on [0, ln K])
 *   (3) pie of dominance counts                           → `dominance`   layer, basis, count
 *   (4) α bars of the 3 lowest/3 highest-entropy neurons  → `selected`    layer, neuron, group, rank, basis, alpha
 *   (5) effective activations g_f(x), x ∈ [−5, 5] (200)   → `curves`      layer, neuron, group, rank, x, y
 *   (6) stacked basis_mass per layer                      → `basis_mass`  layer, basis, mass, fraction
 *   (7) max-α histogram, 50 bins on [0,1], lines .25, 1   → `neurons` (max_alpha), `histograms` kind = max_alpha
 * Layers are numbered 0.. in the tables; `layer_name` is `actmix_layer_<i>`.
 * The entropy histogram has exactly `bins` bins on [0, ln K], K = the number of the model's bases
 * (rows of `histograms` with kind = entropy, one set per layer; columns `ln_k` and `mean` carry
 * the reference lines, so a plot draws them from the data instead of a hard-coded ln 4).
 *
 * `layer_statistics` (artifact `layer_statistics.json`) is in the seed's layout (`analyze_weights.py`): keyed by
 * the PyTorch module name of each ActMix layer in the seed's `ActMixMLP.network` Sequential
 * (`network.1`, `network.4`, … with dropout; `network.1`, `network.3`, … without), each with
 * mean/std/min/max_entropy, dominance_counts, num_neurons, basis_mass as a list in basis order
 * and max_alphas — so a seed user's notebooks read it unchanged. `stats` is pipe's own layout
 * (keys `actmix_layer_<i>`, basis_mass by basis name, plus max_possible_entropy, temperature).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';

const analyzeParamsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    checkpoint: { enum: ['best', 'last'], default: 'best', description: "best: the model output (the restored best-val_loss checkpoint); last: the state after the last epoch — the seed README's `last.ckpt` — from the train stage's alpha snapshots (input alpha)" },
    temperature: { type: 'number', exclusiveMinimum: 0, description: 'temperature for α; default: the checkpoint T' },
    n_select: { type: 'integer', minimum: 1, default: 3, description: 'lowest/highest-entropy neurons per layer for figures 4 and 5' },
    curve_points: { type: 'integer', minimum: 2, default: 200 },
    curve_range: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2, default: [-5, 5] },
    bins: { type: 'integer', minimum: 1, default: 50 },
  },
} as const;

/** The params after defaults, derived from the schema (so the two cannot disagree). */
type AnalyzeParams = FromSchema<typeof analyzeParamsSchema>;

export default defineStage<AnalyzeParams>({
  kind: 'analyze-actmix',
  version: '2',
  description: 'ActMix layer analysis: α matrix, entropies, dominance, basis mass, effective activations',
  paramsSchema: analyzeParamsSchema,
  inputs: {
    model: { type: 'json', description: 'model output of a train stage with activation actmix' },
    alpha: { type: 'table', optional: true, description: 'alpha output of the same train stage (needed for checkpoint: last)' },
  },
  outputs: {
    stats: { type: 'json', description: "pipe's layer statistics: per layer (actmix_layer_<i>) mean/std/min/max entropy, dominance counts, basis mass by basis, max alphas, ln K, T" },
    layer_statistics: { type: 'json', description: "layer_statistics.json in the seed's layout: keys network.<i>, basis_mass a list in basis order" },
    alpha: { type: 'table', description: 'layer, layer_name, neuron, basis, alpha (figure 1)' },
    neurons: { type: 'table', description: 'layer, layer_name, neuron, entropy, dominant, max_alpha (figures 2, 7)' },
    dominance: { type: 'table', description: 'layer, layer_name, basis, count (figure 3)' },
    selected: { type: 'table', description: 'layer, layer_name, neuron, group, rank, basis, alpha (figure 4)' },
    curves: { type: 'table', description: 'layer, layer_name, neuron, group, rank, x, y (figure 5)' },
    basis_mass: { type: 'table', description: 'layer, layer_name, basis, mass, fraction (figure 6)' },
    histograms: { type: 'table', description: 'kind (entropy|max_alpha), layer (-1 = all layers), bin_start, bin_end, count (figures 2, 7)' },
  },
  async run(ctx) {
    const p = ctx.params;
    const { analyzeActMix, layerStatistics, effectiveActivation, linspace, histogram } = await import('../lib/ml/actmix-analysis.js');
    const { Table, vectorFromArray, Utf8, Int32, Float64 } = await import('apache-arrow');
    const { writeTable, withMeta } = await import('../sdk/table.js');
    let saved = await ctx.input('model').readJSON<import('../lib/ml/mlp.js').SavedModel>();
    let epoch: number | null = typeof saved.best_epoch === 'number' ? saved.best_epoch + 1 : null;
    if (p.checkpoint === 'last') {
      if (!ctx.has('alpha')) throw new Error("checkpoint: last needs the train stage's alpha snapshots: connect input alpha (e.g. alpha: train.alpha)");
      const { readAlphaSnapshots, atSnapshot } = await import('../lib/ml/actmix-analysis.js');
      const { readTable } = await import('../sdk/table.js');
      const snaps = readAlphaSnapshots(await readTable(ctx.input('alpha').path));
      const s = snaps.epoch.length - 1;
      saved = atSnapshot(saved, snaps, s);
      epoch = snaps.epoch[s]! + 1;
    }
    const T = p.temperature ?? saved.temperature;
    const layers = analyzeActMix(saved, T, p.n_select);
    const omega0 = saved.spec.actmix!.omega_0;

    type Col = number[] | string[];
    const mk = (cols: Record<string, Col>, types: Record<string, 'i' | 'f' | 's'>) => {
      const vecs: Record<string, any> = {};
      for (const [k, v] of Object.entries(cols)) {
        const t = types[k]!;
        vecs[k] = vectorFromArray(v as any, t === 's' ? new Utf8() : t === 'i' ? new Int32() : new Float64());
      }
      return withMeta(new Table(vecs), { source: ctx.input('model').from, temperature: T, checkpoint: p.checkpoint, epoch });
    };
    const rows = <R extends Record<string, number | string>>(list: R[], types: Record<keyof R & string, 'i' | 'f' | 's'>) => {
      const cols: Record<string, Col> = {};
      for (const k of Object.keys(types)) cols[k] = list.map((r) => r[k]!) as Col;
      return mk(cols, types);
    };

    const alphaRows: { layer: number; layer_name: string; neuron: number; basis: string; alpha: number }[] = [];
    const neuronRows: { layer: number; layer_name: string; neuron: number; entropy: number; dominant: string; max_alpha: number }[] = [];
    const domRows: { layer: number; layer_name: string; basis: string; count: number }[] = [];
    const selRows: { layer: number; layer_name: string; neuron: number; group: string; rank: number; basis: string; alpha: number }[] = [];
    const curveRows: { layer: number; layer_name: string; neuron: number; group: string; rank: number; x: number; y: number }[] = [];
    const massRows: { layer: number; layer_name: string; basis: string; mass: number; fraction: number }[] = [];
    const histRows: { kind: string; layer: number; layer_name: string; bin_start: number; bin_end: number; count: number; ln_k: number; mean: number }[] = [];
    const stats: Record<string, unknown> = {};
    const seedStats: Record<string, unknown> = {};
    // the seed's module names: network = [Linear, ActMix, (Dropout)] per hidden layer, then Linear
    const stride = saved.spec.dropout > 0 ? 3 : 2;
    const xs = linspace(p.curve_range[0], p.curve_range[1], p.curve_points);

    for (const L of layers) {
      const K = L.bases.length;
      const st = layerStatistics(L, T);
      stats[L.name] = st;
      seedStats[`network.${L.layer * stride + 1}`] = {
        mean_entropy: st.mean_entropy, std_entropy: st.std_entropy, min_entropy: st.min_entropy, max_entropy: st.max_entropy,
        dominance_counts: st.dominance_counts, num_neurons: st.num_neurons,
        basis_mass: Array.from(L.basisMass), max_alphas: Array.from(L.maxAlpha),
      };
      const base = { layer: L.layer, layer_name: L.name };
      for (let f = 0; f < L.F; f++) {
        for (let k = 0; k < K; k++) alphaRows.push({ ...base, neuron: f, basis: L.bases[k]!, alpha: L.alpha[f * K + k]! });
        neuronRows.push({ ...base, neuron: f, entropy: L.entropy[f]!, dominant: L.bases[L.dominant[f]!]!, max_alpha: L.maxAlpha[f]! });
      }
      L.bases.forEach((b, k) => {
        domRows.push({ ...base, basis: b, count: st.dominance_counts[b]! });
        massRows.push({ ...base, basis: b, mass: L.basisMass[k]!, fraction: L.basisMass[k]! / L.F });
      });
      for (const [group, list] of [['lowest entropy', L.lowest], ['highest entropy', L.highest]] as const) {
        list.forEach((f, rank) => {
          for (let k = 0; k < K; k++) selRows.push({ ...base, neuron: f, group, rank, basis: L.bases[k]!, alpha: L.alpha[f * K + k]! });
          effectiveActivation(L, f, xs, omega0).forEach((y, i) => curveRows.push({ ...base, neuron: f, group, rank, x: xs[i]!, y }));
        });
      }
      const he = histogram(L.entropy, 0, Math.log(K), p.bins);
      he.count.forEach((c, i) => histRows.push({ kind: 'entropy', layer: L.layer, layer_name: L.name, bin_start: he.start[i]!, bin_end: he.end[i]!, count: c, ln_k: Math.log(K), mean: st.mean_entropy }));
    }
    const allMax = layers.flatMap((L) => Array.from(L.maxAlpha));
    const hm = histogram(allMax, 0, 1, p.bins);
    const meanMax = allMax.reduce((a, v) => a + v, 0) / Math.max(1, allMax.length);
    const Kall = layers[0]?.bases.length ?? 1;
    hm.count.forEach((c, i) => histRows.push({ kind: 'max_alpha', layer: -1, layer_name: 'all layers', bin_start: hm.start[i]!, bin_end: hm.end[i]!, count: c, ln_k: Math.log(Kall), mean: meanMax }));

    const L3 = { layer: 'i', layer_name: 's' } as const;
    await ctx.output('stats').writeJSON(stats);
    await ctx.output('layer_statistics').writeJSON(seedStats);
    await writeTable(ctx.output('alpha').path, rows(alphaRows, { ...L3, neuron: 'i', basis: 's', alpha: 'f' }));
    await writeTable(ctx.output('neurons').path, rows(neuronRows, { ...L3, neuron: 'i', entropy: 'f', dominant: 's', max_alpha: 'f' }));
    await writeTable(ctx.output('dominance').path, rows(domRows, { ...L3, basis: 's', count: 'i' }));
    await writeTable(ctx.output('selected').path, rows(selRows, { ...L3, neuron: 'i', group: 's', rank: 'i', basis: 's', alpha: 'f' }));
    await writeTable(ctx.output('curves').path, rows(curveRows, { ...L3, neuron: 'i', group: 's', rank: 'i', x: 'f', y: 'f' }));
    await writeTable(ctx.output('basis_mass').path, rows(massRows, { ...L3, basis: 's', mass: 'f', fraction: 'f' }));
    await writeTable(ctx.output('histograms').path, rows(histRows, { kind: 's', layer: 'i', layer_name: 's', bin_start: 'f', bin_end: 'f', count: 'i', ln_k: 'f', mean: 'f' }));

    const metrics: Record<string, number> = { temperature: T, ...(epoch !== null ? { epoch } : {}) };
    for (const L of layers) {
      const st = stats[L.name] as { mean_entropy: number };
      metrics[`${L.name}_mean_entropy`] = st.mean_entropy;
      metrics[`${L.name}_mean_max_alpha`] = L.maxAlpha.reduce((a, v) => a + v, 0) / L.F;
    }
    ctx.log.info(`${layers.length} ActMix layers analysed at T = ${T} (${p.checkpoint} checkpoint${epoch !== null ? `, after ${epoch} epochs` : ''})`);
    return { metrics };
  },
});
