/**
 * Runtime facts of the figure kinds (`plot`, `animation`), part of their fingerprints: the
 * versions of the libraries that lay out and draw (vega, vega-lite, resvg, fontkit — it turns
 * text into glyph outlines; gifenc for GIFs) and the content hash of the font files — any of
 * them can change the bytes of a figure. Computed once per process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { fontFiles } from './fonts.js';
import { packageVersion as installedVersion } from '../system/packages.js';

const require = createRequire(import.meta.url);

/** The installed version of a package, 'missing' when it is not installed. */
export const packageVersion = (name: string): string => installedVersion(name) ?? 'missing';

let memo: Record<string, string> | undefined;

/** sha256 over the font files (name + bytes), or 'missing' (the `fonts` preflight stops such a run). */
export function fontHash(): string {
  let files: string[];
  try {
    files = fontFiles();
  } catch {
    return 'missing';
  }
  const h = createHash('sha256');
  for (const f of files) h.update(f.slice(f.lastIndexOf('/') + 1) + '\0').update(readFileSync(f));
  return h.digest('hex');
}

export function figureRuntime(): Record<string, string> {
  memo ??= {
    vega: packageVersion('vega'),
    'vega-lite': packageVersion('vega-lite'),
    resvg: packageVersion('@resvg/resvg-js'),
    fontkit: packageVersion('fontkit'),
    font: fontHash(),
  };
  return memo;
}

export function animationRuntime(): Record<string, string> {
  return { ...figureRuntime(), gifenc: packageVersion('gifenc') };
}
