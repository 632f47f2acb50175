import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, Float32, Int32, vectorFromArray } from 'apache-arrow';
import plot from '../../src/stages/plot.js';
import { runStageDirect } from '../../src/engine/exec/context.js';
import { rasterize, renderVegaLite } from '../../src/lib/plot/render.js';
import { jsonRows, readRows } from '../../src/lib/plot/data.js';
import { buildTemplate, isoSegments, lineJoinWarning, TEMPLATE_NAMES } from '../../src/lib/plot/templates.js';
import { writeTable, withMeta, makeTable, fixedListVector, numericVector } from '../../src/sdk/table.js';
import { findFontDir } from '../../src/lib/plot/fonts.js';
import { fontMetrics } from '../../src/lib/plot/font-metrics.js';
import { CASES, foldCurves, history, writeArrow, writeJson } from './fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipe-plot-test-'));
});

export function pngSize(buf: Buffer): { width: number; height: number } {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(buf.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** Pixels that differ between two same-size RGBA buffers. */
function diffPixels(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i += 4) if (Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!) + Math.abs(a[i + 2]! - b[i + 2]!) > 30) n++;
  return n;
}

function nonWhite(px: Buffer): number {
  let n = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i]! < 235 || px[i + 1]! < 235 || px[i + 2]! < 235) n++;
  return n;
}

async function runCase(c: (typeof CASES)[number], extra: Record<string, unknown> = {}, outDir?: string) {
  const inputs: Record<string, string> = { data: await c.data(dir) };
  if (c.overlay) inputs.overlay = await c.overlay(dir);
  return runStageDirect(plot, { params: { template: c.template, ...c.params, ...extra }, inputs, ...(outDir ? { outDir } : {}) });
}

