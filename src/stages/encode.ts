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
import { withTableLimits } from '../sdk/limits.js';
import { PART_INPUTS, PART_OUTPUTS } from '../lib/prep-ports.js';
import type { NumericArray } from '../sdk/table.js';

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

export default defineStage<EncodeParams>(withTableLimits({
  kind: 'encode',
  version: '2',
  description: 'One-hot encode categorical features and drop or impute missing values (fit on the training part)',
  paramsSchema: encodeParamsSchema,
  inputs: { ...PART_INPUTS },
  outputs: {
    ...PART_OUTPUTS,
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

    // per part: typed columns — numeric as Float64 (+ validity), categorical and string targets
    // as Int32 codes into per-part levels (no per-row strings or boxed numbers)
    type Num = { values: NumericArray; valid: Uint8Array | null };
    type Cat = { codes: Int32Array; levels: string[] };
    const given = PARTS.filter((n) => parts[n]).map((n) => [n, parts[n]!] as const);
    const cols = new Map<string, { num: Map<string, Num>; cat: Map<string, Cat>; tgt: { num: Num } | { cat: Cat } | null }>();
    for (const [name, t] of given) {
      for (const c of features) if (!t.getChild(c)) throw new Error(`${name}: feature column '${c}' missing`);
      const num = new Map(numeric.map((c) => [c, t.getChild(c)!.nullCount === 0 ? { values: T.numericValues(t, c), valid: null } : T.numericColumn(t, c)] as const));
      const cat = new Map(categorical.map((c) => [c, T.categoryCodes(t, c)] as const));
      let tgt: { num: Num } | { cat: Cat } | null = null;
      if (target) {
        const col = t.getChild(target);
        if (!col) throw new Error(`${name}: target column '${target}' missing`);
        tgt = T.isStringType(col.type) ? { cat: T.categoryCodes(t, target) } : { num: col.nullCount === 0 ? { values: T.numericValues(t, target), valid: null } : T.numericColumn(t, target) };
      }
      cols.set(name, { num, cat, tgt });
    }
    const stringTarget = !!target && T.isStringType(train.getChild(target)!.type);
    /** Is row i's target missing (null, or NaN)? */
    const noTarget = (tg: { num: Num } | { cat: Cat } | null, i: number) => !!tg && ('cat' in tg ? tg.cat.codes[i]! < 0 : Number.isNaN(tg.num.values[i]!));

    // rows kept per part: target present, and (drop) every feature present
    const keptRows = (name: string, t: typeof train) => {
      const c = cols.get(name)!;
      const ok = new Uint8Array(t.numRows);
      let m = 0;
      for (let i = 0; i < t.numRows; i++) {
        if (noTarget(c.tgt, i)) continue;
        if (p.missing === 'drop') {
          let good = true;
          for (const v of c.num.values()) if (v.valid && !v.valid[i]) { good = false; break; }
          if (good) for (const v of c.cat.values()) if (v.codes[i]! < 0) { good = false; break; }
          if (!good) continue;
        }
        ok[i] = 1; m++;
      }
      const out = new Int32Array(m);
      for (let i = 0, k = 0; i < t.numRows; i++) if (ok[i]) out[k++] = i;
      return out;
    };
    const kept = new Map(given.map(([n, t]) => [n, keptRows(n, t)]));
    const fitOn = resolveFitOn(p.fit_on, parts.train);
    const fit = fitRows(parts, fitOn, (t) => kept.get(given.find(([, x]) => x === t)![0])!);
    const fitCols = fit.map((f) => ({ rows: f.rows, c: cols.get(given.find(([, x]) => x === f.table)![0])! }));
    const nFit = fit.reduce((a, f) => a + f.rows.length, 0);
    if (nFit === 0) throw new Error('no rows to fit the encoder on (all rows have missing values?)');

    /** Counts of each level (by name) over the fit rows, from per-part code counts. */
    const levelCounts = (get: (c: (typeof fitCols)[number]['c']) => Cat) => {
      const counts = new Map<string, number>();
      for (const { rows, c: cc } of fitCols) {
        const { codes, levels: lv } = get(cc);
        const k = new Float64Array(lv.length);
        for (let i = 0; i < rows.length; i++) { const j = codes[rows[i]!]!; if (j >= 0) k[j]!++; }
        lv.forEach((l, j) => { if (k[j]) counts.set(l, (counts.get(l) ?? 0) + k[j]!); });
      }
      return counts;
    };

    // fit: levels, fills, classes
    const levels: Record<string, string[]> = {};
    const catFill: Record<string, string> = {};
    for (const c of categorical) {
      const counts = levelCounts((cc) => cc.cat.get(c)!);
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
        let m = 0;
        for (const { rows, c: cc } of fitCols) { const v = cc.num.get(c)!; for (let i = 0; i < rows.length; i++) if (!v.valid || v.valid[rows[i]!]) m++; }
        if (!m) throw new Error(`feature '${c}' has no values to impute from`);
        const vals = new Float64Array(m);
        m = 0;
        for (const { rows, c: cc } of fitCols) { const v = cc.num.get(c)!; for (let i = 0; i < rows.length; i++) { const r = rows[i]!; if (!v.valid || v.valid[r]) vals[m++] = v.values[r]!; } }
        if (p.impute_numeric === 'mean') { let s0 = 0; for (let i = 0; i < m; i++) s0 += vals[i]!; numFill[c] = s0 / m; }
        else { vals.sort(); const h = m >> 1; numFill[c] = m % 2 ? vals[h]! : (vals[h - 1]! + vals[h]!) / 2; }
      }
    }
    let classes = meta.classes;
    if (stringTarget) classes = [...levelCounts((cc) => (cc.tgt as { cat: Cat }).cat).keys()].sort();

    // apply
    const onehotNames = categorical.flatMap((c) => levels[c]!.map((l) => `${c}=${l}`));
    const outFeatures = [...numeric, ...onehotNames];
    const report: Record<string, unknown> = {};
    const transform = (name: (typeof PARTS)[number], t: typeof train) => {
      const c = cols.get(name)!;
      const rows = kept.get(name)!;
      const n = rows.length;
      const vecs: Record<string, ReturnType<typeof T.numericVector>> = {};
      const imputed: Record<string, number> = {};
      for (const f of numeric) {
        const v = c.num.get(f)!;
        const out = new Float32Array(n);
        let filled = 0;
        if (v.valid) for (let k = 0; k < n; k++) { const r = rows[k]!; if (v.valid[r]) out[k] = v.values[r]!; else { out[k] = numFill[f]!; filled++; } }
        else for (let k = 0; k < n; k++) out[k] = v.values[rows[k]!]!;
        if (filled) imputed[f] = filled;
        vecs[f] = T.numericVector('float32', out);
      }
      const unseen: Record<string, number> = {};
      for (const f of categorical) {
        const lv = levels[f]!;
        const index = new Map(lv.map((l, j) => [l, j]));
        const { codes, levels: partLevels } = c.cat.get(f)!;
        // part code → fitted level index (−1: unseen); a missing value takes the fill level
        const toLevel = Int32Array.from(partLevels, (l) => index.get(l) ?? -1);
        const fill = catFill[f] !== undefined ? index.get(catFill[f]!) ?? -1 : -1;
        const mats = lv.map(() => new Float32Array(n));
        let filled = 0;
        for (let k = 0; k < n; k++) {
          const code = codes[rows[k]!]!;
          if (code < 0) filled++;
          const j = code < 0 ? fill : toLevel[code]!;
          if (j < 0) unseen[f] = (unseen[f] ?? 0) + 1;
          else mats[j]![k] = 1;
        }
        if (filled) imputed[f] = filled;
        lv.forEach((l, j) => { vecs[`${f}=${l}`] = T.numericVector('float32', mats[j]!); });
      }
      if (target) {
        if (stringTarget) {
          const { codes, levels: partLevels } = (c.tgt as { cat: Cat }).cat;
          const toClass = Int32Array.from(partLevels, (l) => classes!.indexOf(l));
          const y = new Int32Array(n);
          for (let k = 0; k < n; k++) {
            const j = toClass[codes[rows[k]!]!]!;
            if (j < 0) throw new Error(`${name} row ${rows[k]}: target '${partLevels[codes[rows[k]!]!]}' is not a class seen when fitting (${classes!.join(', ')})`);
            y[k] = j;
          }
          vecs[target] = T.numericVector('int32', y);
        } else {
          const kind = meta.task === 'classification' ? 'int32' : 'float64';
          const col = t.getChild(target)!;
          const want = kind === 'int32' ? Int32Array : Float64Array;
          if (n === t.numRows && col.nullCount === 0 && col.data.every((d) => d.values instanceof want)) vecs[target] = col; // every row kept, right type: as it is
          else {
            const tv = (c.tgt as { num: Num }).num.values;
            const y = kind === 'int32' ? new Int32Array(n) : new Float64Array(n);
            for (let k = 0; k < n; k++) y[k] = tv[rows[k]!]!;
            vecs[target] = T.numericVector(kind, y);
          }
        }
      }
      if (others.length) {
        // every row kept: the other columns as they are (no gather, no copy)
        const rest = n === t.numRows ? t : T.takeRows(t.select(others), rows);
        for (const o of others) vecs[o] = rest.getChild(o)!;
      }
      const missingFilled = p.missing === 'impute' ? Object.fromEntries([...numeric, ...categorical].filter((f) => imputed[f]).map((f) => [f, imputed[f]!])) : {};
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
}));
