/**
 * `analyze-group`: what a `train-group` run learned, against the AGF theory (§D.6):
 *
 *  - `loss`        long table for the staircase figure: the validation (and training) loss per
 *                  step, and the predicted plateau levels L₀ > L₁ > … as horizontal series, each
 *                  with its `status`: rested (the loss stayed within ±rest_tol for rest_evals
 *                  evaluations), passed through, or not reached
 *  - `spectrum`    Fourier power of every neuron's output weights W_out[:, i] per tracked template
 *                  frequency (the template's modes), at the last snapshot
 *  - `assignment`  neuron → frequency (argmax of that power) at the snapshot fractions
 *                  0, .25, .5, .75, 1; neurons with ‖W_out[:, i]‖ < `dead_norm` (0.25) count as dead
 *  - `neurons`     2D tasks: each alive neuron's W_out column as a p1×p2 image with its frequency
 *                  (the specialisation grid); 1D: the same as rows of length p
 *  - `frames`      W_out of the first `gif_neurons` neurons at every snapshot (for an `animation`)
 *  - `summary`     JSON: final loss vs the levels, steps to each plateau, frequencies acquired
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';

export const analyzeGroupSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    fractions: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, default: [0, 0.25, 0.5, 0.75, 1] },
    dead_norm: { type: 'number', minimum: 0, default: 0.25, description: '‖W_out[:, i]‖ below this: a dead neuron (the seed’s plot threshold)' },
    gif_neurons: { type: 'integer', minimum: 1, default: 16 },
    max_frames: { type: 'integer', minimum: 2, default: 40 },
    max_levels: { type: 'integer', minimum: 1, default: 6, description: 'plateau levels drawn in the loss figure (L₀ … L_{max−1}; an MNIST template has dozens)' },
    rest_tol: { type: 'number', exclusiveMinimum: 0, default: 0.1, description: 'a level is rested on when the val loss stays within ± this (relative) of it …' },
    rest_evals: { type: 'integer', minimum: 1, default: 5, description: '… for at least this many consecutive evaluations' },
  },
} as const;

export type AnalyzeGroupParams = FromSchema<typeof analyzeGroupSchema>;

export default defineStage<AnalyzeGroupParams>({
  kind: 'analyze-group',
  version: '1',
  description: 'AGF staircase vs the loss, Fourier power and frequency of every neuron over training, specialisation grids (§D.6)',
  paramsSchema: analyzeGroupSchema,
  inputs: {
    task: { type: 'json' },
    curves: { type: 'table' },
    snapshots: { type: 'table' },
  },
  outputs: {
    loss: { type: 'table', description: 'step, value, series (val loss, train loss, plateau L_m), status (loss / rested / passed through / not reached)' },
    spectrum: { type: 'table', description: 'neuron, frequency, power at the last snapshot' },
    assignment: { type: 'table', description: 'fraction, step, frequency, neurons' },
    neurons: { type: 'table', description: 'alive neurons: W_out column (image), label = frequency' },
    frames: { type: 'table', description: 'step, neuron, position, value: W_out over training' },
    summary: { type: 'json' },
  },
  async run(ctx) {
    const p = ctx.params;
    const task = await ctx.input('task').readJSON<import('./generate-group.js').GroupTask>();
    const G = await import('../lib/ml/group.js');
    const { readTable, writeTable } = await import('../sdk/table.js');
    const { tableFromArrays } = await import('apache-arrow');
    const { makeTable, fixedListVector, stringVector, numericVector } = await import('../sdk/table.js');
    const g = { dims: task.dims };
    const n = G.groupOrder(g);
    const label = (f: number[]) => (f.length === 1 ? `k=${f[0]}` : `(${f[0]},${f[1]})`);
    const tracked = task.powers.map((b) => b.freq);

    // ---- loss vs the staircase
    const curves = (await readTable(ctx.input('curves').path)).toArray().map((r) => r.toJSON() as Record<string, number>);
    const steps: number[] = [], values: number[] = [], series: string[] = [];
    for (const r of curves) {
      steps.push(r.step!); values.push(r.val_loss!); series.push('validation loss');
      if (r.step! > 0) { steps.push(r.step!); values.push(r.train_loss!); series.push('training loss'); }
    }
    const last = curves.at(-1)!.step!;
    // which levels the validation loss rested on and which it only passed through (src/lib/ml/plateaus.ts)
    const { plateauVisits } = await import('../lib/ml/plateaus.js');
    const visits = plateauVisits(curves.map((r) => r.step!), curves.map((r) => r.val_loss!), task.levels, { tol: p.rest_tol, minEvals: p.rest_evals });
    const status: string[] = series.map(() => 'loss');
    task.levels.forEach((lv, m) => {
      if (lv <= 0 || m >= p.max_levels) return;
      const v = visits.find((x) => x.m === m)!;
      const what = v.status === 'rested' ? `rested ${v.restFrom}–${v.restTo}` : v.status;
      const name = `L${m} = ${lv.toPrecision(3)}${m === 0 ? ' = Var(τ)' : ` (${m} mode${m > 1 ? 's' : ''}: +${label(task.powers[m - 1]!.freq)})`}: ${what}`;
      for (const s of [0, last]) { steps.push(s); values.push(lv); series.push(name); status.push(v.status); }
    });
    await writeTable(ctx.output('loss').path, tableFromArrays({ step: Int32Array.from(steps), value: Float64Array.from(values), series, status }));

    // ---- neurons over training (W_out columns: the neuron's output pattern on the group)
    const snaps = await readTable(ctx.input('snapshots').path);
    const col = snaps.getChild('W_out');
    if (!col) throw new Error("snapshots have no 'W_out' column");
    const snapSteps = Array.from(snaps.getChild('step')!.toArray() as ArrayLike<number>, Number);
    const S = snaps.numRows;
    const d = (col.get(0)!.length as number) / n;
    // W_out (n × d) of snapshot s as d rows of length n, transposed once per snapshot
    const columns = new Map<number, Float64Array>();
    const columnsAt = (s: number): Float64Array => {
      let out = columns.get(s);
      if (!out) {
        const W = col.get(s)!.toArray() as Float32Array;
        out = new Float64Array(d * n);
        for (let i = 0; i < d; i++) for (let j = 0; j < n; j++) out[i * n + j] = W[j * d + i]!;
        columns.set(s, out);
      }
      return out;
    };
    const fr = p.fractions.map((f) => ({ f, s: Math.round(f * (S - 1)) }));
    const aF: number[] = [], aStep: number[] = [], aFreq: string[] = [], aCount: number[] = [];
    for (const { f, s } of fr) {
      const r = G.neuronFrequencies(columnsAt(s), d, g, tracked);
      const counts = new Map<string, number>();
      for (let i = 0; i < d; i++) {
        const key = r.norm[i]! < p.dead_norm ? 'dead' : label(tracked[r.assigned[i]!]!);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      for (const key of [...tracked.map(label), 'dead']) { aF.push(f); aStep.push(snapSteps[s]!); aFreq.push(key); aCount.push(counts.get(key) ?? 0); }
    }
    await writeTable(ctx.output('assignment').path, tableFromArrays({ fraction: Float64Array.from(aF), step: Int32Array.from(aStep), frequency: aFreq, neurons: Int32Array.from(aCount) }));

    const cols = columnsAt(S - 1);
    const final = G.neuronFrequencies(cols, d, g, tracked);
    const T = tracked.length;
    const sN: number[] = [], sF: string[] = [], sP: number[] = [];
    for (let i = 0; i < d; i++) for (let t = 0; t < T; t++) { sN.push(i); sF.push(label(tracked[t]!)); sP.push(final.power[i * T + t]!); }
    await writeTable(ctx.output('spectrum').path, tableFromArrays({ neuron: Int32Array.from(sN), frequency: sF, power: Float64Array.from(sP) }));

    const alive = Array.from({ length: d }, (_, i) => i).filter((i) => final.norm[i]! >= p.dead_norm).sort((a, b) => final.assigned[a]! - final.assigned[b]! || final.norm[b]! - final.norm[a]!);
    const img = new Float32Array(alive.length * n);
    alive.forEach((i, r) => { for (let j = 0; j < n; j++) img[r * n + j] = cols[i * n + j]!; });
    await writeTable(ctx.output('neurons').path, makeTable({ neuron: numericVector('int32', alive), label: stringVector(alive.map((i) => label(tracked[final.assigned[i]!]!))), image: fixedListVector(img, n) }));

    // ---- W_out over training, evenly thinned snapshots
    const G2 = Math.min(d, p.gif_neurons);
    const pick = S <= p.max_frames ? Array.from({ length: S }, (_, i) => i) : Array.from({ length: p.max_frames }, (_, i) => Math.round((i * (S - 1)) / (p.max_frames - 1)));
    const fS: number[] = [], fN: number[] = [], fP: number[] = [], fV: number[] = [];
    for (const s of pick) {
      const c = columnsAt(s);
      for (let i = 0; i < G2; i++) for (let j = 0; j < n; j++) { fS.push(snapSteps[s]!); fN.push(i); fP.push(j); fV.push(c[i * n + j]!); }
    }
    await writeTable(ctx.output('frames').path, tableFromArrays({ step: Int32Array.from(fS), neuron: Int32Array.from(fN), position: Int32Array.from(fP), value: Float64Array.from(fV) }));

    const finalLoss = curves.at(-1)!.val_loss!;
    const nearest = task.levels.reduce((best, lv, m) => (Math.abs(lv - finalLoss) < Math.abs(task.levels[best]! - finalLoss) ? m : best), 0);
    const acquired = new Set(alive.map((i) => label(tracked[final.assigned[i]!]!)));
    const summary = {
      levels: task.levels, final_loss: finalLoss, nearest_level: nearest, final_over_nearest: task.levels[nearest]! > 0 ? finalLoss / task.levels[nearest]! : null,
      snapshots: S, neurons: d, alive: alive.length, frequencies_acquired: tracked.map(label).filter((l) => acquired.has(l)),
      plateaus: visits, plateaus_rested: visits.filter((v) => v.rested).length, plateaus_passed_through: visits.filter((v) => v.status === 'passed through').length,
      template_modes: tracked.map((f, t) => ({ frequency: label(f), power: task.powers[t]!.power, neurons: alive.filter((i) => final.assigned[i] === t).length })),
    };
    await ctx.output('summary').writeJSON(summary);
    return { metrics: { final_loss: finalLoss, alive: alive.length, modes_acquired: summary.frequencies_acquired.length, plateaus_rested: summary.plateaus_rested } };
  },
});
