/**
 * `playground-report`: the §C benchmark report (REPORT.md + a self-contained index.html) from
 * the `fit-neuron` runs of a polynomial × activation matrix: per polynomial a table of the
 * activations sorted by best MSE with the global optimum, the GD-vs-optimum gap, Var(y) (the
 * best constant: a run at Var(y) learned only the constant) and the inline fit PNG and
 * convergence GIF; a winners table like the seed's; optional Adam runs beside GD; the
 * exploration figures at the end.
 *
 *   report:
 *     kind: playground-report
 *     inputs: { runs: 'fit[*].metrics', figures: 'fit_plot[*].png', gifs: 'fit_gif[*].gif',
 *               adam: 'adam[*].metrics', extras: [relu_heatmap.png, sigmoid_gif.gif] }
 *
 * Figures and GIFs are matched to runs by their matrix values (polynomial, activation).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';

interface RunMetrics {
  polynomial: string; activation: string; best_mse: number; final_mse: number; var_y: number;
  optimum_mse: number | null; gap: number | null; constant_only: boolean; optimizer: string; epochs: number;
  w?: number; b?: number; v?: number; c?: number;
}

const playgroundReportParamsSchema = {
  type: 'object',
  properties: { title: { type: 'string', default: 'Single-neuron activation benchmark' } },
  additionalProperties: false,
} as const;

/** The params after defaults, derived from the schema (so the two cannot disagree). */
type PlaygroundReportParams = FromSchema<typeof playgroundReportParamsSchema>;

