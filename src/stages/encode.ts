/**
 * `encode`: numeric model inputs from raw typed columns — one-hot encoding of categorical
 * features (levels fit on `train`, or on all given parts with `fit_on: all` — `auto`, the default,
 * picks `all` for tables from a seed-parity `split`, else `train`; levels sorted; a
 * level unseen at fit time encodes as all zeros), missing values dropped or imputed (fill values
 * fit like the levels), a string target label-encoded (classes sorted).
 *
 * Output columns: numeric features (Float32), then one-hot columns `name=level` (Float32 0/1),
 * then the target (Int32 class index | Float64), then any other columns unchanged (`_row`, …).
 * Meta: features = the new feature names; `encoded` = the one-hot columns (standardize leaves
 * them alone by default). Unconnected val/test inputs give 0-row outputs.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';

const encodeParamsSchema = {
  type: 'object',
  properties: {
    missing: { enum: ['drop', 'impute'], default: 'drop', description: 'drop rows with a missing feature, or impute (numeric: mean|median, categorical: most frequent level)' },
    impute_numeric: { enum: ['mean', 'median'], default: 'mean' },
    categorical: { type: 'array', items: { type: 'string' }, description: 'categorical features (default: meta.categorical plus every string feature)' },
    fit_on: { enum: ['auto', 'train', 'all'], default: 'auto', description: 'train; all = the union of the given parts (leaky, seed-parity); auto = all when the input comes from split with protocol seed-parity, else train' },
  },
  additionalProperties: false,
} as const;

/** The params after defaults, derived from the schema (so the two cannot disagree). */
export type EncodeParams = FromSchema<typeof encodeParamsSchema>;

