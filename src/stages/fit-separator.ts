/**
 * `fit-separator`: the 2-D separator of the Hebbian seed's `plot_separator.py` — over two chosen
 * features of a table, a perceptron and optionally logistic regression, their decision
 * boundaries as lines in the features' own units, for a scatter plot coloured by label.
 *
 *   sep:
 *     kind: fit-separator
 *     inputs: { table: health_data.table }
 *     params: { x: bmi, y: steps, epochs: 30, lr: 0.05, logistic: true, log_epochs: 200, log_lr: 0.1 }
 *   sep_plot:
 *     kind: plot
 *     inputs: { data: sep.points, overlay: sep.lines }
 *     params: { template: scatter, x: bmi, y: steps, color: label }
 *
 * Perceptron (Rosenblatt, labels ±1): `epochs` passes over the rows in a seeded shuffled order;
 * on a mistake y(w·x + b) ≤ 0: w ← w + lr·y·x, b ← b + lr·y. Logistic regression: full-batch
 * gradient descent on mean BCE + (l2/2)‖w‖², `log_epochs` steps of `log_lr`; its line is
 * p = 0.5. Features are standardized with the table's mean and population std first
 * (`standardize: false` fits raw values); lines are mapped back to feature units and cut to
 * the data's box. `metrics`: training accuracy of each separator.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';

export const separatorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['x', 'y'],
  properties: {
    x: { type: 'string' },
    y: { type: 'string' },
    label: { type: 'string', description: 'label column (default: the table target)' },
    standardize: { type: 'boolean', default: true },
    epochs: { type: 'integer', minimum: 1, default: 30 },
    lr: { type: 'number', exclusiveMinimum: 0, default: 0.05 },
    logistic: { type: 'boolean', default: false },
    log_epochs: { type: 'integer', minimum: 1, default: 200 },
    log_lr: { type: 'number', exclusiveMinimum: 0, default: 0.1 },
    log_l2: { type: 'number', minimum: 0, default: 0 },
  },
} as const;

export type SeparatorParams = FromSchema<typeof separatorSchema>;

export interface Line2 { w: [number, number]; b: number }

/** Rosenblatt's perceptron on rows (x1, x2) with labels ±1. */
export function perceptron(X: Float64Array, y: Int8Array, epochs: number, lr: number, order: () => Int32Array): Line2 {
  const w: [number, number] = [0, 0];
  let b = 0;
  for (let e = 0; e < epochs; e++) {
    for (const i of order()) {
      const s = w[0] * X[2 * i]! + w[1] * X[2 * i + 1]! + b;
      if (y[i]! * s <= 0) { w[0] += lr * y[i]! * X[2 * i]!; w[1] += lr * y[i]! * X[2 * i + 1]!; b += lr * y[i]!; }
    }
  }
  return { w, b };
}

/** Logistic regression by full-batch gradient descent on mean BCE + (l2/2)‖w‖² (labels 0/1). */
export function logistic(X: Float64Array, y01: Float64Array, steps: number, lr: number, l2: number): Line2 {
  const n = y01.length;
  const w: [number, number] = [0, 0];
  let b = 0;
  for (let s = 0; s < steps; s++) {
    let g0 = 0, g1 = 0, gb = 0;
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-(w[0] * X[2 * i]! + w[1] * X[2 * i + 1]! + b)));
      const e = p - y01[i]!;
      g0 += e * X[2 * i]!; g1 += e * X[2 * i + 1]!; gb += e;
    }
    w[0] -= lr * (g0 / n + l2 * w[0]); w[1] -= lr * (g1 / n + l2 * w[1]); b -= lr * (gb / n);
  }
  return { w, b };
}

