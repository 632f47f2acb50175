/**
 * Headless rendering of vega-lite specs: vega-lite → vega → View (renderer 'none') → SVG string
 * → resvg → PNG. Deterministic: same spec → same SVG bytes → same PNG bytes (vega's clip and
 * gradient id counters are reset per render; no timestamps).
 *
 * Size contract: the SVG and the PNG always have exactly the requested size (`width` × `height`
 * CSS px; the PNG is `scale` times that in pixels). Single views are laid out to fit it
 * (vega autosize `fit`); composite views (facet, concat) are laid out at their natural size and
 * then scaled to fit and centred on a white canvas of the requested size.
 */
import { fontFiles, faceOf, FONT_FAMILY } from './fonts.js';
import { fontMetrics } from './font-metrics.js';
import { textToPaths } from './text-paths.js';
import { dropUnusedClips } from './svg-clip.js';

export type VlSpec = Record<string, any>;

export interface RenderOptions {
  /** Width of the figure in CSS px. */
  width: number;
  /** Height of the figure in CSS px. */
  height: number;
  /** PNG pixels per CSS px (2 = crisp on high-dpi screens). */
  scale?: number;
  /** false: only the RGBA pixels (GIF frames), no PNG encoding — `png` is then empty. */
  png?: boolean;
}

export interface Rendered {
  /** The vega-lite spec as rendered (theme and size applied, data inline). */
  spec: VlSpec;
  svg: string;
  png: Buffer;
  /** The PNG's RGBA pixels. */
  pixels: Buffer;
  /** PNG size in pixels. */
  pngWidth: number;
  pngHeight: number;
}

/** Readable defaults: real font everywhere, sizes that survive a 2× PNG in a report. */
export const THEME: VlSpec = {
  font: FONT_FAMILY,
  background: 'white',
  padding: 10,
  title: { font: FONT_FAMILY, fontSize: 15, fontWeight: 'bold', anchor: 'start', offset: 10, subtitleFontSize: 12, subtitleColor: '#555' },
  axis: {
    labelFont: FONT_FAMILY, titleFont: FONT_FAMILY, labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'bold',
    gridColor: '#e6e6e6', domainColor: '#888', tickColor: '#888', labelColor: '#333', titleColor: '#222', labelOverlap: true, labelSeparation: 4,
  },
  legend: { labelFont: FONT_FAMILY, titleFont: FONT_FAMILY, labelFontSize: 11, titleFontSize: 12, labelLimit: 220, titleLimit: 220 },
  header: { labelFont: FONT_FAMILY, titleFont: FONT_FAMILY, labelFontSize: 12, titleFontSize: 13, labelFontWeight: 'bold' },
  text: { font: FONT_FAMILY },
  mark: { font: FONT_FAMILY },
  view: { stroke: '#bbb' },
  range: { category: { scheme: 'tableau10' } },
};

function isObj(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: VlSpec, over: VlSpec | undefined): VlSpec {
  const out: VlSpec = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k], v) : v;
  return out;
}

const COMPOSITE = ['facet', 'hconcat', 'vconcat', 'concat', 'repeat'];
export function isComposite(spec: VlSpec): boolean {
  return COMPOSITE.some((k) => k in spec) || (isObj(spec.encoding) && ('row' in spec.encoding || 'column' in spec.encoding || 'facet' in spec.encoding));
}

/** Throws if the spec loads data from a URL: stage data must come through its inputs. */
export function assertNoUrlData(spec: unknown, path = 'spec'): void {
  if (Array.isArray(spec)) spec.forEach((v, i) => assertNoUrlData(v, `${path}[${i}]`));
  else if (isObj(spec)) {
    for (const [k, v] of Object.entries(spec)) {
      if (k === 'data' && isObj(v) && typeof v.url === 'string') {
        throw new Error(`${path}.data loads '${v.url}' by URL; connect the data as a stage input and use data: {name: "data"} instead`);
      }
      assertNoUrlData(v, `${path}.${k}`);
    }
  }
}

/** The spec with theme, size and autosize applied (what is rendered and embedded). */
export function prepareSpec(spec: VlSpec, opts: RenderOptions): VlSpec {
  const s: VlSpec = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec };
  s.config = deepMerge(THEME, s.config);
  // the figure's size, for pages that show the PNG at its CSS size
  s.usermeta = { ...(isObj(s.usermeta) ? s.usermeta : {}), pipe: { width: opts.width, height: opts.height } };
  if (!isComposite(s)) {
    s.width ??= opts.width;
    s.height ??= opts.height;
    s.autosize ??= { type: 'fit', contains: 'padding' };
  }
  return s;
}