export default defineStage<EncodeParams>({
  kind: 'encode',
  version: '2',
  description: 'One-hot encode categorical features and drop or impute missing values (fit on the training part)',
  paramsSchema: encodeParamsSchema,
  inputs: {
    train: { type: 'table' },
    val: { type: 'table', optional: true },
    test: { type: 'table', optional: true },
  },
  outputs: {
    train: { type: 'table' },
    val: { type: 'table' },
    test: { type: 'table' },
    encoder: { type: 'json', description: 'levels, fill values, dropped/unseen counts' },
  },
  async run(ctx) {
    const p = ctx.params;
    const T = await import('../sdk/table.js');
    const { readParts, emptyLike, fitRows, resolveFitOn, PARTS } = await import('../lib/prep.js');
    const parts = await readParts(ctx);
    const train = parts.train;
    const meta = T.tableMeta(train);
    const features = T.featureNames(train);
    const target = meta.target && train.getChild(meta.target) ? meta.target : undefined;
    const typeOf = (c: string) => {
      const col = train.getChild(c);
      if (!col) throw new Error(`feature column '${c}' not in the train table`);
      return col.type;
    };
    for (const c of p.categorical ?? []) if (!features.includes(c)) throw new Error(`categorical column '${c}' is not a feature (features: ${features.join(', ')})`);
    const categorical = features.filter((c) => (p.categorical ?? []).includes(c) || (!p.categorical && ((meta.categorical as string[] | undefined)?.includes(c) || T.isStringType(typeOf(c)))));
    const numeric = features.filter((c) => !categorical.includes(c));
    for (const c of numeric) if (!T.isNumericType(typeOf(c))) throw new Error(`feature '${c}' is ${String(typeOf(c))}: neither numeric nor categorical`);
    const others = train.schema.fields.map((f) => f.name).filter((c) => !features.includes(c) && c !== target);

    // per part: cached columns
    const given = PARTS.filter((n) => parts[n]).map((n) => [n, parts[n]!] as const);
    const cols = new Map<string, { num: Map<string, { values: Float64Array; valid: Uint8Array | null }>; cat: Map<string, (string | null)[]>; tgt: (string | number | null)[] | null }>();
    for (const [name, t] of given) {
      for (const c of features) if (!t.getChild(c)) throw new Error(`${name}: feature column '${c}' missing`);
      const num = new Map(numeric.map((c) => [c, T.numericColumn(t, c)] as const));
      const cat = new Map(categorical.map((c) => [c, T.stringColumn(t, c)] as const));
      let tgt: (string | number | null)[] | null = null;
      if (target) {
        const col = t.getChild(target);
        if (!col) throw new Error(`${name}: target column '${target}' missing`);
        tgt = T.isStringType(col.type) ? T.stringColumn(t, target) : Array.from(T.numericColumn(t, target).values, (v) => (Number.isNaN(v) ? null : v));
      }
      cols.set(name, { num, cat, tgt });
    }
    const stringTarget = !!target && T.isStringType(train.getChild(target)!.type);

    // rows kept per part: target present, and (drop) every feature present
    const keptRows = (name: string, t: typeof train) => {
      const c = cols.get(name)!;
      const out: number[] = [];
      for (let i = 0; i < t.numRows; i++) {
        if (c.tgt && c.tgt[i] === null) continue;
        if (p.missing === 'drop') {
          let ok = true;
          for (const v of c.num.values()) if (v.valid && !v.valid[i]) { ok = false; break; }
          if (ok) for (const v of c.cat.values()) if (v[i] === null) { ok = false; break; }
          if (!ok) continue;
        }
        out.push(i);
      }
      return Int32Array.from(out);
    };
    const kept = new Map(given.map(([n, t]) => [n, keptRows(n, t)]));
    const fitOn = resolveFitOn(p.fit_on, parts.train);
    const fit = fitRows(parts, fitOn, (t) => kept.get(given.find(([, x]) => x === t)![0])!);
    const fitCols = fit.map((f) => ({ rows: f.rows, c: cols.get(given.find(([, x]) => x === f.table)![0])! }));
    const nFit = fit.reduce((a, f) => a + f.rows.length, 0);
    if (nFit === 0) throw new Error('no rows to fit the encoder on (all rows have missing values?)');

    // fit: levels, fills, classes
    const levels: Record<string, string[]> = {};
    const catFill: Record<string, string> = {};
    for (const c of categorical) {
      const counts = new Map<string, number>();
      for (const { rows, c: cc } of fitCols) for (const r of rows) { const v = cc.cat.get(c)![r]; if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1); }
      levels[c] = [...counts.keys()].sort();
      if (p.missing === 'impute') {
        let best = '', bestN = -1;
        for (const l of levels[c]!) if (counts.get(l)! > bestN) { best = l; bestN = counts.get(l)!; }
        catFill[c] = best;
      }
    }
    const numFill: Record<string, number> = {};
    if (p.missing === 'impute') {
      for (const c of numeric) {
        const vals: number[] = [];
        for (const { rows, c: cc } of fitCols) { const v = cc.num.get(c)!; for (const r of rows) if (!v.valid || v.valid[r]) vals.push(v.values[r]!); }
        if (!vals.length) throw new Error(`feature '${c}' has no values to impute from`);
        if (p.impute_numeric === 'mean') numFill[c] = vals.reduce((a, b) => a + b, 0) / vals.length;
        else { vals.sort((a, b) => a - b); const m = vals.length >> 1; numFill[c] = vals.length % 2 ? vals[m]! : (vals[m - 1]! + vals[m]!) / 2; }
      }
    }
    let classes = meta.classes;
    if (stringTarget) {
      const s = new Set<string>();
      for (const { rows, c: cc } of fitCols) for (const r of rows) s.add(String(cc.tgt![r]));
      classes = [...s].sort();
    }

    // apply
    const onehotNames = categorical.flatMap((c) => levels[c]!.map((l) => `${c}=${l}`));
    const outFeatures = [...numeric, ...onehotNames];
    const report: Record<string, unknown> = {};
    const transform = (name: (typeof PARTS)[number], t: typeof train) => {
      const c = cols.get(name)!;
      const rows = kept.get(name)!;
      const n = rows.length;
      const vecs: Record<string, ReturnType<typeof T.numericVector>> = {};
      for (const f of numeric) {
        const v = c.num.get(f)!;
        const out = new Float32Array(n);
        for (let k = 0; k < n; k++) { const r = rows[k]!; out[k] = v.valid && !v.valid[r] ? numFill[f]! : v.values[r]!; }
        vecs[f] = T.numericVector('float32', out);
      }
      const unseen: Record<string, number> = {};
      for (const f of categorical) {
        const lv = levels[f]!;
        const index = new Map(lv.map((l, j) => [l, j]));
        const mats = lv.map(() => new Float32Array(n));
        const vals = c.cat.get(f)!;
        for (let k = 0; k < n; k++) {
          const raw = vals[rows[k]!] ?? catFill[f]!;
          const j = index.get(raw);
          if (j === undefined) unseen[f] = (unseen[f] ?? 0) + 1;
          else mats[j]![k] = 1;
        }
        lv.forEach((l, j) => { vecs[`${f}=${l}`] = T.numericVector('float32', mats[j]!); });
      }
      if (target) {
        if (stringTarget) {
          const y = new Int32Array(n);
          for (let k = 0; k < n; k++) {
            const v = String(c.tgt![rows[k]!]);
            const j = classes!.indexOf(v);
            if (j < 0) throw new Error(`${name} row ${rows[k]}: target '${v}' is not a class seen when fitting (${classes!.join(', ')})`);
            y[k] = j;
          }
          vecs[target] = T.numericVector('int32', y);
        } else {
          const y = Float64Array.from(rows, (r) => c.tgt![r] as number);
          vecs[target] = T.numericVector(meta.task === 'classification' ? 'int32' : 'float64', y);
        }
      }
      const rest = T.takeRows(t, rows);
      for (const o of others) vecs[o] = rest.getChild(o)!;
      const missingFilled = p.missing === 'impute' ? Object.fromEntries([...numeric.map((f) => [f, rows.reduce((a, r) => a + (c.num.get(f)!.valid && !c.num.get(f)!.valid![r] ? 1 : 0), 0)]), ...categorical.map((f) => [f, rows.reduce((a, r) => a + (c.cat.get(f)![r] === null ? 1 : 0), 0)])].filter(([, k]) => (k as number) > 0)) : {};
      report[name] = { rows_in: t.numRows, rows_out: n, dropped: t.numRows - n, unseen_levels: unseen, imputed: missingFilled };
      const m = { ...meta, features: outFeatures, encoded: onehotNames, categorical: [], ...(classes ? { classes } : {}), ...(stringTarget ? { task: 'classification' as const } : {}) };
      return T.makeTable(vecs, m);
    };
    const outs: Record<string, typeof train> = {};
    for (const [name, t] of given) outs[name] = transform(name, t);
    for (const name of PARTS) {
      await T.writeTable(ctx.output(name).path, outs[name] ?? emptyLike(outs.train!));
    }
    await ctx.output('encoder').writeJSON({
      fit_on: fitOn, fit_rows: nFit, missing: p.missing, numeric, categorical, levels, features: outFeatures,
      fill: p.missing === 'impute' ? { numeric: numFill, numeric_method: p.impute_numeric, categorical: catFill } : null,
      target: target ?? null, classes: classes ?? null, parts: report,
    });
    if (fitOn === 'all') ctx.log.warn(`fit_on: all${p.fit_on === 'auto' ? ' (auto: seed-parity input)' : ''} — levels/fills fit on val/test rows too (leaky; seed-parity only)`);
    return { metrics: { features: outFeatures.length, train_rows: outs.train!.numRows } };
  },
});