describe('plot templates', () => {
  it('cover every built-in template', () => {
    expect(new Set(CASES.map((c) => c.template))).toEqual(new Set(TEMPLATE_NAMES));
  });

  for (const c of CASES) {
    it(`${c.name}: valid SVG and PNG of the requested size with text glyphs`, async () => {
      const r = await runCase(c, { width: 560, height: 340, scale: 1.5 });
      const svg = await readFile(r.outputs.svg!, 'utf8');
      const png = await readFile(r.outputs.png!);
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg).toMatch(/<svg[^>]* width="560" height="340"/);
      expect(svg).not.toMatch(/NaN|undefined|Infinity/);
      expect(pngSize(png)).toEqual({ width: 840, height: 510 });
      // the title is in the SVG as text, in the real font
      expect(svg).toContain(String(c.params.title).replace(/&/g, '&amp;').replace(/</g, '&lt;'));
      expect(svg).toContain('DejaVu Sans');
      // glyphs are drawn: removing the <text> elements changes many pixels
      const withText = await rasterize(svg, 560);
      const noText = await rasterize(svg.replace(/<text\b[^>]*>[^<]*<\/text>/g, ''), 560);
      expect(nonWhite(withText.pixels)).toBeGreaterThan(3000);
      expect(diffPixels(withText.pixels, noText.pixels)).toBeGreaterThan(400);
      // the spec output is self-contained vega-lite with the rows inline
      const spec = JSON.parse(await readFile(r.outputs.spec!, 'utf8'));
      expect(spec.$schema).toMatch(/vega-lite/);
      expect(Object.values(spec.datasets as Record<string, unknown[]>).some((v) => v.length > 0)).toBe(true);
      expect(JSON.stringify(spec)).not.toMatch(/"url"/);
      expect((r.result as any).metrics.png_width).toBe(840);
    });
  }

  it('band: mean and band per colour and x over the instances; line warns when it would join them', () => {
    const cols = foldCurves();
    const rows = cols.epoch!.map((_, i) => Object.fromEntries(Object.keys(cols).map((k) => [k, cols[k]![i]])));
    const o = { x: 'epoch', y: 'val_loss', color: 'act', width: 640, height: 400 };
    const at = (spec: any, act: string, e: number) => spec.datasets.data.find((r: any) => r.act === act && r.epoch === e);
    // val_loss = base + exp(−e/4) + 0.01·fold, fold 0..4: mean offset 0.02, sample std 0.01·sqrt(2.5)
    const std = buildTemplate('band', o as any, { data: rows }) as any;
    const r = at(std, 'relu', 3);
    expect(r.val_loss).toBeCloseTo(0.4 + Math.exp(-3 / 4) + 0.02, 12);
    expect(r.__hi - r.val_loss).toBeCloseTo(0.01 * Math.sqrt(2.5), 12);
    expect(r.__n).toBe(5);
    expect(std.datasets.data).toHaveLength(24); // 2 colours × 12 epochs, one row each
    // 95% t interval: t_{0.975,4} = 2.776445 × std/√5; min–max: folds 0 and 4
    const ci = at(buildTemplate('band', { ...o, band: 'ci' } as any, { data: rows }), 'tanh', 1);
    expect(ci.__hi - ci.val_loss).toBeCloseTo(2.776445 * 0.01 * Math.sqrt(2.5) / Math.sqrt(5), 6);
    const mm = at(buildTemplate('band', { ...o, band: 'minmax' } as any, { data: rows }), 'tanh', 1);
    expect([mm.__lo, mm.__hi].map((v: number) => v.toFixed(10))).toEqual([0.5 + Math.exp(-1 / 4), 0.5 + Math.exp(-1 / 4) + 0.04].map((v) => v.toFixed(10)));
    expect(lineJoinWarning(o as any, rows)).toMatch(/^template 'line': act=relu joins 5 instances \(train\[act=relu,fold=0\], .*use template 'band'/);
    expect(lineJoinWarning({ ...o, color: 'source' } as any, rows)).toBeUndefined();
    expect(lineJoinWarning(o as any, rows.filter((x) => x.fold === '0'))).toBeUndefined();
  });

  it('renders deterministically (same inputs → same bytes), also after other plots', async () => {
    const c = CASES.find((x) => x.name === 'contour-landscape')!;
    const a = await runCase(c, {}, await mkdtemp(join(dir, 'a-')));
    await runCase(CASES[0]!);
    await runCase(CASES.find((x) => x.name === 'facet-scatter')!);
    const b = await runCase(c, {}, await mkdtemp(join(dir, 'b-')));
    for (const k of ['svg', 'png', 'spec']) {
      const x = await readFile(a.outputs[k]!);
      const y = await readFile(b.outputs[k]!);
      expect(x.equals(y), k).toBe(true);
    }
    // and the clip-path ids are numbered from 1 in each figure
    expect(await readFile(b.outputs.svg!, 'utf8')).toContain('id="clip1"');
  });

  it('changes the bytes when the data change', async () => {
    const c = CASES[0]!;
    const a = await runCase(c);
    const h = history();
    h.val_loss[3] = 0.01;
    const b = await runStageDirect(plot, { params: { template: 'line', ...c.params }, inputs: { data: await writeJson(dir, 'h2', h) } });
    expect((await readFile(a.outputs.png!)).equals(await readFile(b.outputs.png!))).toBe(false);
    // the best epoch moved to epoch 4
    expect(await readFile(b.outputs.svg!, 'utf8')).toContain('best epoch 4 (val_loss 0.01)');
  });

  it('marks the best epoch of a loss curve', async () => {
    const r = await runCase(CASES[0]!);
    const h = history();
    let best = 0;
    h.val_loss.forEach((v, i) => { if (v < h.val_loss[best]!) best = i; });
    expect(await readFile(r.outputs.svg!, 'utf8')).toContain(`best epoch ${h.epoch[best]} (val_loss`);
  });
});

