/**
 * Fonts for headless rendering. Text in plots is drawn with DejaVu Sans (Debian package
 * `fonts-dejavu-core`, installed by `.ci/run`). resvg silently drops text it has no font for, so
 * the font files are loaded explicitly and a missing font is an error, never a blank axis. Each
 * file is read once per process (`fontBuffer`); text-paths.ts turns text into glyph outlines from
 * those bytes, so resvg itself rarely needs the files.
 *
 * Vega lays out text (axis title offsets, legend widths, label overlap) with a text-width
 * function; without a canvas it guesses 0.8 em per character, which leaves odd gaps. Here the
 * real advance widths are read from the font (font-metrics.ts, fontkit), so layout matches the
 * glyphs drawn. This module loads no font library: the coordinator imports it to hash the fonts.
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

/** Face for a vega text item's weight and style. */
export function faceOf(weight: unknown, style: unknown): FontFace {
  const bold = weight === 'bold' || weight === 'bolder' || (typeof weight === 'number' && weight >= 600) || (typeof weight === 'string' && /^\d+$/.test(weight) && Number(weight) >= 600);
  const italic = style === 'italic' || style === 'oblique';
  return bold ? (italic ? 'boldOblique' : 'bold') : italic ? 'oblique' : 'regular';
}
