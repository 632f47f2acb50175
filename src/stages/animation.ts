/**
 * `animation`: an animated GIF, from a sequence of snapshots or from image files.
 *
 * 1. Figure frames — rows of the `data` input carry a snapshot column (`frame`); each snapshot
 *    is drawn with a plot template or inline vega-lite spec (all `plot` params apply):
 *
 *      convergence:
 *        kind: animation
 *        inputs: { data: fit.points, overlay: fit.snapshots }
 *        params: { frame: step, template: fit, x: x, y: y, fps: 12 }   # points + the curve at each step
 *
 *    The snapshots are the values of the `frame` column in `data` and/or `overlay`. Per frame, a
 *    port with that column shows the rows of the current snapshot (with `trail: true` the
 *    overlay shows every row up to it: a trajectory drawn so far); a port without it shows all
 *    its rows. An inline spec can also use the named datasets `history` (data rows of snapshots
 *    ≤ the current one) and `all`. Axis ranges are fixed over all frames (`fixed_scales`), so
 *    the picture does not jump; `follow_y: m` instead sets each frame's y range to the extent
 *    of that frame's rows ± m (the §C seed's GIFs: the prediction ±0.5); an inline spec gets
 *    it as the top-level params `follow_y_min` / `follow_y_max` (use them as
 *    `scale: {domainMin: {expr: follow_y_min}, domainMax: {expr: follow_y_max}}`).
 * 2. Image frames — the `frames` input: PNG/JPEG/SVG files, or directories of them (sorted by
 *    name), each fitted into width × height.
 *
 * Output `gif`: width·scale × height·scale pixels, `fps` frames per second, deterministic.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';
import { figureParamsSchema } from '../lib/plot/schema.js';
import type { Datasets } from '../lib/plot/templates.js';


const animationParamsSchema = {
  ...figureParamsSchema,
  properties: {
    ...figureParamsSchema.properties,
    width: { type: 'integer', minimum: 16, maximum: 2000, default: 480, description: 'frame width (CSS px)' },
    height: { type: 'integer', minimum: 16, maximum: 2000, default: 320, description: 'frame height (CSS px)' },
    scale: { type: 'number', minimum: 0.25, maximum: 4, default: 1, description: 'GIF pixels per CSS px' },
    frame: { type: 'string', minLength: 1, description: 'column naming the snapshot of each row (figure frames)' },
    fps: { type: 'number', exclusiveMinimum: 0, maximum: 50, default: 12 },
    loop: { type: 'integer', minimum: -1, default: 0, description: '0 = forever, -1 = once, n = n repeats' },
    hold_last_ms: { type: 'integer', minimum: 0, default: 1000, description: 'extra time on the last frame' },
    fixed_scales: { type: 'boolean', default: true, description: 'same x/y ranges in every frame' },
    trail: { type: 'boolean', default: false, description: 'overlay rows accumulate up to the current snapshot (a trajectory) instead of showing only it' },
    max_frames: { type: 'integer', minimum: 1, default: 300, description: 'more snapshots are thinned evenly (first and last kept)' },
    follow_y: { type: 'number', minimum: 0, description: 'per-frame y range = extent of the frame\'s y (overlay_y) values ± this margin; a template\'s y domain, or the params follow_y_min/max of an inline spec' },
  },
} as const;

/** The params after defaults, derived from the schema. */
export type AnimationParams = FromSchema<typeof animationParamsSchema>;

