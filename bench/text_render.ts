/**
 * Rasterizing figure frames with text: resvg drawing vega's `<text>` from the DejaVu files (how
 * figures were drawn before; resvg rebuilds its font database per image and reopens the font
 * file for every text run) against the glyph outlines of src/lib/plot/text-paths.ts (fonts read
 * once per process; resvg gets no fonts). Same SVGs: the activation playground's convergence-GIF
 * frames (fit template, follow_y, 41 snapshots, 480 × 320 px as the GIF). Fit frames are what the playground draws most (30 GIFs × 41).
 * Alternating rounds, best of `--repeat`; prints ms per frame, the ratio and how many pixels
 * differ (colour distance > 30, i.e. beyond anti-aliasing).
 *
 *   npm run build && npx tsx bench/text_render.ts [--repeat 3]
 */
import { Resvg } from '@resvg/resvg-js';
import { runStageDirect } from '../src/engine/exec/context.js';
import { validateParams } from '../src/engine/front/params.js';
import gen from '../src/stages/generate-synthetic.js';
import fitNeuron from '../src/stages/fit-neuron.js';
import animation, { frameSpecs } from '../src/stages/animation.js';
import { readTable } from '../src/sdk/table.js';
import { tableRows } from '../src/lib/plot/data.js';
import { rasterize, renderVegaLite } from '../src/lib/plot/render.js';
import { fontFiles, FONT_FAMILY as F } from '../src/lib/plot/fonts.js';

const arg = (k: string, d: string) => { const i = process.argv.indexOf(`--${k}`); return i >= 0 ? process.argv[i + 1]! : d; };
const repeat = Number(arg('repeat', '3'));

const resvgText = (svg: string, width: number) => new Resvg(svg, {
  fitTo: { mode: 'width', value: width }, background: '#ffffff',
  font: { fontFiles: fontFiles(), loadSystemFonts: false, defaultFontFamily: F, sansSerifFamily: F, serifFamily: F, monospaceFamily: F, cursiveFamily: F, fantasyFamily: F },
  shapeRendering: 2, textRendering: 1, imageRendering: 0,
}).render().pixels;

function diffPixels(a: Buffer, b: Buffer): number {
  let n = 0;
  for (let i = 0; i < a.length; i += 4) if (Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!) + Math.abs(a[i + 2]! - b[i + 2]!) > 30) n++;
  return n;
}

const table = (await runStageDirect(gen, { params: { generator: 'playground', polynomial: 'cubic_s' } })).outputs.table!;
const pts = tableRows(await readTable(table));
const fit = await runStageDirect(fitNeuron, { params: { model: { type: 'neuron', activation: 'tanh' }, training: { optimizer: 'gd', lr: 0.002, epochs: 1000, halving_every: 250, snapshot_every: 25 }, optimum: { enabled: false } }, inputs: { data: table } });
const params = validateParams(animation, { frame: 'snapshot', template: 'fit', x: 'x', y: 'y', color: 'curve', notes_field: 'notes', follow_y: 0.5, fps: 12, title: 'Convergence: tanh on cubic_s', width: 480, height: 320 });
const specs = await frameSpecs(params, { data: pts, overlay: tableRows(await readTable(fit.outputs.frames!)) });
const svgs: { svg: string; width: number }[] = [];
for (const s of specs) svgs.push({ svg: (await renderVegaLite(s, { width: 480, height: 320, scale: 1, png: false })).svg, width: 480 });
const texts = svgs.reduce((a, s) => a + (s.svg.match(/<text\b/g) ?? []).length, 0);

let worst = 0;
for (const s of svgs) worst = Math.max(worst, diffPixels(resvgText(s.svg, s.width), (await rasterize(s.svg, s.width, false)).pixels));
const best = { resvg: Infinity, outlines: Infinity };
for (let r = 0; r < repeat; r++) {
  let t = performance.now();
  for (const s of svgs) resvgText(s.svg, s.width);
  best.resvg = Math.min(best.resvg, performance.now() - t);
  t = performance.now();
  for (const s of svgs) await rasterize(s.svg, s.width, false);
  best.outlines = Math.min(best.outlines, performance.now() - t);
}
const per = (ms: number) => (ms / svgs.length).toFixed(1);
console.log(`${svgs.length} convergence-GIF frames (480 × 320 px, ${(texts / svgs.length).toFixed(0)} text elements each), best of ${repeat} alternating rounds`);
console.log('| text drawn by | ms / frame | frames / s |');
console.log('|---|---:|---:|');
console.log(`| resvg from the font files (before) | ${per(best.resvg)} | ${(1000 * svgs.length / best.resvg).toFixed(1)} |`);
console.log(`| glyph outlines, fonts read once (now) | ${per(best.outlines)} | ${(1000 * svgs.length / best.outlines).toFixed(1)} |`);
console.log(`speed-up ${(best.resvg / best.outlines).toFixed(2)}×; most pixels differing beyond anti-aliasing in one frame: ${worst} of ${480 * 320}`);