export default defineStage<PlaygroundReportParams>({
  kind: 'playground-report',
  version: '1',
  description: 'Report of a polynomial × activation fit-neuron matrix: sorted tables, winners, GD vs global optimum, inline PNGs/GIFs',
  paramsSchema: playgroundReportParamsSchema,
  inputs: {
    runs: { type: 'json', multiple: true, description: 'fit-neuron metrics (one per polynomial × activation)' },
    figures: { type: 'png', multiple: true, optional: true, description: 'per-run fit PNGs (matched on polynomial, activation)' },
    gifs: { type: 'gif', multiple: true, optional: true, description: 'per-run convergence GIFs' },
    adam: { type: 'json', multiple: true, optional: true, description: 'fit-neuron metrics of longer Adam runs (matched on activation, polynomial)' },
    extras: { type: 'any', multiple: true, optional: true, description: 'more figures (PNG/GIF) shown at the end' },
  },
  outputs: {
    markdown: { type: 'dir', description: 'REPORT.md, index.html and figures/' },
    results: { type: 'json', description: 'every run with its rank in its polynomial, the winners' },
  },
  async run(ctx) {
    const { mkdir, copyFile, readFile, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const dir = ctx.output('markdown').path;
    await mkdir(join(dir, 'figures'), { recursive: true });
    const runs: RunMetrics[] = [];
    for (const h of ctx.inputs('runs')) {
      const m = await h.readJSON<RunMetrics>();
      if (typeof m?.best_mse !== 'number' || typeof m.polynomial !== 'string') throw new Error(`playground-report: ${h.from}.${h.output} is not fit-neuron metrics`);
      runs.push(m);
    }
    const key = (p: string, a: string) => `${p}/${a}`;
    const seen = new Set<string>();
    for (const r of runs) { if (seen.has(key(r.polynomial, r.activation))) throw new Error(`playground-report: two runs for ${key(r.polynomial, r.activation)}`); seen.add(key(r.polynomial, r.activation)); }
    const files = new Map<string, { png?: string; gif?: string }>();
    const place = async (port: string, ext: 'png' | 'gif') => {
      if (!ctx.has(port)) return;
      for (const h of ctx.inputs(port)) {
        const p = String(h.matrix.polynomial ?? ''), a = String(h.matrix.activation ?? '');
        if (!seen.has(key(p, a))) throw new Error(`playground-report: ${port} from ${h.from} has no matching run (polynomial=${p}, activation=${a})`);
        const name = `figures/${p}_${a}.${ext}`;
        await copyFile(h.path, join(dir, name));
        files.set(key(p, a), { ...files.get(key(p, a)), [ext]: name });
      }
    };
    await place('figures', 'png');
    await place('gifs', 'gif');
    const adam = new Map<string, RunMetrics>();
    if (ctx.has('adam')) for (const h of ctx.inputs('adam')) { const m = await h.readJSON<RunMetrics>(); adam.set(key(m.polynomial, m.activation), m); }

    const f4 = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(4));
    const polys = [...new Set(runs.map((r) => r.polynomial))];
    const md: string[] = [`# ${ctx.params.title}`, '', `${runs.length} runs: ${polys.length} polynomials × ${new Set(runs.map((r) => r.activation)).size} activations, ŷ = v·f(wx + b) + c, MSE. "optimum" is the dense-grid global optimum of the same model (§C.4); Var(y) is the MSE of the best constant — a run at Var(y) learned only the constant.`, ''];
    const html: string[] = [];
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    const dataUri = async (rel: string, mime: string) => `data:${mime};base64,${(await readFile(join(dir, rel))).toString('base64')}`;
    const winners: { polynomial: string; activation: string; best: number; optAct: string; opt: number | null; varY: number }[] = [];
    const results: unknown[] = [];
    for (const p of polys) {
      const group = runs.filter((r) => r.polynomial === p).sort((a, b) => a.best_mse - b.best_mse);
      const vy = group[0]!.var_y;
      const byOpt = [...group].sort((a, b) => (a.optimum_mse ?? Infinity) - (b.optimum_mse ?? Infinity))[0]!;
      winners.push({ polynomial: p, activation: group[0]!.activation, best: group[0]!.best_mse, optAct: byOpt.activation, opt: byOpt.optimum_mse, varY: vy });
      md.push(`## ${p}`, '', `Var(y) = ${f4(vy)}`, '', '| rank | activation | GD best MSE | optimum MSE | gap | learned | Adam MSE | fit | GIF |', '|--:|--|--:|--:|--:|--|--:|--|--|');
      html.push(`<h2>${esc(p)}</h2><p>Var(y) = ${f4(vy)}</p><table><tr><th>rank</th><th>activation</th><th>GD best MSE</th><th>optimum MSE</th><th>gap</th><th>learned</th><th>Adam MSE</th><th>fit</th><th>GIF</th></tr>`);
      for (const [i, r] of group.entries()) {
        const f = files.get(key(p, r.activation)) ?? {};
        const learned = r.constant_only ? 'constant only' : 'shape';
        const ad = adam.get(key(p, r.activation));
        md.push(`| ${i + 1} | ${r.activation} | ${f4(r.best_mse)} | ${f4(r.optimum_mse)} | ${f4(r.gap)} | ${learned} | ${f4(ad?.best_mse)} | ${f.png ? `![](${f.png})` : ''} | ${f.gif ? `![](${f.gif})` : ''} |`);
        html.push(`<tr><td>${i + 1}</td><td>${esc(r.activation)}</td><td>${f4(r.best_mse)}</td><td>${f4(r.optimum_mse)}</td><td>${f4(r.gap)}</td><td>${learned}</td><td>${f4(ad?.best_mse)}</td><td>${f.png ? `<img width="360" src="${await dataUri(f.png, 'image/png')}">` : ''}</td><td>${f.gif ? `<img width="300" src="${await dataUri(f.gif, 'image/gif')}">` : ''}</td></tr>`);
        results.push({ ...r, rank: i + 1, adam_mse: ad?.best_mse ?? null });
      }
      html.push('</table>');
      md.push('', `Best: **${group[0]!.activation}** with MSE ${f4(group[0]!.best_mse)}; best possible: **${byOpt.activation}** ${f4(byOpt.optimum_mse)}.`, '');
    }
    const wTable = ['| polynomial | best activation (GD) | best MSE (GD) | best activation (optimum) | optimum MSE | Var(y) |', '|--|--|--:|--|--:|--:|',
      ...winners.map((w) => `| ${w.polynomial} | ${w.activation} | ${f4(w.best)} | ${w.optAct} | ${f4(w.opt)} | ${f4(w.varY)} |`)];
    md.splice(4, 0, '## Winners', '', ...wTable, '');
    const extras: string[] = [];
    if (ctx.has('extras')) {
      md.push('## Explorations', '');
      for (const [i, h] of ctx.inputs('extras').entries()) {
        const head = (await readFile(h.path)).subarray(0, 4);
        const ext = head.toString('latin1', 0, 3) === 'GIF' ? 'gif' : head[0] === 0x89 ? 'png' : null;
        if (!ext) throw new Error(`playground-report: extra ${h.from}.${h.output} is not a PNG or GIF`);
        const name = `figures/extra_${i}_${h.from.replace(/[^A-Za-z0-9_-]+/g, '_')}.${ext}`;
        await copyFile(h.path, join(dir, name));
        md.push(`- ${h.from}: ![](${name})`);
        extras.push(`<figure><img src="${await dataUri(name, `image/${ext}`)}"><figcaption>${esc(h.from)}</figcaption></figure>`);
      }
      md.push('');
    }
    await writeFile(join(dir, 'REPORT.md'), md.join('\n'));
    const winnersHtml = `<h2>Winners</h2><table><tr><th>polynomial</th><th>best activation (GD)</th><th>best MSE (GD)</th><th>best activation (optimum)</th><th>optimum MSE</th><th>Var(y)</th></tr>${winners.map((w) => `<tr><td>${esc(w.polynomial)}</td><td>${esc(w.activation)}</td><td>${f4(w.best)}</td><td>${esc(w.optAct)}</td><td>${f4(w.opt)}</td><td>${f4(w.varY)}</td></tr>`).join('')}</table>`;
    await writeFile(join(dir, 'index.html'), `<!doctype html><html><head><meta charset="utf-8"><title>${esc(ctx.params.title)}</title><style>body{font-family:DejaVu Sans,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:nth-child(2){text-align:left}img{display:block}figure{display:inline-block;margin:1em}</style></head><body><h1>${esc(ctx.params.title)}</h1><p>${runs.length} runs.</p>${winnersHtml}${html.join('')}${extras.length ? `<h2>Explorations</h2>${extras.join('')}` : ''}</body></html>`);
    await ctx.output('results').writeJSON({ runs: results, winners });
    return { metrics: { runs: runs.length, polynomials: polys.length } };
  },
});
