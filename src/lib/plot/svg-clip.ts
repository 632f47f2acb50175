/**
 * Drops clip paths that clip nothing before rasterizing. vega clips a mark (`clip: true`, every
 * line of the fit template) with `<g clip-path="url(#clipN)">` and a rectangle the size of the
 * plot; resvg draws such a group into a layer of its own and masks it — a full-canvas layer and
 * mask per clipped mark and frame. When every shape of the group, stroke included, lies inside
 * the rectangle, the clip changes no pixel's coverage and the group is drawn directly.
 *
 * Only what vega writes for line marks is recognized: a `<g>` whose children are self-closing
 * `<path>`s with absolute `M`/`L`/`Z` data, an optional `transform="translate(x,y)"` and a stroke
 * width; the clip path one axis-aligned `<rect>` without a transform. Anything else keeps its clip.
 * How far a stroke reaches is worked out per vertex (see `inside`).
 */

const RECT_CLIP = /<clipPath id="([^"]+)"><rect x="(-?[\d.]+)" y="(-?[\d.]+)" width="([\d.]+)" height="([\d.]+)"\/><\/clipPath>/g;
const CLIPPED_GROUP = /<g\b([^>]*?) clip-path="url\(#([^"]+)\)"([^>]*)>((?:<path\b[^>]*\/>)*)<\/g>/g;
const PATH = /<path\b([^>]*)\/>/g;
const attr = (attrs: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(attrs)?.[1];

/** The subpaths of absolute M/L/Z path data (closed: ends with Z), or null for any other data. */
function polylines(d: string): { pts: number[]; closed: boolean }[] | null {
  if (!/^[MLZ\d\s.,eE+-]*$/.test(d) || !/^\s*M/.test(d)) return null;
  const out: { pts: number[]; closed: boolean }[] = [];
  for (const part of d.match(/[MLZ][^MLZ]*/g) ?? []) {
    if (part[0] === 'Z') { if (out.length) out[out.length - 1]!.closed = true; continue; }
    const nums = (part.slice(1).match(/[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/g) ?? []).map(Number);
    if (nums.length === 0 || nums.length % 2 !== 0 || nums.some((v) => !Number.isFinite(v))) return null;
    if (part[0] === 'M' || out.length === 0 || out[out.length - 1]!.closed) out.push({ pts: [], closed: false });
    const pts = out[out.length - 1]!.pts;
    for (const v of nums) pts.push(v);
  }
  return out;
}

/**
 * Does every path of the group, its stroke included, lie inside the rectangle? The stroke of a
 * segment reaches half the width from it; a join reaches half the width over sin(θ/2) (θ the
 * angle between the segments) up to the miter limit, beyond which it is bevelled; a square cap
 * √2 halves; one pixel more for anti-aliasing. A convex rectangle holding every vertex's reach
 * holds the whole stroke.
 */
function inside(paths: string, rect: [number, number, number, number], miterDefault: number): boolean {
  const [rx, ry, rw, rh] = rect;
  let any = false;
  for (const m of paths.matchAll(PATH)) {
    const a = m[1]!;
    const d = attr(a, 'd');
    const subs = d === undefined ? null : polylines(d);
    if (!subs) return false;
    let tx = 0, ty = 0;
    const t = attr(a, 'transform');
    if (t !== undefined) {
      const tr = /^translate\((-?[\d.eE+-]+),\s*(-?[\d.eE+-]+)\)$/.exec(t.trim());
      if (!tr) return false;
      tx = Number(tr[1]);
      ty = Number(tr[2]);
    }
    const stroke = attr(a, 'stroke');
    const half = stroke === undefined || stroke === 'none' ? 0 : Number(attr(a, 'stroke-width') ?? 1) / 2;
    const miter = Number(attr(a, 'stroke-miterlimit') ?? miterDefault);
    const join = attr(a, 'stroke-linejoin') ?? 'miter';
    const cap = attr(a, 'stroke-linecap') === 'square' ? Math.SQRT2 : 1;
    if (![half, miter, tx, ty].every(Number.isFinite)) return false;
    for (const { pts, closed } of subs) {
      const n = pts.length / 2;
      for (let i = 0; i < n; i++) {
        const x = pts[2 * i]!, y = pts[2 * i + 1]!;
        const end = !closed && (i === 0 || i === n - 1);
        let f = 1;
        if (end) f = cap;
        else if (join === 'miter' || join === 'miter-clip' || join === 'arcs') {
          const p = (i + n - 1) % n, q = (i + 1) % n;
          const ux = pts[2 * p]! - x, uy = pts[2 * p + 1]! - y, vx = pts[2 * q]! - x, vy = pts[2 * q + 1]! - y;
          const lu = Math.hypot(ux, uy), lv = Math.hypot(vx, vy);
          if (!(lu && lv)) f = Math.max(miter, 1); // degenerate (repeated point) joins: the miter limit bounds them
          else {
            const cos = Math.min(1, Math.max(-1, (ux * vx + uy * vy) / (lu * lv)));
            const sinHalf = Math.sqrt((1 - cos) / 2);
            f = sinHalf > 0 && 1 / sinHalf <= miter ? 1 / sinHalf : 1;
          }
        }
        const r = half * f + 1;
        if (x + tx - r < rx || y + ty - r < ry || x + tx + r > rx + rw || y + ty + r > ry + rh) return false;
      }
    }
    any = true;
  }
  return any;
}

/** The SVG with the clip-path of every clipped group of paths that the clip does not cut removed. */
export function dropUnusedClips(svg: string): string {
  if (!svg.includes('clip-path=')) return svg;
  const rects = new Map<string, [number, number, number, number]>();
  for (const m of svg.matchAll(RECT_CLIP)) rects.set(m[1]!, [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])]);
  if (rects.size === 0) return svg;
  // the miter limit vega writes once on the root group (the SVG default is 4 as well)
  let miterDefault = 4;
  for (const m of svg.matchAll(/\sstroke-miterlimit="([\d.]+)"/g)) if (Number(m[1]) > miterDefault) miterDefault = Number(m[1]);
  return svg.replace(CLIPPED_GROUP, (whole, pre: string, id: string, post: string, paths: string) => {
    const rect = rects.get(id);
    if (!rect || !inside(paths, rect, miterDefault)) return whole;
    return `<g${pre}${post}>${paths}</g>`;
  });
}
