/**
 * Text drawn as glyph outlines (src/lib/plot/text-paths.ts): real figures come out with no
 * `<text>` left (resvg gets no fonts) and within anti-aliasing of resvg drawing the same text
 * with the DejaVu files itself; shapes it does not handle stay text for resvg.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import plot from '../../src/stages/plot.js';
import { runStageDirect } from '../../src/engine/exec/context.js';
import { rasterize } from '../../src/lib/plot/render.js';
import { textToPaths } from '../../src/lib/plot/text-paths.js';
import { fontFiles, FONT_FAMILY } from '../../src/lib/plot/fonts.js';
import { CASES } from './fixtures.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'pipe-textpaths-test-')); });

/** resvg drawing the SVG's text itself from the font files (how figures were drawn before). */
function resvgText(svg: string, width: number): Buffer {
  const F = FONT_FAMILY;
  return new Resvg(svg, {
    fitTo: { mode: 'width', value: width }, background: '#ffffff',
    font: { fontFiles: fontFiles(), loadSystemFonts: false, defaultFontFamily: F, sansSerifFamily: F, serifFamily: F, monospaceFamily: F, cursiveFamily: F, fantasyFamily: F },
    shapeRendering: 2, textRendering: 1, imageRendering: 0,
  }).render().pixels;
}

/** Pixels whose colour differs by more than `tol` (sum over RGB). */
function diffPixels(a: Buffer, b: Buffer, tol = 30): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i += 4) if (Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!) + Math.abs(a[i + 2]! - b[i + 2]!) > tol) n++;
  return n;
}

const svgDoc = (body: string) => `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="120"><rect width="300" height="120" fill="white"/>${body}</svg>`;

describe('text as glyph outlines', () => {
  for (const name of ['heatmap-alpha', 'facet-scatter', 'fit-relu', 'forest-paired']) {
    it(`${name}: every <text> converted, pixels as resvg draws the text itself`, async () => {
      const c = CASES.find((x) => x.name === name)!;
      const inputs: Record<string, string> = { data: await c.data(dir) };
      if (c.overlay) inputs.overlay = await c.overlay(dir);
      const r = await runStageDirect(plot, { params: { template: c.template, ...c.params, width: 560, height: 340, scale: 1 }, inputs });
      const svg = await readFile(r.outputs.svg!, 'utf8');
      const conv = textToPaths(svg);
      const texts = (svg.match(/<text\b/g) ?? []).length;
      expect(texts).toBeGreaterThan(5);
      expect(conv.fonts).toBe(false);
      expect(conv.svg).not.toMatch(/<text\b/);
      const ours = (await rasterize(svg, 560)).pixels;
      const theirs = resvgText(svg, 560);
      const noText = resvgText(svg.replace(/<text\b[^>]*>[\s\S]*?<\/text>/g, ''), 560);
      const textPixels = diffPixels(theirs, noText);
      expect(textPixels).toBeGreaterThan(300);
      // the same glyphs in the same places: differences only along anti-aliased edges
      expect(diffPixels(ours, theirs)).toBeLessThan(textPixels * 0.03);
    });
  }

  it('anchors, bold, entities, multi-line tspans and rotation match resvg; unknown shapes stay text', () => {
    const body = [
      '<text text-anchor="end" transform="translate(150,20)" font-family="DejaVu Sans" font-size="13px" fill="#333">AVATAR &amp; fi &lt;x&gt; −1.5</text>',
      '<text text-anchor="middle" transform="translate(150,45)" font-family="DejaVu Sans" font-size="14px" font-weight="bold" fill="#c00" opacity="0.8">Wave To σ(wx)</text>',
      '<text text-anchor="start" transform="translate(160,20)" font-family="DejaVu Sans" font-size="11px" font-style="italic"><tspan>line one</tspan><tspan x="0" dy="14">line two</tspan></text>',
      '<text text-anchor="middle" transform="translate(20,70) rotate(-90)" font-family="DejaVu Sans" font-size="12px">rot</text>',
    ].join('');
    const svg = svgDoc(body);
    const conv = textToPaths(svg);
    expect(conv.fonts).toBe(false);
    expect(diffPixels(resvgText(conv.svg, 600), resvgText(svg, 600))).toBeLessThan(40);
    expect(diffPixels(resvgText(svgDoc(''), 600), resvgText(svg, 600))).toBeGreaterThan(1000);
    // stroke and letter-spacing are not handled here: kept as text, and the fonts are handed to resvg
    for (const odd of ['<text transform="translate(10,10)" font-size="12px" stroke="#000">a</text>', '<text font-size="12px" letter-spacing="2">a</text>', '<text font-size="12px">a <tspan font-weight="bold">b</tspan></text>', '<text font-size="12px">  a  b</text>']) {
      const c = textToPaths(svgDoc(odd));
      expect(c.fonts).toBe(true);
      expect(c.svg).toContain(odd);
    }
  });
});
