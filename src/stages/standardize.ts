/**
 * `standardize`: z-scores numeric features with mean and *population* std (divide by N, as
 * scikit-learn's StandardScaler and np.std) fit on `train` only (default), or on the union of
 * the given parts (`fit_on: all`, the seed's leaky CV protocol; rows counted once via `_row`);
 * `fit_on: auto` (default) picks `all` for tables from a seed-parity `split`, else `train`.
 * A zero std scales by 1 (as StandardScaler); `eps` is added to the std (the Hebbian seed uses
 * 1e-8). By default the columns are the numeric features except one-hot columns (meta.encoded).
 *
 * Output: every feature column Float32; target Int32 (classification) or Float64 — with
 * `target: true` a regression target is standardized too and its mean/std are stored in the
 * table meta as `target_scaler` (prediction = z·std + mean) and in `stats`.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';
import { withTableLimits } from '../sdk/limits.js';
import { PART_INPUTS, PART_OUTPUTS } from '../lib/prep-ports.js';
import type { NumericArray } from '../sdk/table.js';

const standardizeParamsSchema = {
  type: 'object',
  properties: {
    fit_on: { enum: ['auto', 'train', 'all'], default: 'auto', description: 'train; all = the union of the given parts (leaky, seed-parity); auto = all when the input comes from split with protocol seed-parity, else train' },
    columns: { type: 'array', items: { type: 'string' }, description: 'columns to standardize (default: numeric features except one-hot columns)' },
    target: { type: 'boolean', default: false, description: 'also standardize a regression target (stats kept for un-scaling)' },
    eps: { type: 'number', minimum: 0, default: 0, description: 'added to the std' },
  },
  additionalProperties: false,
} as const;

/** The params after defaults, derived from the schema (so the two cannot disagree). */
export type StandardizeParams = FromSchema<typeof standardizeParamsSchema>;

