/**
 * `actmix-dynamics`: how the ActMix mixing coefficients evolve over training, from the `alpha`
 * output of a `train` stage (the logits of every ActMix layer and T, recorded before training,
 * every `alpha_every` epochs and after the last epoch). None of the seed's figures shows this.
 *
 *   dynamics:
 *     kind: actmix-dynamics
 *     inputs: { alpha: train[fold=0,model=actmix].alpha }
 *
 * Epochs here count completed epochs: 0 is the initial weights, e the state after e epochs
 * (the curves table's row `epoch = e − 1`); `best_epoch` is the restored checkpoint on that scale.
 * α is taken at each snapshot's own temperature, as training saw it.
 *
 * Outputs:
 *  - `mass`: epoch, layer, layer_name, basis, mass (Σ_f α, the seed's basis_mass), fraction
 *    (mass / F), dominant (neurons whose largest α is this basis), dominant_fraction,
 *    temperature, mean_entropy, best_epoch — line charts of basis mass and dominance per layer;
 *  - `alpha`: epoch, layer, layer_name, neuron, basis, alpha — one α heatmap per snapshot (the GIF);
 *  - `summary`: per layer, basis mass fractions and dominance at the first and last snapshot.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';

const dynamicsParamsSchema = { type: 'object', additionalProperties: false, properties: {} } as const;

export default defineStage<FromSchema<typeof dynamicsParamsSchema>>({
  kind: 'actmix-dynamics',
  version: '1',
  description: 'ActMix α over training: basis mass, dominance and entropy per snapshot, α per snapshot for a GIF',
  paramsSchema: dynamicsParamsSchema,
  inputs: { alpha: { type: 'table', description: "alpha output of a train stage with activation actmix (alpha_every > 0)" } },
  outputs: {
    mass: { type: 'table', description: 'epoch, layer, layer_name, basis, mass, fraction, dominant, dominant_fraction, temperature, mean_entropy, best_epoch' },
    alpha: { type: 'table', description: 'epoch, layer, layer_name, neuron, basis, alpha (one heatmap per snapshot)' },
    summary: { type: 'json', description: 'snapshots, epochs, per layer first/last basis mass fraction and dominance' },
  },
  async run(ctx) {
    const { readAlphaSnapshots, alphaDynamics } = await import('../lib/ml/actmix-analysis.js');
    const { readTable, writeTable, withMeta } = await import('../sdk/table.js');
    const { tableFromArrays } = await import('apache-arrow');
    const snaps = readAlphaSnapshots(await readTable(ctx.input('alpha').path));
    const dyn = alphaDynamics(snaps);
    const bestEpoch = snaps.bestEpoch === null ? NaN : snaps.bestEpoch + 1;
    const done = (e: number) => e + 1; // snapshot epoch (−1 = init, e = after epoch e) → completed epochs

    const m = { epoch: [] as number[], layer: [] as number[], layer_name: [] as string[], basis: [] as string[], mass: [] as number[], fraction: [] as number[], dominant: [] as number[], dominant_fraction: [] as number[], temperature: [] as number[], mean_entropy: [] as number[] };
    let nAlpha = 0;
    for (const d of dyn) nAlpha += d.F * d.K;
    const a = { epoch: new Int32Array(nAlpha), layer: new Int32Array(nAlpha), layer_name: new Array<string>(nAlpha), neuron: new Int32Array(nAlpha), basis: new Array<string>(nAlpha), alpha: new Float64Array(nAlpha) };
    let i = 0;
    for (const d of dyn) {
      const name = `actmix_layer_${d.layer}`;
      snaps.bases.forEach((b, k) => {
        m.epoch.push(done(d.epoch)); m.layer.push(d.layer); m.layer_name.push(name); m.basis.push(b);
        m.mass.push(d.mass[k]!); m.fraction.push(d.mass[k]! / d.F);
        m.dominant.push(d.dominant[k]!); m.dominant_fraction.push(d.dominant[k]! / d.F);
        m.temperature.push(d.temperature); m.mean_entropy.push(d.meanEntropy);
      });
      for (let f = 0; f < d.F; f++) {
        for (let k = 0; k < d.K; k++, i++) {
          a.epoch[i] = done(d.epoch); a.layer[i] = d.layer; a.layer_name[i] = name; a.neuron[i] = f; a.basis[i] = snaps.bases[k]!; a.alpha[i] = d.alpha[f * d.K + k]!;
        }
      }
    }
    const meta = { source: ctx.input('alpha').from, bases: snaps.bases, best_epoch: bestEpoch };
    await writeTable(ctx.output('mass').path, withMeta(tableFromArrays({
      epoch: Int32Array.from(m.epoch), layer: Int32Array.from(m.layer), layer_name: m.layer_name, basis: m.basis,
      mass: Float64Array.from(m.mass), fraction: Float64Array.from(m.fraction), dominant: Int32Array.from(m.dominant),
      dominant_fraction: Float64Array.from(m.dominant_fraction), temperature: Float64Array.from(m.temperature),
      mean_entropy: Float64Array.from(m.mean_entropy), best_epoch: new Float64Array(m.epoch.length).fill(bestEpoch),
    }), meta));
    await writeTable(ctx.output('alpha').path, withMeta(tableFromArrays(a), meta));

    const L = snaps.layers.length;
    const at = (s: number, l: number) => dyn[s * L + l]!;
    const S = snaps.epoch.length;
    const layers: Record<string, unknown> = {};
    const metrics: Record<string, number> = { snapshots: S, epochs: done(snaps.epoch[S - 1]!) };
    for (let l = 0; l < L; l++) {
      const first = at(0, l), last = at(S - 1, l);
      const byBasis = (v: ArrayLike<number>, F: number) => Object.fromEntries(snaps.bases.map((b, k) => [b, v[k]! / F]));
      layers[`actmix_layer_${l}`] = {
        first: { epoch: done(first.epoch), fraction: byBasis(first.mass, first.F), dominant_fraction: byBasis(first.dominant, first.F), mean_entropy: first.meanEntropy, temperature: first.temperature },
        last: { epoch: done(last.epoch), fraction: byBasis(last.mass, last.F), dominant_fraction: byBasis(last.dominant, last.F), mean_entropy: last.meanEntropy, temperature: last.temperature },
      };
      metrics[`actmix_layer_${l}_final_mean_entropy`] = last.meanEntropy;
    }
    await ctx.output('summary').writeJSON({ snapshots: S, epochs: snaps.epoch.map(done), best_epoch: Number.isNaN(bestEpoch) ? null : bestEpoch, bases: snaps.bases, layers });
    ctx.log.info(`${S} snapshots of ${L} ActMix layers (epochs ${done(snaps.epoch[0]!)}–${done(snaps.epoch[S - 1]!)})`);
    return { metrics };
  },
});
