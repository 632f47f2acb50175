// Which module the `pipe` command starts: the coordinator's bundle (scripts/bundle-cli.mjs) while
// every file it was built from is as it was then, else — a bare `tsc` since, or no bundle —
// dist/cli.js and the modules tsc wrote. dist/bundle/inputs.json lists each input's path, size,
// mtime and sha256: a file whose mtime moved (an installed package: npm's tarballs reset mtimes)
// is compared by content.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** @param {URL} dist the build directory (ends with '/') @returns {{ url: URL, bundled: boolean }} */
export function coordinatorEntry(dist) {
  try {
    const { inputs } = JSON.parse(readFileSync(new URL('bundle/inputs.json', dist), 'utf8'));
    const same = inputs.length > 0 && inputs.every(([path, size, mtimeMs, sha256]) => {
      const file = new URL(path, dist);
      const s = statSync(file);
      if (s.size !== size) return false;
      return s.mtimeMs === mtimeMs || createHash('sha256').update(readFileSync(file)).digest('hex') === sha256;
    });
    if (same) return { url: new URL('bundle/cli.js', dist), bundled: true };
  } catch {
    // no bundle, or a file it was built from is gone
  }
  return { url: new URL('cli.js', dist), bundled: false };
}
