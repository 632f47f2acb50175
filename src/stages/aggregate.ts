/**
 * `aggregate`: fold results → mean ± std, min, max per metric per group.
 *
 *   results:
 *     kind: aggregate
 *     inputs: { runs: ['train[*].metrics', 'xgb[*].metrics'] }
 *     params: { group_by: [dataset, model], field: test }
 *
 * Each input is a metrics JSON (as written by `train` and `xgboost`); `field` is the path to
 * the object of scalar metrics inside it. Group keys come from the producing stage's matrix
 * values (e.g. `model=relu`), else from a top-level field of the JSON of the same name.
 * Std is the population std (np.std), as in the seed's cv_results.json.
 * `csv` is the same summary wide (one row per group, <metric>_mean, <metric>_std).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';
import { withTableLimits } from '../sdk/limits.js';
import { adjustP, pairedStats, type Correction } from '../lib/stats.js';

export interface PairedSummary {
  /**
   * The group compared, and the baseline group it is compared with (same values of the other
   * group keys). With `paired.reference`, `group` is the reference (e.g. model=actmix) and
   * `baseline` each other group it is compared with.
   */
  group: GroupSummary['group'];
  baseline: GroupSummary['group'];
  metric: string;
  /** group − baseline over runs matched on `match` keys. */
  mean: number;
  std: number;
  n: number;
  /** Matched runs where the group is better (higher, or lower for lower-is-better metrics). */
  better: number;
  lower_is_better: boolean;
  /** Sample std of the differences (n − 1) and the t confidence interval of the mean at `level`. */
  sd: number;
  ci_low: number | null;
  ci_high: number | null;
  level: number;
  /** Paired t statistic; two-sided p-values of the paired t, Wilcoxon signed-rank and exact sign-flip tests. */
  t: number | null;
  p_t: number | null;
  p_wilcoxon: number | null;
  p_sign_flip: number | null;
  /** The p-value of `test`, and adjusted by `correction` over the comparisons of this metric in one table. */
  test: 't' | 'wilcoxon' | 'sign-flip';
  p: number | null;
  p_adj: number | null;
  correction: Correction;
  /** How many comparisons the correction was over. */
  family: number;
}

/** Metrics where smaller is better unless told otherwise: losses and errors. */
const LOWER = /(^|_)(loss|bce|mse|rmse|mae|error|nll|diverged)($|_)/;

export interface MetricSummary {
  mean: number;
  std: number;
  min: number;
  max: number;
  n: number;
  values: number[];
}

export interface GroupSummary {
  group: Record<string, string | number | boolean | null>;
  n_runs: number;
  runs: string[];
  metrics: Record<string, MetricSummary>;
}

export function summarize(values: number[]): MetricSummary {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  let min = Infinity, max = -Infinity;
  for (const v of values) { if (v < min) min = v; if (v > max) max = v; }
  return { mean, std, min, max, n, values };
}

function at(obj: unknown, path: string): unknown {
  let v = obj;
  for (const k of path.split('.').filter(Boolean)) {
    if (v && typeof v === 'object' && k in (v as object)) v = (v as Record<string, unknown>)[k];
    else return undefined;
  }
  return v;
}

const aggregateParamsSchema = {
  type: 'object',
  properties: {
    group_by: { type: 'array', items: { type: 'string' }, default: [], description: 'matrix keys or top-level JSON fields that define a group' },
    field: { type: 'string', default: 'test', description: "dotted path to the metrics object in each JSON ('' = the top level)" },
    metrics: { type: 'array', items: { type: 'string' }, default: [], description: 'metrics to keep (default: every numeric one)' },
    decimals: { type: 'integer', minimum: 0, maximum: 10, default: 4 },
    sort: { type: 'array', items: { type: 'string' }, default: [], description: 'group keys to sort by (default: group_by)' },
    paired: {
      type: 'object',
      additionalProperties: false,
      required: ['match'],
      oneOf: [{ required: ['baseline'] }, { required: ['reference'] }],
      description: 'paired differences over runs matched on `match` keys (e.g. seed, fold), between groups with the same values of the other group keys: `baseline` — every group minus the baseline group; `reference` — the reference group minus every other group (e.g. ActMix minus each baseline model)',
      properties: {
        baseline: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] }, description: 'group-key values of the baseline, e.g. {hebbian: false, meta: false}' },
        reference: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] }, description: 'group-key values of the reference, e.g. {model: actmix}: reference − each other group' },
        match: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'matrix keys (or top-level fields) that pair runs' },
        lower_is_better: { type: 'array', items: { type: 'string' }, description: 'metrics where lower is better (default: names with loss, bce, mse, rmse, mae, error)' },
        metrics: { type: 'array', items: { type: 'string' }, description: 'metrics compared (default: every metric of the groups); the paired table has one Δ and one p column per metric' },
        level: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.95, description: 'confidence level of the t interval of the mean difference' },
        test: { enum: ['t', 'wilcoxon', 'sign-flip'], default: 't', description: "the p-value shown and corrected: paired t, Wilcoxon signed-rank, or the exact sign-flip permutation test (every test's p is in results.json and the `paired` table)" },
        correction: { enum: ['holm', 'bh', 'none'], default: 'holm', description: 'multiple-comparison correction over the comparisons of one metric in one table (Holm, Benjamini–Hochberg, none)' },
      },
    },
  },
  additionalProperties: false,
} as const;

