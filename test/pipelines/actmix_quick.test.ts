import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipe, project, repoRoot, summary } from '../engine/helpers.js';
import { readTable } from '../../src/sdk/table.js';
import { decodeGif } from '../plot/gif-decode.js';
import { haveChromium, serveAndBrowse } from '../report/chromium.js';

const mirror = process.env.PIPE_DATA_MIRROR ?? join(repoRoot, '..', 'shared', 'datasets');

// The ActMix pipeline end to end through the CLI, on the real MAGIC data, at smoke size.
describe('pipelines/actmix_quick.yaml', () => {
  it('runs every stage, aggregates per model, draws the figures and writes the report', async () => {
    const dir = project({});
    cpSync(join(repoRoot, 'pipelines'), join(dir, 'pipelines'), { recursive: true });
    process.env.PIPE_DATA_MIRROR = mirror;
    const r = await pipe(dir, 'run', 'pipelines/actmix_quick.yaml', '--set', 'folds=2', '--set', 'training.max_epochs=2', '--set', 'xgboost.n_estimators=50');
    expect(r.code, r.stderr).toBe(0);
    const s = summary(r);
    expect(s.failed).toBe(0);
    // data 1, split/encode/prep 2 each, train 2×4, xgboost 2, results, curves, analyze, 5 single figures, 2×2 per-layer figures,
    // α over training: dynamics, 2 line charts, the α GIF; the forest plot of the paired differences
    expect(s.ran).toBe(1 + 3 * 2 + 8 + 2 + 1 + 1 + 1 + 5 + 4 + 4 + 1);
    const res = JSON.parse(readFileSync(join(dir, 'artifacts/actmix_quick/results/results.json'), 'utf8'));
    const byModel = Object.fromEntries(res.groups.map((g: { group: { model: string }; metrics: Record<string, { mean: number; n: number }> }) => [g.group.model, g.metrics]));
    expect(Object.keys(byModel).sort()).toEqual(['actmix', 'gelu', 'prelu', 'relu', 'xgboost']);
    for (const m of Object.values(byModel)) {
      expect(m.accuracy!.n).toBe(2);
      // far above the 64.8% majority class even after 2 epochs
      expect(m.accuracy!.mean).toBeGreaterThan(0.8);
      expect(m.roc_auc!.mean).toBeGreaterThan(0.85);
    }
    // paired differences: ActMix minus each baseline on the same folds, by hand from the per-fold metrics
    const fold = (stage: string, f: number, model?: string) => JSON.parse(readFileSync(join(dir, `artifacts/actmix_quick/${stage}[dataset=magic,fold=${f}${model ? `,model=${model}` : ''}]/metrics.json`), 'utf8')).test;
    const md = readFileSync(join(dir, 'artifacts/actmix_quick/results/table.md'), 'utf8');
    expect(md).toContain('Paired differences: **model=actmix** − each other model, matched on fold (n = 2); p: paired t, Holm-adjusted over the 4 comparisons of each column:');
    expect(md).toContain('| dataset | − model | Δ accuracy | p | Δ roc_auc | p |');
    for (const base of ['relu', 'gelu', 'prelu', 'xgboost']) {
      for (const metric of ['accuracy', 'roc_auc']) {
        const d = [0, 1].map((f) => fold('train', f, 'actmix')[metric] - (base === 'xgboost' ? fold('xgboost', f) : fold('train', f, base))[metric]);
        const mean = (d[0]! + d[1]!) / 2;
        const std = Math.sqrt(((d[0]! - mean) ** 2 + (d[1]! - mean) ** 2) / 2);
        const x = res.paired.find((y: { baseline: { model: string }; metric: string }) => y.baseline.model === base && y.metric === metric);
        expect(x, `${base} ${metric}`).toMatchObject({ group: { dataset: 'magic', model: 'actmix' }, baseline: { dataset: 'magic', model: base }, n: 2, better: d.filter((v) => v > 0).length });
        expect(x.mean).toBeCloseTo(mean, 12);
        expect(x.std).toBeCloseTo(std, 12);
      }
      const acc = res.paired.find((y: { baseline: { model: string }; metric: string }) => y.baseline.model === base && y.metric === 'accuracy');
      const row = md.split('\n').filter((l) => l.startsWith(`| magic | ${base} |`)).at(-1);
      expect(row, base).toBeDefined();
      const sg = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(4)}`;
      expect(row).toContain(`| ${sg(acc.mean)} [${sg(acc.ci_low)}, ${sg(acc.ci_high)}] (${acc.better}/2) |`);
    }
    expect(res.paired.some((y: { baseline: { model: string } }) => y.baseline.model === 'actmix')).toBe(false);
    // the HTML report opens with the results tables, the paired differences among them
    const html = readFileSync(join(dir, 'artifacts/actmix_quick/report/index.html'), 'utf8');
    const summaryAt = html.indexOf('<section id="summary">');
    expect(summaryAt).toBeGreaterThan(0);
    expect(summaryAt).toBeLessThan(html.indexOf('<section id="graph">'));
    expect(html.slice(summaryAt, html.indexOf('</section>', summaryAt))).toMatch(/Paired differences[\s\S]*<td>magic<\/td><td>xgboost<\/td>/);
    expect(existsSync(join(dir, 'artifacts/actmix_quick/alpha_heatmap[dataset=magic]/png.png'))).toBe(true);
    // α over training: one GIF frame per snapshot of the train stage (before training, after each of the 2 epochs)
    const snaps = await readTable(join(dir, 'artifacts/actmix_quick/train[dataset=magic,fold=0,model=actmix]/alpha.arrow'));
    expect(Array.from(snaps.getChild('epoch')!.toArray() as Int32Array)).toEqual([-1, 0, 1]);
    const gif = decodeGif(readFileSync(join(dir, 'artifacts/actmix_quick/alpha_gif[dataset=magic]/gif.gif')));
    expect(gif.frames.length).toBe(snaps.numRows);
    const mass = (await readTable(join(dir, 'artifacts/actmix_quick/dynamics[dataset=magic]/mass.arrow'))).toArray().map((x) => x.toJSON());
    expect(new Set(mass.map((m) => m.epoch))).toEqual(new Set([0, 1, 2]));
    expect(readFileSync(join(dir, 'artifacts/actmix_quick/report/index.html'), 'utf8')).toContain('alpha_heatmap');
    // opened in a browser at 1,280 px: the page starts with the headline (results, paired differences,
    // the named figures) and the DAG fits the page width until 'Actual size' is pressed
    if (haveChromium) {
      const web = await serveAndBrowse(join(dir, 'artifacts/actmix_quick/report'), { width: 1280, height: 900 });
      try {
        const { page, errors } = await web.open('/index.html');
        await page.waitForSelector('body[data-charts="done"]', { timeout: 60_000 });
        const shot = join(dir, 'report-1280.png');
        await page.screenshot({ path: shot });
        console.log(`actmix_quick report at 1280 px: ${shot}`);
        const layout = await page.evaluate(() => {
          const first = document.querySelector('main > section')!;
          const svg = document.querySelector('#dag svg.dag-svg') as SVGSVGElement;
          const r = svg.getBoundingClientRect();
          return {
            widest: Math.max(...[...first.querySelectorAll('table, img')].map((t) => t.getBoundingClientRect().right)),
            first: first.id, heads: [...first.querySelectorAll('h3')].map((h) => h.textContent), paired: first.textContent!.includes('Paired differences'),
            svgRight: r.right, svgWidth: r.width, natural: svg.width.baseVal.value, vw: document.documentElement.clientWidth,
          };
        });
        expect(errors).toEqual([]);
        expect(layout.first).toBe('summary');
        expect(layout.heads).toEqual(['results · table', 'forest · png', 'curves[dataset=magic] · png', 'mass_over_training[dataset=magic] · png']);
        expect(layout.paired).toBe(true);
        // nothing in the summary is wider than the page
        expect(layout.widest).toBeLessThanOrEqual(layout.vw);
        expect(layout.natural).toBeGreaterThan(layout.vw); // the graph is wider than the page…
        expect(layout.svgRight).toBeLessThanOrEqual(layout.vw); // …and drawn to fit it
        await page.click('[data-zoom="full"]');
        expect(await page.evaluate(() => (document.querySelector('#dag svg.dag-svg') as SVGSVGElement).getBoundingClientRect().width)).toBeCloseTo(layout.natural, 0);
      } finally {
        await web.close();
      }
    }
    // a config change below the data stages recomputes only what it affects
    const r2 = await pipe(dir, 'run', 'pipelines/actmix_quick.yaml', '--set', 'folds=2', '--set', 'training.max_epochs=2', '--set', 'xgboost.n_estimators=60');
    expect(summary(r2)).toMatchObject({ ran: 2 + 1 + 1, failed: 0 });
  }, 240_000);
});
