/**
 * Clip paths that clip nothing (src/lib/plot/svg-clip.ts): dropped only when every stroke of the
 * group, joins and caps included, is inside the clip rectangle; the picture stays the same.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import plot from '../../src/stages/plot.js';
import { runStageDirect } from '../../src/engine/exec/context.js';
import { dropUnusedClips } from '../../src/lib/plot/svg-clip.js';
import { textToPaths } from '../../src/lib/plot/text-paths.js';
import { CASES } from './fixtures.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'pipe-svgclip-test-')); });

const doc = (clip: string, paths: string, more = '') => `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><defs><clipPath id="clip1">${clip}</clipPath></defs><g transform="translate(10,10)" stroke-miterlimit="4"><g class="mark-line" clip-path="url(#clip1)" role="graphics-object">${paths}</g>${more}</g></svg>`;
const rect = '<rect x="0" y="0" width="100" height="50"/>';
const line = (d: string, extra = '') => `<path d="${d}" stroke="#4c78a8" stroke-width="2"${extra}/>`;
const kept = (svg: string) => dropUnusedClips(svg).includes('clip-path="url(#clip1)"');

describe('clip paths that clip nothing', () => {
  it('drops the clip of lines inside the rectangle and keeps every clip that cuts or may cut', () => {
    const inside = doc(rect, line('M5,5L50,40L95,5'));
    expect(kept(inside)).toBe(false);
    expect(dropUnusedClips(inside)).toContain('<g class="mark-line" role="graphics-object"><path d="M5,5L50,40L95,5"');
    // a vertex past the edge, a stroke reaching over it, a translate moving it out
    expect(kept(doc(rect, line('M5,5L50,60L95,5')))).toBe(true);
    expect(kept(doc(rect, line('M0.5,25L99,25')))).toBe(true);
    expect(kept(doc(rect, line('M5,5L50,40', ' transform="translate(60,0)"')))).toBe(true);
    expect(kept(doc(rect, line('M5,5L50,40', ' transform="translate(10,2)"')))).toBe(false);
    // a miter join reaches beyond the vertex: 2 px stroke, a 30° turn → 3.9 half-widths out;
    // round joins reach one half-width; sharper than the miter limit (4) the join is bevelled
    expect(kept(doc(rect, line('M46,19L50,4L54,19')))).toBe(true);
    expect(kept(doc(rect, line('M46,19L50,4L54,19', ' stroke-linejoin="round"')))).toBe(false);
    expect(kept(doc(rect, line('M49,30L50,4L51,30')))).toBe(false);
    expect(kept(doc(rect, line('M46,19L50,4L54,19', ' stroke-miterlimit="3"')))).toBe(false);
    // shapes it does not measure: arcs, curves, relative commands, other transforms, other clips
    expect(kept(doc(rect, line('M5,5A10,10,0,0,1,20,20')))).toBe(true);
    expect(kept(doc(rect, line('M5,5C10,10,20,20,30,30')))).toBe(true);
    expect(kept(doc(rect, line('M5,5l10,10')))).toBe(true);
    expect(kept(doc(rect, line('M5,5L20,20', ' transform="scale(2)"')))).toBe(true);
    expect(kept(doc('<circle cx="50" cy="25" r="20"/>', line('M45,25L55,25')))).toBe(true);
    expect(kept(doc(rect, `${line('M5,5L20,20')}<g>${line('M5,5L20,20')}</g>`))).toBe(true);
    expect(dropUnusedClips('<svg><g clip-path="url(#nowhere)"><path d="M1,1L2,2"/></g></svg>')).toContain('clip-path');
  });

  for (const name of ['fit-relu', 'line-best', 'band-folds']) {
    it(`${name}: the same picture with the unused clips dropped`, async () => {
      const c = CASES.find((x) => x.name === name)!;
      const inputs: Record<string, string> = { data: await c.data(dir) };
      if (c.overlay) inputs.overlay = await c.overlay(dir);
      // the fit with room around it (as a convergence GIF's following y range leaves): its lines' clips cut nothing
      const room = name === 'fit-relu' ? { x_domain: [-2.5, 2.5], y_domain: [-3, 4] } : {};
      const r = await runStageDirect(plot, { params: { template: c.template, ...c.params, ...room, width: 560, height: 340, scale: 1 }, inputs });
      const svg = textToPaths(await readFile(r.outputs.svg!, 'utf8')).svg;
      const draw = (s: string) => new Resvg(s, { fitTo: { mode: 'width', value: 560 }, background: '#ffffff', font: { loadSystemFonts: false }, shapeRendering: 2 }).render().pixels;
      const clips = (s: string) => (s.match(/clip-path=/g) ?? []).length;
      const dropped = dropUnusedClips(svg);
      if (name === 'fit-relu') expect(clips(dropped)).toBeLessThan(clips(svg));
      const a = draw(svg), b = draw(dropped);
      // compositing through a layer or not: rounding of anti-aliased edge pixels only
      let off = 0, far = 0;
      for (let k = 0; k < a.length; k += 4) {
        const d = Math.max(Math.abs(a[k]! - b[k]!), Math.abs(a[k + 1]! - b[k + 1]!), Math.abs(a[k + 2]! - b[k + 2]!));
        if (d > 0) off++;
        if (d > 32) far++;
      }
      expect(far).toBe(0);
      expect(off).toBeLessThan(a.length / 4 / 100);
    });
  }
});
