/**
 * Where pipe's own files are: the package root (package.json, dist/, src/, python/, native/)
 * and the directory its modules run from (dist/ after `npm run build`, src/ under tsx and
 * vitest). Engine and CLI modules locate their siblings through these, not through their own
 * `import.meta.url`: the coordinator may run from a bundle (scripts/bundle-cli.mjs) whose
 * location says nothing about where the module it was built from lived. This module is never
 * bundled (it stays dist/lib/package-root.js), so its own location is the reliable one.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Is pipe running from its TypeScript sources (tsx, vitest) rather than the build? */
export const FROM_SOURCES = import.meta.url.endsWith('.ts');
/** pipe's package root (holds package.json, src/, dist/). */
export const PIPE_PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** A path inside the tree pipe's modules run from: dist/… built, src/… from the sources. */
export const codePath = (...parts: string[]): string => join(PIPE_PACKAGE_ROOT, FROM_SOURCES ? 'src' : 'dist', ...parts);
/** pipe's version (package.json), 'unknown' when it cannot be read. */
export function pipeVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PIPE_PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
/** The compiled module of a path under src/ (dist/…/x.js), also when running from the sources. */
export const builtPath = (...parts: string[]): string => join(PIPE_PACKAGE_ROOT, 'dist', ...parts);
