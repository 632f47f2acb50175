/**
 * The fonts parsed by fontkit, once per process: text widths for vega's layout (`fontMetrics`)
 * and the faces text-paths.ts turns into glyph outlines. Kept apart from fonts.ts so that hashing
 * the font files (figure fingerprints, in the coordinator) does not load fontkit.
 */
import { create, type Font } from 'fontkit';
import { fontBuffer, type FontFace } from './fonts.js';

/** Advance widths of one font, by code point (fontkit's cmap and hmtx; no kerning). */
export class FontMetrics {
  private readonly advance = new Map<number, number>();
  private readonly fallback: number;

  constructor(private readonly font: Font) {
    // a code point the font has no glyph for is measured like 'n'
    this.fallback = font.hasGlyphForCodePoint(0x6e) ? font.glyphForCodePoint(0x6e).advanceWidth : font.unitsPerEm / 2;
  }

  private advanceOf(cp: number): number {
    let a = this.advance.get(cp);
    if (a === undefined) {
      a = this.font.hasGlyphForCodePoint(cp) ? this.font.glyphForCodePoint(cp).advanceWidth : this.fallback;
      this.advance.set(cp, a);
    }
    return a;
  }

  /** Width in pixels of `text` at `fontSize` px (no kerning; DejaVu's kerning is small). */
  width(text: string, fontSize: number): number {
    let units = 0;
    for (const ch of text) units += this.advanceOf(ch.codePointAt(0)!);
    return (units * fontSize) / this.font.unitsPerEm;
  }
}

const fontCache = new Map<FontFace, Font>();

/** A face parsed by fontkit, once per process (metrics here, glyph outlines in text-paths.ts). */
export function fontkitFont(face: FontFace): Font {
  let f = fontCache.get(face);
  if (!f) { f = create(fontBuffer(face)); fontCache.set(face, f); }
  return f;
}

const metricsCache = new Map<FontFace, FontMetrics>();

export function fontMetrics(face: FontFace): FontMetrics {
  let m = metricsCache.get(face);
  if (!m) {
    m = new FontMetrics(fontkitFont(face));
    metricsCache.set(face, m);
  }
  return m;
}