/** The params after defaults, derived from the schema (so the two cannot disagree). */
type AggregateParams = FromSchema<typeof aggregateParamsSchema>;

export default defineStage<AggregateParams>(withTableLimits({
  kind: 'aggregate',
  version: '4',
  description: 'Aggregate per-run metrics into mean ± std, min, max per metric and group (results.json, Markdown table, CSV)',
  paramsSchema: aggregateParamsSchema,
  inputs: { runs: { type: 'json', multiple: true, description: 'metrics JSON of every run' } },
  outputs: {
    results: { type: 'json', description: 'per group: every metric with mean, std, min, max, n and the values' },
    table: { type: 'text', ext: '.md', description: 'Markdown table of mean ± std per group and metric' },
    summary: { type: 'table', description: 'long format: group keys, metric, mean, std, min, max, n (for plots)' },
    csv: { type: 'text', ext: '.csv', description: 'wide format: one row per group — group keys, runs, then <metric>_mean and <metric>_std per metric' },
    paired: { type: 'table', description: "with `paired:` — one row per comparison and metric: group keys, baseline keys (b_<key>), label, metric, n, mean, sd, ci_low, ci_high, t, p_t, p_wilcoxon, p_sign_flip, p, p_adj, better (empty without `paired:`)" },
  },
  async run(ctx) {
    const p = ctx.params;
    const groups = new Map<string, GroupSummary & { raw: Record<string, number[]>; byMatch: Map<string, Record<string, number>> }>();
    for (const h of ctx.inputs('runs')) {
      const doc = await h.readJSON<Record<string, unknown>>();
      const group: GroupSummary['group'] = {};
      for (const k of p.group_by) {
        const v = k in h.matrix ? h.matrix[k] : doc[k];
        if (v === undefined) throw new Error(`${h.from}: no matrix key or field '${k}' to group by`);
        group[k] = v as string | number | boolean | null;
      }
      const m = p.field ? at(doc, p.field) : doc;
      if (!m || typeof m !== 'object') throw new Error(`${h.from}: no metrics object at '${p.field}'`);
      const key = JSON.stringify(p.group_by.map((k) => group[k]));
      let g = groups.get(key);
      if (!g) {
        g = { group, n_runs: 0, runs: [], metrics: {}, raw: {}, byMatch: new Map() };
        groups.set(key, g);
      }
      g.n_runs++;
      g.runs.push(h.from);
      const mine: Record<string, number> = {};
      for (const [name, v] of Object.entries(m as Record<string, unknown>)) {
        if (typeof v !== 'number' || (p.metrics.length && !p.metrics.includes(name))) continue;
        (g.raw[name] ??= []).push(v);
        mine[name] = v;
      }
      if (p.paired) {
        const mk = JSON.stringify(p.paired.match.map((k) => {
          const v = k in h.matrix ? h.matrix[k] : doc[k];
          if (v === undefined) throw new Error(`${h.from}: no matrix key or field '${k}' to pair runs on`);
          return v;
        }));
        if (g.byMatch.has(mk)) throw new Error(`${h.from}: two runs of group ${JSON.stringify(group)} share ${p.paired.match.join(', ')} = ${mk}; pairing needs one run per value`);
        g.byMatch.set(mk, mine);
      }
    }
    const sortKeys = p.sort.length ? p.sort : p.group_by;
    const list = [...groups.values()].sort((a, b) => {
      for (const k of sortKeys) {
        // numbers (K = 6, 12, 24, 48) in numeric order, everything else as text
        const x = a.group[k], y = b.group[k];
        const nx = typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : NaN;
        const ny = typeof y === 'number' ? y : typeof y === 'string' && y.trim() !== '' ? Number(y) : NaN;
        if (Number.isFinite(nx) && Number.isFinite(ny)) { if (nx !== ny) return nx - ny; continue; }
        const sx = String(x), sy = String(y);
        if (sx !== sy) return sx < sy ? -1 : 1;
      }
      return 0;
    });
    for (const g of list) for (const [name, vs] of Object.entries(g.raw)) g.metrics[name] = summarize(vs);
    const results = list.map(({ raw: _raw, byMatch: _m, ...g }) => g);
    const paired: PairedSummary[] = [];
    if (p.paired) {
      const refMode = p.paired.reference !== undefined;
      const bl = (refMode ? p.paired.reference : p.paired.baseline)!;
      const what = refMode ? 'reference' : 'baseline';
      for (const k of Object.keys(bl)) if (!p.group_by.includes(k)) throw new Error(`paired.${what}: '${k}' is not one of group_by (${p.group_by.join(', ')})`);
      const isBase = (g: GroupSummary) => Object.entries(bl).every(([k, v]) => String(g.group[k]) === String(v));
      const lower = (m: string) => (p.paired!.lower_is_better ? p.paired!.lower_is_better.includes(m) : LOWER.test(m));
      for (const g of list) {
        if (isBase(g)) continue;
        const base = list.find((b) => isBase(b) && p.group_by.every((k) => k in bl || String(b.group[k]) === String(g.group[k])));
        if (!base) continue;
        // baseline mode: g − base; reference mode: base (the reference) − g
        const [a, b0] = refMode ? [base, g] : [g, base];
        for (const metric of Object.keys(a.raw)) {
          if (p.paired.metrics && !p.paired.metrics.includes(metric)) continue;
          const xa: number[] = [], xb: number[] = [];
          let better = 0;
          for (const [mk, vals] of a.byMatch) {
            const b = b0.byMatch.get(mk)?.[metric];
            const v = vals[metric];
            if (b === undefined || v === undefined) continue;
            xa.push(v);
            xb.push(b);
            if (lower(metric) ? v < b : v > b) better++;
          }
          if (!xa.length) continue;
          const s2 = summarize(xa.map((v, i) => v - xb[i]!));
          const st = pairedStats(xa, xb, p.paired.level);
          const test = p.paired.test as PairedSummary['test'];
          const pv = test === 't' ? st.p_t : test === 'wilcoxon' ? st.p_wilcoxon : st.p_sign_flip;
          paired.push({
            group: a.group, baseline: b0.group, metric, mean: s2.mean, std: s2.std, n: s2.n, better, lower_is_better: lower(metric),
            sd: st.sd, ci_low: st.ci?.[0] ?? null, ci_high: st.ci?.[1] ?? null, level: st.level, t: st.t, p_t: st.p_t, p_wilcoxon: st.p_wilcoxon, p_sign_flip: st.p_sign_flip,
            test, p: pv, p_adj: pv, correction: p.paired.correction as Correction, family: 1,
          });
        }
      }
      // the correction: over the comparisons of one metric within one table (one task type)
      for (const rows of pairedTables(paired, p.group_by)) {
        for (const metric of new Set(rows.map((x) => x.metric))) {
          const fam = rows.filter((x) => x.metric === metric);
          const adj = adjustP(fam.map((x) => x.p), p.paired.correction as Correction);
          fam.forEach((x, i) => { x.p_adj = adj[i]!; x.family = fam.length; });
        }
      }
    }
    await ctx.output('results').writeJSON({ group_by: p.group_by, field: p.field, std: 'population', groups: results, ...(p.paired ? { paired_on: p.paired.match, ...(p.paired.reference ? { paired_reference: p.paired.reference } : {}), paired } : {}) });

    // Markdown: one row per group, one column per metric (mean ± std); groups with different
    // metric sets (classification vs regression) get separate tables.
    const fmt = (x: number) => x.toFixed(p.decimals);
    const bySet = new Map<string, typeof results>();
    for (const g of results) {
      const key = Object.keys(g.metrics).join(',');
      bySet.set(key, [...(bySet.get(key) ?? []), g]);
    }
    const blocks: string[] = [];
    for (const [key, gs] of bySet) {
      const metricNames = key ? key.split(',') : [];
      const head = [...p.group_by, 'runs', ...metricNames];
      const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < p.group_by.length ? '---' : '---:')).join('|')}|`];
      for (const g of gs) {
        lines.push(`| ${[...p.group_by.map((k) => String(g.group[k])), String(g.n_runs), ...metricNames.map((mn) => `${fmt(g.metrics[mn]!.mean)} ± ${fmt(g.metrics[mn]!.std)}`)].join(' | ')} |`);
      }
      blocks.push(lines.join('\n'));
    }
    if (paired.length) for (const b of pairedMarkdown(paired, p.group_by, p.paired!, fmt)) blocks.push(b);
    await ctx.output('table').writeText(blocks.join('\n\n') + `\n\nmean ± population std over runs${paired.length ? `; Δ: mean paired difference [${Math.round(paired[0]!.level * 100)}% t interval] (matched runs where the ${p.paired!.reference ? 'reference' : 'group'} is better / n)` : ''}.\n`);

    // CSV, wide: one row per group (the seed's analysis/summary.csv); a metric a group lacks is empty
    const allMetrics = [...new Set(results.flatMap((g) => Object.keys(g.metrics)))];
    const cell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const csvLines = [[...p.group_by, 'runs', ...allMetrics.flatMap((m) => [`${m}_mean`, `${m}_std`])].map(cell).join(',')];
    for (const g of results) {
      const stats = allMetrics.flatMap((m) => (g.metrics[m] ? [String(g.metrics[m]!.mean), String(g.metrics[m]!.std)] : ['', '']));
      csvLines.push([...p.group_by.map((k) => cell(String(g.group[k]))), String(g.n_runs), ...stats].join(','));
    }
    await ctx.output('csv').writeText(csvLines.join('\n') + '\n');

    const { tableFromArrays } = await import('apache-arrow');
    const rows = results.flatMap((g) => Object.entries(g.metrics).map(([metric, s]) => ({ g, metric, s })));
    const cols: Record<string, string[] | Float64Array | Int32Array> = {};
    for (const k of p.group_by) cols[k] = rows.map((r) => String(r.g.group[k]));
    cols.group = rows.map((r) => p.group_by.map((k) => String(r.g.group[k])).join(' / '));
    cols.metric = rows.map((r) => r.metric);
    cols.mean = Float64Array.from(rows, (r) => r.s.mean);
    cols.std = Float64Array.from(rows, (r) => r.s.std);
    cols.min = Float64Array.from(rows, (r) => r.s.min);
    cols.max = Float64Array.from(rows, (r) => r.s.max);
    cols.n = Int32Array.from(rows, (r) => r.s.n);
    const { writeTable } = await import('../sdk/table.js');
    await writeTable(ctx.output('summary').path, tableFromArrays(cols));
    const pcols: Record<string, string[] | Float64Array | Int32Array> = {};
    for (const k of p.group_by) pcols[k] = paired.map((x) => String(x.group[k]));
    for (const k of p.group_by) pcols[`b_${k}`] = paired.map((x) => String(x.baseline[k]));
    const vary = p.group_by.filter((k) => paired.some((x) => String(x.group[k]) !== String(x.baseline[k])));
    const ctxKeys = p.group_by.filter((k) => !vary.includes(k));
    // the row label of a forest plot: the fixed keys, then the other side (the reference, or the baseline, is named once in the title)
    const refMode = p.paired?.reference !== undefined;
    pcols.label = paired.map((x) => [...ctxKeys.map((k) => String(x.group[k])), vary.map((k) => String(refMode ? x.baseline[k] : x.group[k])).join(', ')].join(' · '));
    pcols.comparison = paired.map((x) => vary.map((k) => `${x.group[k]} − ${x.baseline[k]}`).join(', '));
    pcols.metric = paired.map((x) => x.metric);
    pcols.n = Int32Array.from(paired, (x) => x.n);
    pcols.better = Int32Array.from(paired, (x) => x.better);
    const f64 = (get: (x: PairedSummary) => number | null) => Float64Array.from(paired, (x) => get(x) ?? NaN);
    pcols.mean = f64((x) => x.mean);
    pcols.sd = f64((x) => x.sd);
    pcols.ci_low = f64((x) => x.ci_low);
    pcols.ci_high = f64((x) => x.ci_high);
    pcols.t = f64((x) => x.t);
    pcols.p_t = f64((x) => x.p_t);
    pcols.p_wilcoxon = f64((x) => x.p_wilcoxon);
    pcols.p_sign_flip = f64((x) => x.p_sign_flip);
    pcols.p = f64((x) => x.p);
    pcols.p_adj = f64((x) => x.p_adj);
    await writeTable(ctx.output('paired').path, tableFromArrays(pcols));
    ctx.progress({ done: 1, total: 1, message: `${results.length} groups` });
    return { metrics: { groups: results.length, runs: results.reduce((a, g) => a + g.n_runs, 0) } };
  },
}));

/**
 * The comparisons split into tables by the set of metrics they have (classification and
 * regression groups compare different metrics), in order of first appearance.
 */
export function pairedTables(paired: PairedSummary[], groupBy: readonly string[]): PairedSummary[][] {
  const rowKey = (x: PairedSummary) => JSON.stringify([groupBy.map((k) => x.group[k]), groupBy.map((k) => x.baseline[k])]);
  const setOf = new Map<string, string[]>();
  for (const x of paired) setOf.set(rowKey(x), [...(setOf.get(rowKey(x)) ?? []), x.metric]);
  const tables = new Map<string, PairedSummary[]>();
  for (const x of paired) {
    const key = setOf.get(rowKey(x))!.join(',');
    tables.set(key, [...(tables.get(key) ?? []), x]);
  }
  return [...tables.values()];
}

/** A p-value for a table cell: 3 decimals, '<0.001' below. */
export function fmtP(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return '—';
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

const signed = (x: number, fmt: (x: number) => string) => `${x >= 0 ? '+' : '−'}${fmt(Math.abs(x))}`;

/**
 * The paired comparisons as compact Markdown tables, one per task type (metric set): the
 * reference (or baseline) named once in the title; one row per comparison (the group keys that
 * stay fixed, then the other side's values of the compared keys); per metric a Δ column — mean
 * difference [t interval] (runs better / n) — and a p column (the chosen test, corrected).
 */
function pairedMarkdown(paired: PairedSummary[], groupBy: readonly string[], cfg: { reference?: Record<string, unknown>; baseline?: Record<string, unknown>; match: readonly string[]; test?: string; correction?: string }, fmt: (x: number) => string): string[] {
  const refMode = cfg.reference !== undefined;
  const fixed = Object.entries((refMode ? cfg.reference : cfg.baseline)!).map(([k, v]) => `${k}=${v}`).join(', ');
  const compared = Object.keys((refMode ? cfg.reference : cfg.baseline)!);
  const context = groupBy.filter((k) => !compared.includes(k));
  const testName = cfg.test === 'wilcoxon' ? 'Wilcoxon signed-rank' : cfg.test === 'sign-flip' ? 'exact sign-flip' : 'paired t';
  const corr = cfg.correction === 'bh' ? 'Benjamini–Hochberg' : cfg.correction === 'none' ? '' : 'Holm';
  const blocks: string[] = [];
  for (const rows of pairedTables(paired, groupBy)) {
    const metrics = [...new Set(rows.map((x) => x.metric))];
    const n = [...new Set(rows.map((x) => x.n))];
    const fam = rows.reduce((a, x) => Math.max(a, x.family), -Infinity);
    const title = refMode
      ? `Paired differences: **${fixed}** − each other ${compared.join(', ')}, matched on ${cfg.match.join(', ')} (n = ${n.join('/')}); p: ${testName}${corr ? `, ${corr}-adjusted over the ${fam} comparisons of each column` : ''}:`
      : `Paired differences: each group − **${fixed}**, matched on ${cfg.match.join(', ')} (n = ${n.join('/')}); p: ${testName}${corr ? `, ${corr}-adjusted over the ${fam} comparisons of each column` : ''}:`;
    const head = [...context, refMode ? `− ${compared.join(', ')}` : compared.join(', '), ...metrics.flatMap((m) => [`Δ ${m}${rows.find((x) => x.metric === m)?.lower_is_better ? ' (lower is better)' : ''}`, 'p'])];
    const lines = [title, '', `| ${head.join(' | ')} |`, `|${head.map((_, i) => (i <= context.length ? '---' : '---:')).join('|')}|`];
    const byRow = new Map<string, PairedSummary[]>();
    for (const x of rows) {
      const k = JSON.stringify([groupBy.map((g) => x.group[g]), groupBy.map((g) => x.baseline[g])]);
      byRow.set(k, [...(byRow.get(k) ?? []), x]);
    }
    for (const xs of byRow.values()) {
      const other = refMode ? xs[0]!.baseline : xs[0]!.group;
      const cells = metrics.flatMap((m) => {
        const x = xs.find((y) => y.metric === m);
        if (!x) return ['', ''];
        const ci = x.ci_low !== null && x.ci_high !== null ? ` [${signed(x.ci_low, fmt)}, ${signed(x.ci_high, fmt)}]` : '';
        return [`${signed(x.mean, fmt)}${ci} (${x.better}/${x.n})`, fmtP(x.p_adj)];
      });
      lines.push(`| ${[...context.map((k) => String(xs[0]!.group[k])), compared.map((k) => String(other[k])).join(', '), ...cells].join(' | ')} |`);
    }
    blocks.push(lines.join('\n'));
  }
  return blocks;
}