export default defineStage<AnimationParams>({
  kind: 'animation',
  version: '2',
  description: 'Animated GIF from snapshots (one figure per frame) or from image files',
  paramsSchema: animationParamsSchema,
  // figure frames are drawn with text; image frames are only rasterized
  // library versions and the font file change the bytes of a figure
  runtime: async () => (await import('../lib/plot/runtime.js')).animationRuntime(),
  needs: (p) => (p.template || p.spec ? ['fonts'] : []),
  inputs: {
    data: { type: 'any', multiple: true, optional: true, description: 'snapshot rows (table or JSON) with the `frame` column' },
    overlay: { type: 'any', multiple: true, optional: true, description: 'second data set (points, trajectory)' },
    frames: { type: 'any', multiple: true, optional: true, description: 'PNG/JPEG/SVG files or directories of them' },
  },
  outputs: {
    gif: { type: 'gif' },
  },
  async run(ctx) {
    const p = ctx.params;
    const { encodeGif, imageFiles, imageFrame } = await import('../lib/plot/gif.js');
    const pxW = Math.round(p.width * p.scale);
    const pxH = Math.round(p.height * p.scale);
    const frames: { pixels: Uint8Array; width: number; height: number }[] = [];
    if (ctx.has('frames')) {
      if (p.frame || p.template || p.spec) throw new Error("give either the 'frames' input (images) or figure params (frame + template/spec), not both");
      let files: string[] = [];
      for (const h of ctx.inputs('frames')) files.push(...(await imageFiles(h.path)));
      files = thin(files, p.max_frames);
      for (const [i, f] of files.entries()) {
        ctx.progress({ done: i, total: files.length, message: 'rasterizing frames' });
        frames.push(await imageFrame(f, pxW, pxH));
      }
    } else {
      if (!p.frame) throw new Error("animation needs the 'frame' param (snapshot column) with a template/spec, or a 'frames' input");
      if (!p.template && !p.spec) throw new Error("animation with 'frame' needs 'template' or 'spec'");
      const { readPortRows } = await import('../lib/plot/figure.js');
      const { renderFrames } = await import('../lib/plot/frames.js');
      const d = await readPortRows(ctx, p.path);
      const specs = await frameSpecs(p, d);
      // one compiled view for all frames when they differ only in data and lifted values
      const r = await renderFrames(specs, { width: p.width, height: p.height, scale: p.scale }, (i) => ctx.progress({ done: i, total: specs.length, unit: 'frame' }));
      frames.push(...r.frames);
    }
    const gif = await encodeGif(frames, { fps: p.fps, loop: p.loop, holdLastMs: p.hold_last_ms });
    await ctx.output('gif').writeBuffer(gif);
    return { metrics: { frames: frames.length, width: pxW, height: pxH, fps: p.fps } };
  },
});