let vegaMods: Promise<{ vega: typeof import('vega'); vl: typeof import('vega-lite'); Resvg: typeof import('@resvg/resvg-js').Resvg }> | undefined;

async function mods() {
  vegaMods ??= (async () => {
    // resvg's allocator (mimalloc) returns freed memory to the OS 10 ms after a free by default;
    // its pixmaps are freed when V8 collects their JS objects, a frame or more apart, so every
    // render page-faulted its canvas in afresh (≈ 2 MB per 480 × 320 frame, half the cost of an
    // empty render). Kept for a second, the next render reuses it. Read when resvg loads.
    process.env.MIMALLOC_PURGE_DELAY ??= '1000';
    const [vega, vl, resvg] = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
    // Real glyph advances instead of vega's 0.8 em guess.
    (vega as unknown as { textMetrics: { width: (item: any, text: unknown) => number } }).textMetrics.width = (item: any, text: unknown) => {
      const size = item.fontSize != null ? +item.fontSize || 0 : 11;
      let t = text == null ? '' : String(text).trim();
      if (!t || size <= 0) return 0;
      const m = fontMetrics(faceOf(item.fontWeight, item.fontStyle));
      if (item.limit > 0 && m.width(t, size) > item.limit) {
        // same truncation rule as vega: shorten and add an ellipsis
        const ell = item.ellipsis ?? '…';
        while (t.length > 1 && m.width(t + ell, size) > item.limit) t = t.slice(0, -1);
        return m.width(t + ell, size);
      }
      return m.width(t, size);
    };
    return { vega, vl, Resvg: resvg.Resvg };
  })();
  return vegaMods;
}

/** Compiles a vega-lite spec to a vega spec (throws on vega-lite errors; warnings are returned). */
export async function compileVegaLite(spec: VlSpec): Promise<{ vega: any; warnings: string[] }> {
  const { vl } = await mods();
  const warnings: string[] = [];
  const logger = {
    level: (_?: number) => logger as any,
    error: (...a: unknown[]) => { throw new Error(`vega-lite: ${a.map(String).join(' ')}`); },
    warn: (...a: unknown[]) => { warnings.push(a.map(String).join(' ')); return logger as any; },
    info: () => logger as any,
    debug: () => logger as any,
  };
  const out = vl.compile(spec as any, { logger: logger as any });
  return { vega: out.spec, warnings };
}

/** A headless vega View of a compiled spec (no loader, vega errors thrown, warnings collected). */
export async function headlessView(vg: any, warnings: string[]): Promise<any> {
  const { vega } = await mods();
  const noLoad = () => Promise.reject(new Error('plots load no external resources'));
  const loader = { load: noLoad, sanitize: noLoad, http: noLoad, file: noLoad } as any;
  vega.resetSVGDefIds();
  const view = new vega.View(vega.parse(vg), { renderer: 'none', loader, logLevel: vega.Warn });
  view.logger({
    level: () => 0, error: (...a: unknown[]) => { throw new Error(`vega: ${a.map(String).join(' ')}`); },
    warn: (...a: unknown[]) => { warnings.push(a.map(String).join(' ')); }, info: () => undefined, debug: () => undefined,
  } as any);
  return view;
}

/** Renders a vega-lite spec (already prepared) to an SVG string of its natural size. */
export async function toSvg(vlSpec: VlSpec): Promise<{ svg: string; warnings: string[] }> {
  const { vega: vg, warnings } = await compileVegaLite(vlSpec);
  const view = await headlessView(vg, warnings);
  try {
    await view.runAsync();
    const svg = await view.toSVG();
    return { svg, warnings };
  } finally {
    view.finalize();
  }
}

/** Resets vega's SVG clip/gradient id counters (as every fresh render does). */
export async function resetSvgDefIds(): Promise<void> {
  (await mods()).vega.resetSVGDefIds();
}

/** Natural size of a vega SVG (root width/height attributes). */
export function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0];
  const w = root && /\swidth="([\d.]+)"/.exec(root)?.[1];
  const h = root && /\sheight="([\d.]+)"/.exec(root)?.[1];
  if (!w || !h) throw new Error('rendered SVG has no width/height');
  return { width: Number(w), height: Number(h) };
}

