/** Installed npm packages as runtime facts. */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The installed version of a package, found from its resolved entry point by walking up to the
 * package.json whose `name` is the package (so it works for packages that do not export
 * `./package.json`); null when the package cannot be resolved.
 */
export function packageVersion(name: string): string | null {
  let d: string;
  try {
    d = dirname(require.resolve(name));
  } catch {
    return null;
  }
  for (;;) {
    try {
      const pj = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pj.name === name) return pj.version ?? null;
    } catch { /* no package.json here: keep walking */ }
    const up = dirname(d);
    if (up === d) return null;
    d = up;
  }
}