/** The vega-lite spec of every frame: one per snapshot (thinned to max_frames), in order. */
export async function frameSpecs(p: AnimationParams, d: Datasets): Promise<Record<string, unknown>[]> {
  const { buildFigureSpec } = await import('../lib/plot/figure.js');
  const key = p.frame!;
  const dataHasFrame = d.data.some((r) => key in r);
  const overlayHasFrame = !!d.overlay?.some((r) => key in r);
  if (!dataHasFrame && !overlayHasFrame) throw new Error(`frame column '${key}' is in neither input 'data' nor 'overlay'`);
  const seen = new Map<string, unknown>();
  for (const r of [...(dataHasFrame ? d.data : []), ...(overlayHasFrame ? d.overlay! : [])]) if (key in r && r[key] !== null && r[key] !== undefined && !seen.has(String(r[key]))) seen.set(String(r[key]), r[key]);
  let values = [...seen.values()];
  if (values.every((v) => typeof v === 'number')) values.sort((a, b) => (a as number) - (b as number));
  values = thin(values, p.max_frames);
  const fp: AnimationParams = { ...p };
  if (p.fixed_scales && p.template) Object.assign(fp, fixedDomains(p, d.data, d.overlay));
  const order = new Map([...seen.keys()].map((k, i) => [k, i]));
  if (values.every((v) => typeof v === 'number')) [...seen.values()].sort((a, b) => (a as number) - (b as number)).forEach((v, i) => order.set(String(v), i));
  /** Is row r's snapshot at or before snapshot v? */
  const before = (r: Record<string, unknown>, v: unknown) => {
    const x = r[key];
    if (typeof x === 'number' && typeof v === 'number') return x <= v;
    return (order.get(String(x)) ?? Infinity) <= (order.get(String(v)) ?? -Infinity);
  };
  const specs: Record<string, unknown>[] = [];
  for (const v of values) {
    const label = `${key} ${typeof v === 'number' ? +v.toPrecision(6) : String(v)}`;
    const title = p.title ? `${p.title} — ${label}` : label;
    const everyFrame = (r: Record<string, unknown>) => r[key] === null || r[key] === undefined;
    const data = dataHasFrame ? d.data.filter((r) => everyFrame(r) || String(r[key]) === String(v)) : d.data;
    const overlay = d.overlay && overlayHasFrame ? d.overlay.filter((r) => everyFrame(r) || (p.trail ? before(r, v) : String(r[key]) === String(v))) : d.overlay;
    const frameParams: AnimationParams = { ...fp, title };
    let followParams: Record<string, number> | null = null;
    if (p.follow_y !== undefined) {
      const yf = p.y === undefined ? [] : Array.isArray(p.y) ? p.y : [p.y];
      let lo = Infinity, hi = -Infinity;
      const scan = (rows: Record<string, unknown>[] | undefined, fields: (string | undefined)[]) => {
        for (const r of rows ?? []) for (const f of fields) { const val = f ? r[f] : undefined; if (typeof val === 'number' && Number.isFinite(val)) { lo = Math.min(lo, val); hi = Math.max(hi, val); } }
      };
      scan(data, yf);
      scan(overlay, [p.overlay_y ?? yf[0]]);
      if (Number.isFinite(lo)) {
        const dom: [number, number] = [+(lo - p.follow_y).toPrecision(6), +(hi + p.follow_y).toPrecision(6)];
        if (p.template) frameParams.y_domain = dom;
        else followParams = { follow_y_min: dom[0], follow_y_max: dom[1] };
      }
    }
    const spec = buildFigureSpec(frameParams, overlay ? { data, overlay } : { data }, p.spec ? { history: d.data.filter((r) => before(r, v)), all: d.data } : {});
    // inline specs read the frame's y range as the params follow_y_min / follow_y_max
    if (followParams) spec.params = [...((spec.params as unknown[]) ?? []), ...Object.entries(followParams).map(([name, value]) => ({ name, value }))];
    specs.push(spec);
  }
  return specs;
}

/** At most `max` items, evenly spaced, first and last kept. */
function thin<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  if (max === 1) return [items[items.length - 1]!];
  return Array.from({ length: max }, (_, i) => items[Math.round((i * (items.length - 1)) / (max - 1))]!);
}

/** x/y domains over every frame for the quantitative fields the template plots. */
export function fixedDomains(p: AnimationParams, data: Record<string, unknown>[], overlay?: Record<string, unknown>[]): Partial<AnimationParams> {
  const ext = (rows: Record<string, unknown>[], fields: (string | undefined)[]) => {
    let lo = Infinity, hi = -Infinity;
    for (const r of rows) for (const f of fields) {
      if (!f) continue;
      const v = r[f];
      if (typeof v === 'number' && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
    return Number.isFinite(lo) ? [lo, hi] as [number, number] : undefined;
  };
  const merge = (a?: [number, number], b?: [number, number]) => (a && b ? [Math.min(a[0], b[0]), Math.max(a[1], b[1])] as [number, number] : a ?? b);
  const pad = (r?: [number, number], log?: boolean) => {
    if (!r || log) return r;
    const m = (r[1] - r[0]) * 0.05 || Math.abs(r[0]) * 0.05 || 0.5;
    return [+(r[0] - m).toPrecision(6), +(r[1] + m).toPrecision(6)] as [number, number];
  };
  if (!['line', 'scatter', 'fit'].includes(p.template!)) return {};
  const ys = p.y === undefined ? [] : Array.isArray(p.y) ? p.y : [p.y];
  const out: Partial<AnimationParams> = {};
  const xr = merge(ext(data, [p.x]), overlay ? ext(overlay, [p.overlay_x ?? p.x]) : undefined);
  const yr = merge(ext(data, ys), overlay ? ext(overlay, [p.overlay_y ?? ys[0]]) : undefined);
  if (!p.x_domain && xr) out.x_domain = p.template === 'line' ? xr : pad(xr, p.log_x);
  if (!p.y_domain && yr) out.y_domain = pad(yr, p.log_y);
  return out;
}