/**
 * Sets the SVG's outer size to exactly width × height: its content is scaled to fit (aspect
 * kept) and centred; the margin is white.
 */
export function fitSvg(svg: string, width: number, height: number): string {
  const nat = svgSize(svg);
  return svg.replace(/<svg\b[^>]*>/, (root) => {
    let r = root.replace(/\swidth="[\d.]+"/, ` width="${width}"`).replace(/\sheight="[\d.]+"/, ` height="${height}"`);
    if (!/\sviewBox=/.test(r)) r = r.replace(/^<svg/, `<svg viewBox="0 0 ${nat.width} ${nat.height}"`);
    if (!/preserveAspectRatio=/.test(r)) r = r.replace(/^<svg/, '<svg preserveAspectRatio="xMidYMid meet"');
    if (!/\sstyle=/.test(r)) r = r.replace(/^<svg/, '<svg style="background-color: #ffffff"');
    return r;
  });
}

/**
 * Rasterizes an SVG. Text is drawn as glyph outlines laid out once per process (text-paths.ts),
 * so resvg loads no fonts; text that is not converted is drawn by resvg with the DejaVu files.
 * Clip paths that clip nothing are dropped first (svg-clip.ts).
 * `width` = output pixel width (height follows).
 */
export async function rasterize(svg: string, pixelWidth: number, png = true): Promise<{ png: Buffer; pixels: Buffer; width: number; height: number }> {
  const { Resvg } = await mods();
  // a clip that cuts nothing costs resvg a full-canvas layer and mask (svg-clip.ts)
  const conv = textToPaths(dropUnusedClips(svg));
  const files = conv.fonts ? fontFiles() : [];
  const r = new Resvg(conv.svg, {
    fitTo: { mode: 'width', value: Math.round(pixelWidth) },
    background: '#ffffff',
    font: {
      fontFiles: files, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY, serifFamily: FONT_FAMILY, monospaceFamily: FONT_FAMILY, cursiveFamily: FONT_FAMILY, fantasyFamily: FONT_FAMILY,
    },
    shapeRendering: 2, textRendering: 1, imageRendering: 0,
  });
  const img = r.render();
  return { png: png ? img.asPng() : Buffer.alloc(0), pixels: img.pixels, width: img.width, height: img.height };
}

/** vega-lite spec → { prepared spec, SVG of exactly width × height, PNG of scale × that }. */
export async function renderVegaLite(spec: VlSpec, opts: RenderOptions): Promise<Rendered & { warnings: string[] }> {
  assertNoUrlData(spec);
  const scale = opts.scale ?? 2;
  const prepared = prepareSpec(spec, opts);
  let { svg: raw, warnings } = await toSvg(prepared);
  const grid = prepared.usermeta?.pipeGrid as { columns: number; rows: number; aspect?: [number, number] } | undefined;
  if (grid && prepared.spec && typeof prepared.spec.width === 'number' && typeof prepared.spec.height === 'number') {
    // facets: resize the panels so the whole figure comes out at the requested size
    const nat = svgSize(raw);
    let w = Math.max(30, Math.floor(prepared.spec.width + (opts.width - nat.width) / grid.columns));
    let h = Math.max(30, Math.floor(prepared.spec.height + (opts.height - nat.height) / grid.rows));
    if (grid.aspect) {
      const cell = Math.max(1, Math.min(w / grid.aspect[0], h / grid.aspect[1]));
      w = Math.floor(cell * grid.aspect[0]);
      h = Math.floor(cell * grid.aspect[1]);
    }
    if (w !== prepared.spec.width || h !== prepared.spec.height) {
      prepared.spec = { ...prepared.spec, width: w, height: h };
      ({ svg: raw, warnings } = await toSvg(prepared));
    }
  }
  const svg = fitSvg(raw, opts.width, opts.height);
  const { png, pixels, width, height } = await rasterize(svg, opts.width * scale, opts.png !== false);
  const expectH = Math.round(opts.height * scale);
  if (Math.abs(height - expectH) > 1) throw new Error(`internal: PNG height ${height} != ${expectH}`);
  return { spec: prepared, svg, png, pixels, pngWidth: width, pngHeight: height, warnings };
}