export default defineStage<StandardizeParams>(withTableLimits({
  kind: 'standardize',
  version: '2',
  description: 'Standardize numeric features (population std) with statistics fit on the training part',
  paramsSchema: standardizeParamsSchema,
  inputs: { ...PART_INPUTS },
  outputs: {
    ...PART_OUTPUTS,
    stats: { type: 'json', description: 'mean and std per column (and target), rows fit on' },
  },
  async run(ctx) {
    const p = ctx.params;
    const T = await import('../sdk/table.js');
    const { Type } = await import('apache-arrow');
    const { readParts, emptyLike, fitRows, resolveFitOn, PARTS } = await import('../lib/prep.js');
    const parts = await readParts(ctx);
    const train = parts.train;
    const meta = T.tableMeta(train);
    const features = T.featureNames(train);
    const encoded = new Set((meta.encoded as string[] | undefined) ?? []);
    for (const f of features) {
      const col = train.getChild(f);
      if (!col) throw new Error(`feature column '${f}' not in the train table`);
      if (col.type.typeId === Type.FixedSizeList) throw new Error(`feature '${f}' is a vector column (${String(col.type)}); standardize handles scalar numeric columns only`);
      if (!T.isNumericType(col.type)) throw new Error(`feature '${f}' is ${String(col.type)}, not numeric: run encode first`);
    }
    const columns = p.columns ?? features.filter((f) => !encoded.has(f));
    for (const c of columns) if (!train.getChild(c) || !T.isNumericType(train.getChild(c)!.type)) throw new Error(`column '${c}' is not a numeric column of the train table`);
    const target = meta.target && train.getChild(meta.target) ? meta.target : undefined;
    if (p.target && (!target || meta.task !== 'regression')) throw new Error(`target: true needs a regression target (task is ${meta.task ?? 'unset'})`);
    const scaled = [...columns, ...(p.target ? [target!] : [])];

    const given = PARTS.filter((n) => parts[n]).map((n) => [n, parts[n]!] as const);
    const num = new Map<string, Map<string, NumericArray>>();
    for (const [name, t] of given) {
      const m = new Map<string, NumericArray>();
      for (const c of new Set([...features, ...scaled])) {
        if (!t.getChild(c)) throw new Error(`${name}: column '${c}' missing`);
        // a view of the column's own buffer (read-only here) when it is one chunk, else one typed copy
        if (t.getChild(c)!.nullCount > 0) {
          const { valid } = T.numericColumn(t, c);
          throw new Error(`${name}: column '${c}' has missing values (row ${valid!.indexOf(0)}): run encode with missing: drop or impute first`);
        }
        m.set(c, T.numericValues(t, c));
      }
      num.set(name, m);
    }
    const { iota } = await import('../lib/splits.js');
    const all = (t: typeof train) => iota(t.numRows);
    const fitOn = resolveFitOn(p.fit_on, parts.train);
    const fit = fitRows(parts, fitOn, all).map((f) => ({ rows: f.rows, cols: num.get(given.find(([, x]) => x === f.table)![0])! }));
    const nFit = fit.reduce((a, f) => a + f.rows.length, 0);
    if (nFit === 0) throw new Error('no rows to fit on');
    const stats: Record<string, { mean: number; std: number; scale: number }> = {};
    for (const c of scaled) {
      let s = 0;
      for (const f of fit) { const v = f.cols.get(c)!; for (const r of f.rows) s += v[r]!; }
      const mean = s / nFit;
      let ss = 0;
      for (const f of fit) { const v = f.cols.get(c)!; for (const r of f.rows) ss += (v[r]! - mean) ** 2; }
      const std = Math.sqrt(ss / nFit);
      stats[c] = { mean, std, scale: std === 0 ? 1 + p.eps : std + p.eps };
    }
    const transform = (name: (typeof PARTS)[number], t: typeof train) => {
      const cols = num.get(name)!;
      const vecs: Record<string, ReturnType<typeof T.numericVector>> = {};
      for (const f of features) {
        const v = cols.get(f)!;
        const st = stats[f];
        const out = new Float32Array(v.length);
        for (let i = 0; i < v.length; i++) out[i] = st ? (v[i]! - st.mean) / st.scale : v[i]!;
        vecs[f] = T.numericVector('float32', out);
      }
      if (target) {
        if (p.target) {
          const v = cols.get(target)!, st = stats[target]!;
          const out = new Float64Array(v.length);
          for (let i = 0; i < v.length; i++) out[i] = (v[i]! - st.mean) / st.scale;
          vecs[target] = T.numericVector('float64', out);
        } else {
          const kind = meta.task === 'classification' ? 'int32' : 'float64';
          const col = t.getChild(target)!;
          const want = kind === 'int32' ? Int32Array : Float64Array;
          // already the right type: passed through (no copy); else converted once
          vecs[target] = col.nullCount === 0 && col.data.every((d) => d.values instanceof want) ? col : T.numericVector(kind, T.numericColumn(t, target).values);
        }
      }
      for (const f of t.schema.fields) if (!(f.name in vecs)) vecs[f.name] = t.getChild(f.name)!;
      const m = { ...meta, features, standardized: columns, ...(p.target ? { target_scaler: { mean: stats[target!]!.mean, std: stats[target!]!.scale } } : {}) };
      return T.makeTable(vecs, m);
    };
    const outs: Partial<Record<(typeof PARTS)[number], typeof train>> = {};
    for (const [name, t] of given) outs[name] = transform(name, t);
    for (const name of PARTS) await T.writeTable(ctx.output(name).path, outs[name] ?? emptyLike(outs.train!));
    await ctx.output('stats').writeJSON({
      fit_on: fitOn, fit_rows: nFit, eps: p.eps, std: 'population (divide by N); zero std → 1',
      columns: Object.fromEntries(columns.map((c) => [c, { mean: stats[c]!.mean, std: stats[c]!.std }])),
      target: p.target ? { column: target, mean: stats[target!]!.mean, std: stats[target!]!.std } : null,
    });
    if (fitOn === 'all') ctx.log.warn(`fit_on: all${p.fit_on === 'auto' ? ' (auto: seed-parity input)' : ''} — statistics include val/test rows (leaky; seed-parity only)`);
    return { metrics: { columns: columns.length, fit_rows: nFit } };
  },
}));
