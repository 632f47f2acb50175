import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, readFile, readdir, mkdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport, dagHtml } from '../../src/lib/report/html.js';
import { dagSvg } from '../../src/lib/report/dag.js';
import { rasterize } from '../../src/lib/plot/render.js';
import report from '../../src/stages/report.js';
import { runStageDirect } from '../../src/engine/exec/context.js';
import type { ReportData } from '../../src/lib/report/types.js';
import { buildRun } from './fixtures.js';

let dir: string;
let data: ReportData;
let out: string;
let files: { html: string; markdown: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipe-report-test-'));
  data = await buildRun(join(dir, 'run'), { sweep: 48 });
  out = join(dir, 'report');
  files = await writeReport(data, out);
});

const specFigures = (d: ReportData) => d.stages.filter((s) => s.outputs.some((o) => o.name === 'spec')).length;

describe('writeReport', () => {
  it('writes a self-contained index.html and REPORT.md with the figures copied', async () => {
    expect(files).toEqual({ html: join(out, 'index.html'), markdown: join(out, 'REPORT.md') });
    const html = await readFile(files.html, 'utf8');
    // nothing from the network: no external scripts, styles or images
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href="(?!data:)/i);
    expect(html).not.toMatch(/<img[^>]+src="(https?:)?\/\//i);
    // vega, vega-lite and vega-embed are inlined; every spec is embedded
    expect(html).toContain('/* vega-embed */');
    expect(html.match(/<figure class="fig" id="fig-\d+" data-spec=/g)).toHaveLength(specFigures(data));
    expect(html.match(/<script type="application\/json" id="fig-\d+-spec">/g)).toHaveLength(specFigures(data));
    // the PNG fallbacks and the GIF are inline
    expect((html.match(/src="data:image\/png;base64,/g) ?? []).length).toBe(specFigures(data));
    expect(html).toContain('src="data:image/gif;base64,');
    // states, reasons, errors, params, results and table previews are on the page, escaped
    expect(html).toContain('params changed: lr 0.01 → 0.001');
    expect(html).toContain('NaN loss at epoch 3 &lt;check the learning rate&gt;');
    expect(html).not.toContain('<check the learning rate>');
    expect(html).toContain('&lt;b&gt;not html&lt;/b&gt;');
    expect(html).toMatch(/<th>accuracy<\/th>/);
    expect(html).toContain('5 rows × 3 columns');
    // artifact links are relative to the report directory
    expect(html).toContain('href="../run/objects/prep-train.arrow"');

    const md = await readFile(files.markdown, 'utf8');
    const imgs = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => decodeURIComponent(m[1]!));
    expect(imgs).toContain('dag.svg');
    expect(imgs.filter((i) => i.startsWith('figures/'))).toHaveLength(specFigures(data) + 1);
    for (const i of imgs) expect(existsSync(join(out, i)), i).toBe(true);
    expect(md).toContain('| train[fold=0,model=actmix] | 0 | actmix | fresh | 0.852 | 0.9 | 16 |');
    expect(md).toMatch(/\*\*Loss curves \(best epoch marked\)\*\* \(`loss_curves`\)/);
    expect(await readdir(join(out, 'figures'))).toEqual(['alpha_heatmap.png', 'convergence.gif', 'landscape.png', 'loss_curves.png']);
  });

  it('is byte-identical when written twice from the same data', async () => {
    const again = join(dir, 'report2');
    await writeReport(data, again);
    // links are relative, so a sibling directory gives the same page
    expect((await readFile(join(again, 'index.html'))).equals(await readFile(files.html))).toBe(true);
    expect((await readFile(join(again, 'REPORT.md'))).equals(await readFile(files.markdown))).toBe(true);
  });

  it('draws the DAG grouped: 40+ matrix instances stay one node each', async () => {
    const svg = dagSvg(data, true);
    const nodes = svg.match(/class="dag-node"/g) ?? [];
    expect(nodes.length).toBe(9);
    expect(svg).toContain('train · 48 instances');
    expect(svg).toContain('train · 6 instances');
    // a valid SVG that renders, with text in it
    const r = await rasterize(svg, 800);
    const plain = await rasterize(svg.replace(/<text\b[^>]*>[^<]*<\/text>/g, ''), 800);
    expect(r.pixels.equals(plain.pixels)).toBe(false);
    const page = dagHtml(data);
    expect(page).toContain('initDag(');
    expect(page).not.toMatch(/<script[^>]+src=/i);
    expect(page).toContain('"id":"sweep[act=relu,dim=16,seed=1]"');
  });
});

describe('report stage kind', () => {
  it('builds a page from gathered figures, metrics and tables', async () => {
    const items = data.stages.filter((s) => ['loss_curves', 'convergence', 'prep'].includes(s.id) || s.base === 'train').flatMap((s) =>
      s.outputs.filter((o) => o.name !== 'history').map((o) => ({ path: o.path, hash: o.hash, from: s.id, output: o.name, matrix: s.matrix })));
    const outDir = join(dir, 'stage-out');
    await mkdir(outDir, { recursive: true });
    const r = await runStageDirect(report, { params: { title: 'Adult: ActMix vs ReLU' }, inputs: { items }, outDir });
    const html = await readFile(r.outputs.html!, 'utf8');
    expect(html).toContain('<title>Adult: ActMix vs ReLU · pipe report</title>');
    expect(html.match(/data-spec=/g)).toHaveLength(1);
    expect(html).toContain('data:image/gif;base64,');
    expect(html).toMatch(/<th>roc_auc<\/th>/);
    expect(html).toContain('5 rows × 3 columns');
    expect(html).not.toContain('id="graph"');
    const md = await readFile(join(r.outputs.markdown!, 'REPORT.md'), 'utf8');
    expect(md).toContain('![Loss curves (best epoch marked)](figures/loss_curves.png)');
    expect((await stat(join(r.outputs.markdown!, 'figures', 'loss_curves.png'))).size).toBeGreaterThan(1000);
    expect(r.result).toEqual({ metrics: { items: items.length, sources: 8 } });
  });
});
