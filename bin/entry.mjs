// Which module the `pipe` command starts: the coordinator's bundle (scripts/bundle-cli.mjs) while
// every file it was built from is as it was then, else — a bare `tsc` since, or no bundle —
// dist/cli.js and the modules tsc wrote. dist/bundle/inputs.json lists each input's path, size,
// mtime and sha256: a file whose mtime moved (an installed package: npm's tarballs reset mtimes)
// is compared by content. A file of a package the bundle carries (better-sqlite3's JavaScript)
// is found where Node resolves the package from dist/ (npm may hoist it): another version
// installed since means dist/cli.js.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** @param {URL} dist the build directory (ends with '/') @returns {{ url: URL, bundled: boolean }} */
export function coordinatorEntry(dist) {
  try {
    const base = fileURLToPath(dist); // paths, not URLs: ≈ 80 files are checked on every start
    const { inputs } = JSON.parse(readFileSync(base + 'bundle/inputs.json', 'utf8'));
    // `pkg:<name>/<path>`: a file of a package the bundle carries, wherever Node finds the package
    const pkgDirs = new Map();
    const pkgDir = (name) => {
      if (!pkgDirs.has(name)) pkgDirs.set(name, dirname(createRequire(base + 'cli.js').resolve(`${name}/package.json`)) + '/');
      return pkgDirs.get(name);
    };
    const same = inputs.length > 0 && inputs.every(([path, size, mtimeMs, sha256]) => {
      const pkg = /^pkg:((?:@[^/]+\/)?[^/]+)\/(.+)$/.exec(path);
      const file = pkg ? pkgDir(pkg[1]) + pkg[2] : base + path;
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

/**
 * V8 settings for the coordinator's first second. A no-op `pipe run` or `pipe status` of a large
 * pipeline is a burst of ≈ 0.3 s: V8's optimizing compiler (TurboFan) compiled functions that ran
 * once more and never paid back, and the young generation grew from 1 to 16 MiB, each new page a
 * page fault (≈ 6 µs in a virtual machine) and each survivor copied again. With tier-up 15× later
 * and the young generation kept at its first size, a 1,001-stage no-op took ≈ 25 % less CPU
 * (`perf stat`; page faults 10,460 → 6,390; the ratios: bench/snakemake.mjs). A second in, a
 * longer command (one that executes stages, a report) gets V8's defaults back. Only for the V8 these were measured on
 * (Node 20's 11.x, whose defaults are restored); `PIPE_V8_TUNING=0` turns it off.
 */
export const START_FLAGS = ['--interrupt-budget=1000000', '--semi-space-growth-factor=1'];
export const DEFAULT_FLAGS = ['--interrupt-budget=67584', '--semi-space-growth-factor=2'];

/** @param {(flags: string) => void} setFlags v8.setFlagsFromString @returns {boolean} whether applied */
export function tuneStart(setFlags, { after = 1000, v8Version = process.versions.v8, env = process.env } = {}) {
  if (!v8Version.startsWith('11.') || env.PIPE_V8_TUNING === '0') return false;
  for (const f of START_FLAGS) setFlags(f);
  setTimeout(() => { for (const f of DEFAULT_FLAGS) setFlags(f); }, after).unref();
  return true;
}