export default defineStage<SeparatorParams>({
  kind: 'fit-separator',
  version: '1',
  description: "Perceptron (and logistic) decision boundary over two features (the Hebbian seed's plot_separator.py)",
  paramsSchema: separatorSchema,
  inputs: { table: { type: 'table' } },
  outputs: {
    points: { type: 'table', description: 'x, y (feature units) and label per row' },
    lines: { type: 'table', description: 'boundary polylines: series (perceptron / logistic p = 0.5), x, y' },
    metrics: { type: 'json' },
  },
  async run(ctx) {
    const p = ctx.params;
    const { readTable, tableMeta, numericColumn, writeTable } = await import('../sdk/table.js');
    const { tableFromArrays } = await import('apache-arrow');
    const t = await readTable(ctx.input('table').path);
    const label = p.label ?? tableMeta(t).target;
    if (!label) throw new Error("no label column: set 'label' (the table has no target in its metadata)");
    for (const c of [p.x, p.y, label]) if (!t.getChild(c)) throw new Error(`column '${c}' is not in the table (columns: ${t.schema.fields.map((f) => f.name).join(', ')})`);
    const cx = numericColumn(t, p.x).values, cy = numericColumn(t, p.y).values, cl = numericColumn(t, label).values;
    const n = t.numRows;
    const stat = (v: Float64Array) => { const m = v.reduce((a, b) => a + b, 0) / n; const s = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / n) || 1; return p.standardize ? { m, s } : { m: 0, s: 1 }; };
    const sx = stat(cx), sy = stat(cy);
    const X = new Float64Array(2 * n), ypm = new Int8Array(n), y01 = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      X[2 * i] = (cx[i]! - sx.m) / sx.s; X[2 * i + 1] = (cy[i]! - sy.m) / sy.s;
      if (cl[i] !== 0 && cl[i] !== 1) throw new Error(`label '${label}' must be 0/1; row ${i} has ${cl[i]}`);
      ypm[i] = cl[i] === 1 ? 1 : -1; y01[i] = cl[i]!;
    }
    const rng = ctx.rng.fork('perceptron');
    const fits: Record<string, Line2> = { perceptron: perceptron(X, ypm, p.epochs, p.lr, () => rng.permutation(n)) };
    if (p.logistic) fits['logistic p = 0.5'] = logistic(X, y01, p.log_epochs, p.log_lr, p.log_l2);
    const acc = (l: Line2) => { let c = 0; for (let i = 0; i < n; i++) if ((l.w[0] * X[2 * i]! + l.w[1] * X[2 * i + 1]! + l.b > 0 ? 1 : 0) === y01[i]) c++; return c / n; };
    // boundary w0·(x−mx)/sx + w1·(y−my)/sy + b = 0, sampled along the longer direction, kept inside the data box
    const range = (a: ArrayLike<number>) => { let lo = Infinity, hi = -Infinity; for (let i = 0; i < a.length; i++) { if (a[i]! < lo) lo = a[i]!; if (a[i]! > hi) hi = a[i]!; } return [lo, hi] as const; };
    const [x0, x1] = range(cx), [y0, y1] = range(cy);
    const series: string[] = [], lx: number[] = [], ly: number[] = [];
    for (const [name, l] of Object.entries(fits)) {
      for (let k = 0; k <= 200; k++) {
        let xv: number, yv: number;
        if (Math.abs(l.w[1]) >= Math.abs(l.w[0])) { xv = x0 + ((x1 - x0) * k) / 200; yv = sy.m - (sy.s * (l.w[0] * (xv - sx.m) / sx.s + l.b)) / l.w[1]; }
        else { yv = y0 + ((y1 - y0) * k) / 200; xv = sx.m - (sx.s * (l.w[1] * (yv - sy.m) / sy.s + l.b)) / l.w[0]; }
        if (!Number.isFinite(xv) || !Number.isFinite(yv) || xv < x0 || xv > x1 || yv < y0 || yv > y1) continue;
        series.push(name); lx.push(xv); ly.push(yv);
      }
    }
    await writeTable(ctx.output('points').path, tableFromArrays({ [p.x]: Float64Array.from(cx), [p.y]: Float64Array.from(cy), label: Array.from(cl, (v) => String(v)) }));
    await writeTable(ctx.output('lines').path, tableFromArrays({ series, [p.x]: Float64Array.from(lx), [p.y]: Float64Array.from(ly) }));
    const metrics = Object.fromEntries(Object.entries(fits).map(([k, l]) => [k, { w: l.w, b: l.b, train_accuracy: acc(l) }]));
    await ctx.output('metrics').writeJSON({ x: p.x, y: p.y, label, standardized: p.standardize, rows: n, ...metrics });
    return { metrics: Object.fromEntries(Object.entries(fits).map(([k, l]) => [`${k.split(' ')[0]}_accuracy`, acc(l)])) };
  },
});
