/**
 * Many frames of one figure (the `animation` kind): the per-frame vega-lite specs usually differ
 * only in their data and a few literal values (the title's snapshot label, a following y
 * domain, a notes box's text and width, inline-spec params). Those values are lifted into
 * signals, the generalized spec is compiled and parsed once, and each frame only swaps the
 * datasets (`view.data`) and sets the signals before `toSVG` — the same SVG, hence the same
 * pixels, as drawing each frame with `renderVegaLite`, without a vega-lite compile, vega parse
 * and dataflow construction per frame.
 *
 * A frame sequence that cannot be lifted (a difference outside the positions below, a
 * different dataset set, facets resized to fit) is drawn frame by frame with `renderVegaLite`.
 *
 * Frames are only pixels, so their SVG carries no ARIA attributes (vega-lite `config.aria:
 * false`, unless the spec sets it): no per-point `aria-label` to format and write, parse and
 * scan (a third of a convergence frame's SVG bytes); the pixels are those of the spec as given.
 */
import { assertNoUrlData, compileVegaLite, fitSvg, headlessView, prepareSpec, rasterize, renderVegaLite, resetSvgDefIds, type RenderOptions, type VlSpec } from './render.js';

export interface FramePixels {
  pixels: Uint8Array;
  width: number;
  height: number;
}

export interface FrameStats {
  /** vega-lite compiles + vega views built (1 when the frames were lifted). */
  compiles: number;
  /** true when the frames shared one compiled view. */
  lifted: boolean;
  /** names of the lifted per-frame values (signals). */
  signals: string[];
}

class NotLiftable extends Error {}

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalarOrList = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v) || (Array.isArray(v) && v.every((x) => x === null || ['string', 'number', 'boolean'].includes(typeof x)));

/**
 * Positions where vega-lite takes an expression instead of the literal: a scale's `domain`, an
 * encoding channel's `value`, a view's `title` or a title's `text`/`subtitle`.
 */
function liftable(path: (string | number)[]): 'expr' | 'title' | false {
  const k = path[path.length - 1];
  const up = path[path.length - 2];
  if (k === 'domain' && up === 'scale') return 'expr';
  if (k === 'value' && path[path.length - 3] === 'encoding') return 'expr';
  if ((k === 'text' || k === 'subtitle') && up === 'title') return 'expr';
  // a view's title: at the root or in a layer / concat member (not an axis or legend title)
  if (k === 'title' && (path.length === 1 || ['layer', 'hconcat', 'vconcat', 'concat'].includes(String(path[path.length - 3])))) return 'title';
  return false;
}

/**
 * The spec of frame 0 with every value that differs between frames replaced by a signal, and the
 * per-frame values of those signals (top-level params keep their names). Throws NotLiftable.
 */
export function generalize(frames: VlSpec[]): { spec: VlSpec; signals: Map<string, unknown[]> } {
  const signals = new Map<string, unknown[]>();
  const root = frames.map(({ datasets: _d, params: _p, ...rest }) => rest);
  // top-level params: same names and definitions; only their values may change
  const params0 = frames[0]!.params as VlSpec[] | undefined;
  for (const f of frames) {
    const ps = f.params as VlSpec[] | undefined;
    if ((ps?.length ?? 0) !== (params0?.length ?? 0)) throw new NotLiftable('params differ');
    ps?.forEach((p, i) => {
      const { value: _v, ...def } = p;
      const { value: _v0, ...def0 } = params0![i]!;
      if (!same(def, def0) || !isScalarOrList(p.value)) throw new NotLiftable(`param ${p.name} differs`);
    });
  }
  params0?.forEach((p, i) => {
    const vs = frames.map((f) => (f.params as VlSpec[])[i]!.value);
    if (vs.some((v) => !same(v, vs[0]))) signals.set(String(p.name), vs);
  });
  let n = 0;
  const walk = (nodes: unknown[], path: (string | number)[]): unknown => {
    const first = nodes[0];
    if (nodes.every((v) => same(v, first))) return first;
    const how = liftable(path);
    if (how && nodes.every(isScalarOrList)) {
      const name = `pipe_frame_${n++}`;
      signals.set(name, nodes);
      return how === 'title' ? { text: { expr: name } } : { expr: name };
    }
    if (nodes.every(isObj)) {
      const keys = Object.keys(first as object);
      if (!nodes.every((v) => same(Object.keys(v as object), keys))) throw new NotLiftable(`keys differ at ${path.join('.')}`);
      return Object.fromEntries(keys.map((k) => [k, walk(nodes.map((v) => (v as Record<string, unknown>)[k]), [...path, k])]));
    }
    if (nodes.every(Array.isArray) && nodes.every((v) => (v as unknown[]).length === (first as unknown[]).length)) {
      return (first as unknown[]).map((_, i) => walk(nodes.map((v) => (v as unknown[])[i]), [...path, i]));
    }
    throw new NotLiftable(`frames differ at ${path.join('.') || 'the root'}`);
  };
  const spec = walk(root, []) as VlSpec;
  const extra = [...signals.keys()].filter((k) => k.startsWith('pipe_frame_')).map((name) => ({ name, value: signals.get(name)![0] }));
  if (params0 || extra.length) spec.params = [...(params0 ?? []), ...extra];
  const names = Object.keys(frames[0]!.datasets ?? {});
  for (const f of frames) if (!same(Object.keys(f.datasets ?? {}), names)) throw new NotLiftable('datasets differ');
  spec.datasets = frames[0]!.datasets;
  return { spec, signals };
}

