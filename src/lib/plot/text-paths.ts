/**
 * Text to glyph outlines before rasterizing. resvg-js 2.6 takes fonts only as file paths and
 * rebuilds its font database for every image, then opens, maps and parses the font file again
 * for every text run it shapes (≈ 200 opens per GIF frame). Here each `<text>` element vega
 * writes is laid out once with fontkit (the same DejaVu bytes, read once per process: kerning
 * and ligatures from the font's GPOS/GSUB, as resvg's shaper applies them) and replaced by one
 * `<path>` per glyph, so resvg draws paths and needs no fonts at all. Glyph outlines and laid-out
 * lines are cached per process.
 *
 * Only the shapes vega emits are converted: attributes text-anchor, transform, x, y, font-family
 * (every family is DejaVu Sans here, as resvg is configured), font-size in px, font-weight,
 * font-style, fill, fill-opacity, opacity (and aria-*, role, class, cursor, pointer-events, which draw nothing); content plain text or `<tspan>` lines that each
 * start at an absolute x (multi-line titles). Anything else (stroke, letter-spacing, nested
 * markup, inline tspans) is left as `<text>` for resvg, which then gets the font files.
 */
import { faceOf, type FontFace } from './fonts.js';
import { fontkitFont as font } from './font-metrics.js';

const glyphPaths = new Map<string, string>();
const lines = new Map<string, { width: number; glyphs: { d: string; x: number; y: number }[] }>();
const elements = new Map<string, string | null>();

/** One line laid out in font units: total advance and each glyph's outline and pen position. */
function layoutLine(face: FontFace, text: string) {
  const key = `${face}\0${text}`;
  let l = lines.get(key);
  if (!l) {
    const f = font(face);
    const run = f.layout(text);
    let x = 0;
    const glyphs: { d: string; x: number; y: number }[] = [];
    run.glyphs.forEach((g, i) => {
      const p = run.positions[i]!;
      const gk = `${face}\0${g.id}`;
      let d = glyphPaths.get(gk);
      if (d === undefined) { d = g.path.toSVG(); glyphPaths.set(gk, d); }
      if (d) glyphs.push({ d, x: x + p.xOffset, y: p.yOffset });
      x += p.xAdvance;
    });
    l = { width: x, glyphs };
    if (lines.size > 50_000) lines.clear();
    lines.set(key, l);
  }
  return l;
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decode(s: string): string | null {
  if (/&(?!(#x[0-9a-fA-F]+|#\d+|\w+);)/.test(s)) return null;
  let bad = false;
  const out = s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    if (e in ENTITY) return ENTITY[e]!;
    bad = true;
    return '';
  });
  return bad ? null : out;
}

const ATTR = /\s([\w:-]+)="([^"]*)"/g;
function attrs(s: string): Map<string, string> | null {
  const m = new Map<string, string>();
  const rest = s.replace(ATTR, (_, k: string, v: string) => { m.set(k, v); return ''; });
  return rest.trim() === '' ? m : null;
}

const KEEP = new Set(['fill', 'fill-opacity', 'opacity']);
const KNOWN = new Set([...KEEP, 'text-anchor', 'transform', 'x', 'y', 'font-family', 'font-size', 'font-weight', 'font-style']);
/** Attributes that do not change the drawing (accessibility, interaction). */
const IGNORED = /^(aria-[\w-]+|role|class|pointer-events|cursor)$/;
const num = (v: string | undefined, d: number) => (v === undefined ? d : /^-?[\d.]+(e-?\d+)?$/.test(v) ? Number(v) : NaN);
const fmt = (v: number) => String(Math.round(v * 1e6) / 1e6);

/** The `<g>` of glyph paths for one `<text>` element, or null when it is not a shape handled here. */
function convert(attrText: string, body: string): string | null {
  const a = attrs(attrText);
  if (!a || [...a.keys()].some((k) => !KNOWN.has(k) && !IGNORED.test(k))) return null;
  const size = /^([\d.]+)(px)?$/.exec(a.get('font-size') ?? '')?.[1];
  if (!size) return null;
  const fontSize = Number(size);
  const anchor = a.get('text-anchor') ?? 'start';
  if (!['start', 'middle', 'end'].includes(anchor)) return null;
  const x0 = num(a.get('x'), 0), y0 = num(a.get('y'), 0);
  if (!Number.isFinite(x0) || !Number.isFinite(y0)) return null;
  // lines: [x, dy, raw text]
  const chunks: [number, number, string][] = [];
  if (!body.includes('<')) chunks.push([x0, 0, body]);
  else {
    const rest = body.replace(/<tspan((?:\s[\w:-]+="[^"]*")*)>([^<]*)<\/tspan>/g, (_, at: string, t: string) => {
      const ta = attrs(at) ?? new Map([['bad', '']]);
      const keys = [...ta.keys()];
      const first = chunks.length === 0;
      if (keys.some((k) => k !== 'x' && k !== 'dy') || (!first && !ta.has('x'))) chunks.push([NaN, NaN, '']);
      else chunks.push([num(ta.get('x'), x0), num(ta.get('dy'), 0), t]);
      return '';
    });
    if (rest !== '' || chunks.length === 0) return null;
  }
  const face = faceOf(a.get('font-weight'), a.get('font-style'));
  const s = fontSize / font(face).unitsPerEm;
  let y = y0;
  const paths: string[] = [];
  for (const [cx, dy, raw] of chunks) {
    if (!Number.isFinite(cx) || !Number.isFinite(dy)) return null;
    const text = decode(raw);
    // xml:space default: surrounding or repeated white space would be collapsed — leave those to resvg
    if (text === null || /^\s|\s$|\s\s|[\t\n\r]/.test(text)) return null;
    y += dy;
    if (!text) continue;
    const l = layoutLine(face, text);
    const start = cx - (anchor === 'middle' ? l.width / 2 : anchor === 'end' ? l.width : 0) * s;
    for (const g of l.glyphs) paths.push(`<path transform="translate(${fmt(start + g.x * s)},${fmt(y - g.y * s)}) scale(${fmt(s)},${fmt(-s)})" d="${g.d}"/>`);
  }
  const keep = [...a].filter(([k]) => KEEP.has(k)).map(([k, v]) => ` ${k}="${v}"`).join('');
  const tr = a.has('transform') ? ` transform="${a.get('transform')}"` : '';
  return `<g${tr}${keep}>${paths.join('')}</g>`;
}

/** The SVG with every convertible `<text>` replaced by glyph paths; `fonts` says whether any text is left for resvg. */
export function textToPaths(svg: string): { svg: string; fonts: boolean } {
  let fonts = false;
  const out = svg.replace(/<text((?:\s[\w:-]+="[^"]*")*)>([\s\S]*?)<\/text>/g, (whole, at: string, body: string) => {
    // frames and figures repeat most elements (axis labels, titles): converted once per process
    let g = elements.get(whole);
    if (g === undefined) {
      g = convert(at, body);
      if (elements.size > 20_000) elements.clear();
      elements.set(whole, g);
    }
    if (g === null) fonts = true;
    return g ?? whole;
  });
  // a <text> the pattern did not match (e.g. self-closing or unusual quoting) still needs fonts
  if (!fonts && /<text[\s>/]/.test(out)) fonts = true;
  return { svg: out, fonts };
}