describe('plot stage params and data', () => {
  it('renders an inline vega-lite spec with named input data', async () => {
    const data = await writeJson(dir, 'bars', [{ k: 'a', v: 3 }, { k: 'b', v: 5 }, { k: 'c', v: 1 }]);
    const r = await runStageDirect(plot, {
      params: { spec: { mark: 'bar', encoding: { x: { field: 'k', type: 'nominal' }, y: { field: 'v', type: 'quantitative' } } }, title: 'Inline', width: 300, height: 200, scale: 1 },
      inputs: { data },
    });
    expect(pngSize(await readFile(r.outputs.png!))).toEqual({ width: 300, height: 200 });
    const spec = JSON.parse(await readFile(r.outputs.spec!, 'utf8'));
    expect(spec.data).toEqual({ name: 'data' });
    expect(spec.datasets.data).toHaveLength(3);
    expect(spec.title).toBe('Inline');
  });

  it('refuses specs that load data by URL, and unknown fields, with clear messages', async () => {
    const data = await writeJson(dir, 'one', [{ a: 1 }]);
    await expect(runStageDirect(plot, { params: { spec: { data: { url: 'http://example.com/x.csv' }, mark: 'point' } }, inputs: { data } })).rejects.toThrow(/by URL/);
    await expect(runStageDirect(plot, { params: { template: 'line', x: 'a', y: 'nope' }, inputs: { data } })).rejects.toThrow(/field 'nope' is not in input 'data'/);
    await expect(runStageDirect(plot, { params: { template: 'heatmap', x: 'a' }, inputs: { data } })).rejects.toThrow(/needs params 'y', 'color'/);
    await expect(runStageDirect(plot, { params: { x: 'a' }, inputs: { data } })).rejects.toThrow();
    await expect(runStageDirect(plot, { params: { template: 'line', x: 'a', y: 'a', colour: 'b' }, inputs: { data } })).rejects.toThrow(/unknown parameter 'colour'/);
  });

  it('concatenates a gather and tags rows with the matrix values', async () => {
    const a = await writeJson(dir, 'ha', history());
    const h2 = history();
    h2.val_loss = h2.val_loss.map((v) => v + 0.1);
    const b = await writeJson(dir, 'hb', h2);
    const r = await runStageDirect(plot, {
      params: { template: 'line', x: 'epoch', y: 'val_loss', color: 'model', title: 'Gather' },
      inputs: { data: [
        { path: a, hash: 'a', from: 'train[model=relu]', output: 'history', matrix: { model: 'relu' } },
        { path: b, hash: 'b', from: 'train[model=tanh]', output: 'history', matrix: { model: 'tanh' } },
      ] },
    });
    const spec = JSON.parse(await readFile(r.outputs.spec!, 'utf8'));
    const rows = spec.datasets.data as Record<string, unknown>[];
    expect(rows).toHaveLength(50);
    expect(rows.filter((x) => x.model === 'tanh')).toHaveLength(25);
    expect(rows[0]!.source).toBe('train[model=relu]');
    const svg = await readFile(r.outputs.svg!, 'utf8');
    expect(svg).toContain('>relu</text>');
    expect(svg).toContain('>tanh</text>');
  });

  it('reads Arrow tables: Float32 rounded, class indices named, BigInt as numbers', async () => {
    const t = tableFromArrays({
      f: vectorFromArray([0.1, 0.2], new Float32()),
      label: vectorFromArray([1, 0], new Int32()),
      n: BigInt64Array.from([5n, 6n]),
    });
    const path = join(dir, 'typed.arrow');
    await writeTable(path, withMeta(t as any, { target: 'label', task: 'classification', classes: ['neg', 'pos'] }));
    expect(await readRows(path)).toEqual([{ f: 0.1, label: 'pos', n: 5 }, { f: 0.2, label: 'neg', n: 6 }]);
  });

  it('reads the JSON shapes stages write', () => {
    expect(jsonRows({ epoch: [1, 2], loss: [0.5, 0.4], run: 'x' })).toEqual([{ run: 'x', epoch: 1, loss: 0.5 }, { run: 'x', epoch: 2, loss: 0.4 }]);
    expect(jsonRows([3, 4])).toEqual([{ index: 0, value: 3 }, { index: 1, value: 4 }]);
    expect(jsonRows({ acc: 0.9 })).toEqual([{ acc: 0.9 }]);
    expect(jsonRows({ h: { a: [1], b: [2] } }, 'h')).toEqual([{ a: 1, b: 2 }]);
    expect(() => jsonRows({ a: [1, 2], b: [1] })).toThrow(/different lengths/);
  });

  it('finds iso-contours where a plane crosses the level', () => {
    const xs = [0, 1, 2], ys = [0, 1];
    const segs = isoSegments(xs, ys, (i) => xs[i]!, 1.5);
    expect(segs).toEqual([[1.5, 0, 1.5, 1]]);
  });

  it('sizes composite (facet) figures exactly too', async () => {
    const data = await writeArrow(dir, 'fac', { g: ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd'], x: [0, 1, 0, 1, 0, 1, 0, 1], y: [1, 2, 2, 3, 3, 1, 0, 2] });
    const r = await renderVegaLite({ datasets: { data: [] }, data: { values: [{ g: 'a', x: 1, y: 2 }, { g: 'b', x: 2, y: 1 }] }, facet: { field: 'g' }, spec: { mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } } }, { width: 400, height: 150, scale: 1 });
    expect(pngSize(r.png)).toEqual({ width: 400, height: 150 });
    const s = await runStageDirect(plot, { params: { template: 'line', x: 'x', y: 'y', facet: 'g', title: 'Facets', width: 700, height: 300, scale: 1 }, inputs: { data } });
    expect(pngSize(await readFile(s.outputs.png!))).toEqual({ width: 700, height: 300 });
  });
});

describe('image grids of list columns (MNIST tables)', () => {
  it('reads only max_images rows, keeps their order and names the labels', async () => {
    const n = 300;
    const px = new Uint8Array(n * 784);
    for (let i = 0; i < n; i++) for (let k = 0; k < 784; k++) px[i * 784 + k] = (Math.floor(k / 28) + i) % 28 === (k % 28) ? 255 : 0;
    const label = Int32Array.from({ length: n }, (_, i) => i % 10);
    const path = join(dir, 'mnist-like.arrow');
    await writeTable(path, makeTable({ image: fixedListVector(px, 784), label: numericVector('int32', label) }, { target: 'label', task: 'classification', classes: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] }));
    const r = await runStageDirect(plot, { params: { template: 'image-grid', shape: [28, 28], max_images: 12, columns: 6, title: 'Digits', width: 600, height: 300, scale: 1 }, inputs: { data: path } });
    expect((r.result as any).metrics.rows).toBe(12);
    expect(pngSize(await readFile(r.outputs.png!))).toEqual({ width: 600, height: 300 });
    const svg = await readFile(r.outputs.svg!, 'utf8');
    const heads = [...svg.matchAll(/>(#\d+ · [a-z]+)<\/text>/g)].map((m) => m[1]);
    expect(heads).toEqual(Array.from({ length: 12 }, (_, i) => `#${i} · ${['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'][i % 10]}`));
    const spec = JSON.parse(await readFile(r.outputs.spec!, 'utf8'));
    expect(spec.datasets.data).toHaveLength(12 * 784);
  });
});

describe('fonts', () => {
  it('measures real DejaVu advances (used for layout)', () => {
    const m = fontMetrics('regular');
    expect(m.width('M', 2048)).toBeCloseTo(1767, 0);
    expect(m.width('iiii', 12)).toBeLessThan(m.width('WWWW', 12) / 2);
    expect(fontMetrics('bold').width('epoch', 12)).toBeGreaterThan(m.width('epoch', 12));
  });

  it('fails loudly, naming the package, when no font directory has DejaVu', () => {
    expect(() => findFontDir(['/nonexistent/fonts'])).toThrow(/fonts-dejavu-core/);
  });
});
