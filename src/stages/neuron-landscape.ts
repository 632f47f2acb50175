/**
 * `neuron-landscape`: the (w, b) loss landscape of the single neuron ŷ = v·f(wx + b) + c
 * (seed-systems.md §C.3): w, b each on linspace(lo, hi, n); at every grid point the optimal
 * (v, c) in closed form and its MSE. Also the activation and its derivative (the seed's
 * conventions) on a z grid, for the "activation and derivative" figure.
 *
 *   landscape:
 *     kind: neuron-landscape
 *     inputs: { data: cubic.table }
 *     params: { activation: relu, w: [-4, 4, 151], b: [-4, 4, 151] }
 *
 * Outputs: `grid` (w, b, mse, v, c; one row per grid point — the `contour` template's input,
 * with a fit's `snapshots` as the trajectory overlay), `activation` (z, f, df), `metrics`
 * (the grid minimum).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';
import { NEURON_ACTIVATIONS } from '../lib/ml/neuron.js';

const axis = { type: 'array', items: [{ type: 'number' }, { type: 'number' }, { type: 'integer', minimum: 2, maximum: 2001 }], minItems: 3, maxItems: 3 } as const;

export const landscapeParamsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    activation: { enum: [...NEURON_ACTIVATIONS], default: 'relu' },
    leaky_slope: { type: 'number', default: 0.01 },
    w: { ...axis, default: [-4, 4, 151] },
    b: { ...axis, default: [-4, 4, 151] },
    z: { ...axis, default: [-5, 5, 1000], description: 'activation figure: z grid' },
  },
} as const;

export type LandscapeParams = FromSchema<typeof landscapeParamsSchema>;

export default defineStage<LandscapeParams>({
  kind: 'neuron-landscape',
  version: '1',
  description: '(w, b) MSE landscape of a single neuron with closed-form optimal (v, c); activation and derivative curves',
  paramsSchema: landscapeParamsSchema,
  inputs: { data: { type: 'table', description: 'columns x and y' } },
  outputs: {
    grid: { type: 'table', description: 'w, b, mse, v, c per grid point' },
    activation: { type: 'table', description: 'z, f, df' },
    metrics: { type: 'json' },
  },
  async run(ctx) {
    const p = ctx.params;
    const { readTable, numericColumn, makeTable, numericVector, writeTable } = await import('../sdk/table.js');
    const nm = await import('../lib/ml/neuron.js');
    const t = await readTable(ctx.input('data').path);
    const x = numericColumn(t, 'x').values, y = numericColumn(t, 'y').values;
    const grid = { w: p.w as unknown as [number, number, number], b: p.b as unknown as [number, number, number] };
    for (const [k, g] of Object.entries(grid)) if (!(g[1] > g[0])) throw new Error(`neuron-landscape: ${k} range [${g[0]}, ${g[1]}] is empty (need lo < hi)`);
    const l = nm.wbLandscape(p.activation, x, y, grid, (i) => ctx.progress({ done: i + 1, total: grid.w[2] }), p.leaky_slope);
    const nb = l.bs.length;
    const W = new Float64Array(l.mse.length), B = new Float64Array(l.mse.length);
    for (let i = 0; i < l.ws.length; i++) for (let j = 0; j < nb; j++) { W[i * nb + j] = l.ws[i]!; B[i * nb + j] = l.bs[j]!; }
    await writeTable(ctx.output('grid').path, makeTable({
      w: numericVector('float64', W), b: numericVector('float64', B), mse: numericVector('float64', l.mse), v: numericVector('float64', l.v), c: numericVector('float64', l.c),
    }, { activation: p.activation }));
    const act = nm.activation(p.activation, p.leaky_slope);
    const z = nm.linspace(...(p.z as unknown as [number, number, number]));
    await writeTable(ctx.output('activation').path, makeTable({
      z: numericVector('float64', z), f: numericVector('float64', z.map(act.f)), df: numericVector('float64', z.map(act.df)),
    }));
    const o = nm.gridOptimum(l);
    const metrics = { activation: p.activation, grid_points: l.mse.length, min_mse: o.mse, min_w: o.w, min_b: o.b, min_v: o.v, min_c: o.c, var_y: nm.variance(y) };
    await ctx.output('metrics').writeJSON(metrics);
    return { metrics: { min_mse: o.mse, grid_points: l.mse.length } };
  },
});