/** The spec with vega-lite's ARIA attributes off (`config.aria: false`) unless it sets them. */
function withoutAria(spec: VlSpec): VlSpec {
  const config = isObj(spec.config) ? spec.config : {};
  return 'aria' in config ? spec : { ...spec, config: { ...config, aria: false } };
}

/** Names of the datasets a spec reads (`data: {name}` anywhere). */
function namedData(spec: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(spec)) for (const v of spec) namedData(v, out);
  else if (isObj(spec)) {
    for (const [k, v] of Object.entries(spec)) {
      if (k === 'data' && isObj(v) && typeof v.name === 'string') out.add(v.name);
      namedData(v, out);
    }
  }
  return out;
}

/**
 * Draws one figure per spec (each a complete vega-lite spec, as for `renderVegaLite`) and returns
 * the RGBA pixels of each, width·scale × height·scale. `onFrame(i)` is called before frame i;
 * `lift: false` draws every frame on its own (the reference the lifted frames must equal).
 */
export async function renderFrames(specs: VlSpec[], opts: RenderOptions, onFrame?: (i: number) => void, how: { lift?: boolean } = {}): Promise<{ frames: FramePixels[]; stats: FrameStats }> {
  const scale = opts.scale ?? 2;
  for (const s of specs) assertNoUrlData(s);
  specs = specs.map(withoutAria);
  const prepared = specs.map((s) => prepareSpec(s, opts));
  let g: ReturnType<typeof generalize> | undefined;
  let vg: any;
  const warnings: string[] = [];
  // facets are re-laid out per figure to fit the size: draw those one by one
  if (how.lift !== false && prepared.length > 1 && !prepared.some((p) => p.usermeta?.pipeGrid)) {
    try {
      g = generalize(prepared);
    } catch (e) {
      if (!(e instanceof NotLiftable)) throw e;
    }
  }
  let datasetNames: string[] = [];
  if (g) {
    const c = await compileVegaLite(g.spec);
    vg = c.vega;
    warnings.push(...c.warnings);
    // a used dataset must keep its name in the vega spec to be swapped per frame; one the
    // spec never reads (vega-lite drops it) is not swapped
    const dataNames = new Set(((vg.data ?? []) as { name: string }[]).map((d) => d.name));
    const { datasets: _d, ...body } = g.spec;
    const read = namedData(body);
    datasetNames = Object.keys(g.spec.datasets ?? {}).filter((n) => dataNames.has(n) || read.has(n));
    if (datasetNames.some((n) => !dataNames.has(n))) g = undefined;
  }
  const frames: FramePixels[] = [];
  if (!g) {
    for (const [i, s] of specs.entries()) {
      onFrame?.(i);
      const r = await renderVegaLite(s, { ...opts, png: false });
      frames.push({ pixels: r.pixels, width: r.pngWidth, height: r.pngHeight });
    }
    return { frames, stats: { compiles: specs.length, lifted: false, signals: [] } };
  }
  const view = await headlessView(vg, warnings);
  try {
    let current: Record<string, unknown> = { ...(g.spec.datasets ?? {}) };
    for (const [i, s] of prepared.entries()) {
      onFrame?.(i);
      for (const name of datasetNames) {
        const rows = (s.datasets as Record<string, unknown>)[name];
        if (rows !== current[name]) view.data(name, rows);
      }
      current = { ...(s.datasets ?? {}) };
      for (const [name, values] of g.signals) view.signal(name, values[i]);
      // lay the frame out as a fresh view would: from the spec's size (autosize 'fit' changed the
      // size signals) and with the autosize layout re-run ('pad' would keep the previous bounds)
      if (typeof vg.width === 'number') view.width(vg.width);
      if (typeof vg.height === 'number') view.height(vg.height);
      view.resize();
      await view.runAsync();
      await resetSvgDefIds();
      const svg = fitSvg(await view.toSVG(), opts.width, opts.height);
      const r = await rasterize(svg, opts.width * scale, false);
      const expectH = Math.round(opts.height * scale);
      if (Math.abs(r.height - expectH) > 1) throw new Error(`internal: frame height ${r.height} != ${expectH}`);
      frames.push({ pixels: r.pixels, width: r.width, height: r.height });
    }
  } finally {
    view.finalize();
  }
  return { frames, stats: { compiles: 1, lifted: true, signals: [...g.signals.keys()] } };
}
