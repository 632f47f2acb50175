/**
 * Fonts for headless rendering. Text in plots is drawn with DejaVu Sans (Debian package
 * `fonts-dejavu-core`, installed by `.ci/run`). resvg silently drops text it has no font for, so
 * the font files are loaded explicitly and a missing font is an error, never a blank axis. Each
 * file is read once per process (`fontBuffer`); text-paths.ts turns text into glyph outlines from
 * those bytes, so resvg itself rarely needs the files.
 *
 * Vega lays out text (axis title offsets, legend widths, label overlap) with a text-width
 * function; without a canvas it guesses 0.8 em per character, which leaves odd gaps. Here the
 * real advance widths are read from the TrueType `hmtx` table, so layout matches the glyphs
 * resvg draws.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FONT_FAMILY = 'DejaVu Sans';
export const FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/dejavu', '/usr/local/share/fonts/dejavu'];
const FILES = { regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf', oblique: 'DejaVuSans-Oblique.ttf', boldOblique: 'DejaVuSans-BoldOblique.ttf' } as const;
export type FontFace = keyof typeof FILES;

let dirCache: string | undefined;

/** Directory holding the DejaVu fonts (env PIPE_FONT_DIR first); throws with the fix if absent. */
export function fontDir(): string {
  dirCache ??= findFontDir([process.env.PIPE_FONT_DIR, ...FONT_DIRS].filter((d): d is string => !!d));
  return dirCache;
}

export function findFontDir(dirs: string[]): string {
  for (const d of dirs) {
    if (existsSync(join(d, FILES.regular)) && existsSync(join(d, FILES.bold))) return d;
  }
  throw new Error(
    `plot rendering needs the DejaVu fonts (${FILES.regular}, ${FILES.bold}) and found them in none of ${dirs.join(', ')}; ` +
      'install them with `apt-get install fonts-dejavu-core` (or set PIPE_FONT_DIR)',
  );
}

/** Absolute paths of the font files handed to resvg. */
export function fontFiles(): string[] {
  const d = fontDir();
  return Object.values(FILES).map((f) => join(d, f)).filter((p) => existsSync(p));
}

/** Advance widths of one TrueType font, indexed by code point. */
export class FontMetrics {
  private readonly advance = new Map<number, number>();
  private readonly unitsPerEm: number;
  private readonly fallback: number;

  constructor(buf: Buffer) {
    const numTables = buf.readUInt16BE(4);
    const tables = new Map<string, number>();
    for (let i = 0; i < numTables; i++) {
      const rec = 12 + 16 * i;
      tables.set(buf.toString('latin1', rec, rec + 4), buf.readUInt32BE(rec + 8));
    }
    const need = (t: string) => {
      const o = tables.get(t);
      if (o === undefined) throw new Error(`font has no '${t}' table`);
      return o;
    };
    this.unitsPerEm = buf.readUInt16BE(need('head') + 18);
    const nHMetrics = buf.readUInt16BE(need('hhea') + 34);
    const hmtx = need('hmtx');
    const glyphAdvance = (g: number) => buf.readUInt16BE(hmtx + 4 * Math.min(g, nHMetrics - 1));
    // cmap: prefer format 12 (full Unicode), else format 4 (BMP)
    const cmap = need('cmap');
    const n = buf.readUInt16BE(cmap + 2);
    let f4 = -1;
    let f12 = -1;
    for (let i = 0; i < n; i++) {
      const platform = buf.readUInt16BE(cmap + 4 + 8 * i);
      const encoding = buf.readUInt16BE(cmap + 6 + 8 * i);
      const off = cmap + buf.readUInt32BE(cmap + 8 + 8 * i);
      const format = buf.readUInt16BE(off);
      if (format === 12 && (platform === 3 || platform === 0)) f12 = off;
      if (format === 4 && (platform === 3 || platform === 0) && (encoding === 1 || platform === 0)) f4 = off;
    }
    if (f12 >= 0) {
      const groups = buf.readUInt32BE(f12 + 12);
      for (let i = 0; i < groups; i++) {
        const g = f12 + 16 + 12 * i;
        const start = buf.readUInt32BE(g);
        const end = buf.readUInt32BE(g + 4);
        const glyph = buf.readUInt32BE(g + 8);
        for (let c = start; c <= end && c < 0x30000; c++) this.advance.set(c, glyphAdvance(glyph + c - start));
      }
    } else if (f4 >= 0) {
      const segX2 = buf.readUInt16BE(f4 + 6);
      const ends = f4 + 14;
      const starts = ends + segX2 + 2;
      const deltas = starts + segX2;
      const ranges = deltas + segX2;
      for (let s = 0; s < segX2 / 2; s++) {
        const end = buf.readUInt16BE(ends + 2 * s);
        const start = buf.readUInt16BE(starts + 2 * s);
        const delta = buf.readInt16BE(deltas + 2 * s);
        const rangeOff = buf.readUInt16BE(ranges + 2 * s);
        for (let c = start; c <= end && c !== 0xffff; c++) {
          let glyph: number;
          if (rangeOff === 0) glyph = (c + delta) & 0xffff;
          else {
            const at = ranges + 2 * s + rangeOff + 2 * (c - start);
            glyph = buf.readUInt16BE(at);
            if (glyph !== 0) glyph = (glyph + delta) & 0xffff;
          }
          this.advance.set(c, glyphAdvance(glyph));
        }
      }
    } else {
      throw new Error('font has no usable cmap subtable');
    }
    this.fallback = this.advance.get(0x6e /* n */) ?? this.unitsPerEm / 2;
  }

  /** Width in pixels of `text` at `fontSize` px (no kerning; DejaVu's kerning is small). */
  width(text: string, fontSize: number): number {
    let units = 0;
    for (const ch of text) units += this.advance.get(ch.codePointAt(0)!) ?? this.fallback;
    return (units * fontSize) / this.unitsPerEm;
  }
}

const bufferCache = new Map<FontFace, Buffer>();

/** The bytes of a face's font file (the regular face when that file is absent), read once per process. */
export function fontBuffer(face: FontFace): Buffer {
  let b = bufferCache.get(face);
  if (!b) {
    const path = join(fontDir(), FILES[face]);
    b = readFileSync(existsSync(path) ? path : join(fontDir(), FILES.regular));
    bufferCache.set(face, b);
  }
  return b;
}

const metricsCache = new Map<FontFace, FontMetrics>();

export function fontMetrics(face: FontFace): FontMetrics {
  let m = metricsCache.get(face);
  if (!m) {
    m = new FontMetrics(fontBuffer(face));
    metricsCache.set(face, m);
  }
  return m;
}

/** Face for a vega text item's weight and style. */
export function faceOf(weight: unknown, style: unknown): FontFace {
  const bold = weight === 'bold' || weight === 'bolder' || (typeof weight === 'number' && weight >= 600) || (typeof weight === 'string' && /^\d+$/.test(weight) && Number(weight) >= 600);
  const italic = style === 'italic' || style === 'oblique';
  return bold ? (italic ? 'boldOblique' : 'bold') : italic ? 'oblique' : 'regular';
}
