#!/usr/bin/env node
/**
 * Bundles the coordinator — dist/cli.js with the CLI commands, the engine and the run records —
 * into dist/bundle/ (esbuild, ES modules, one chunk per lazily loaded command), so a command
 * loads a handful of files instead of ≈ 80 (each ES module costs Node a resolution, a read and
 * a compilation: ≈ 0.1 s of every command). Run by `npm run build` after tsc.
 *
 * What stays out of the bundle, loaded from dist/ as tsc wrote it:
 *  - third-party packages (node_modules), except better-sqlite3's JavaScript (twelve CommonJS
 *    files every command loaded; its addon is loaded by path, see src/engine/cache/db.ts);
 *  - src/lib, src/sdk and src/stages: the code stage kinds import. A kind runs with the very
 *    modules its code closure hashes (src/engine/cache/code.ts), and the engine and the kinds
 *    share one instance of each; modules there may locate files through their own
 *    `import.meta.url` (src/lib/package-root.ts does it for the engine).
 *
 * bin/pipe.js uses the bundle only while every file it was built from is as it was
 * (dist/bundle/inputs.json: path, size, mtime, sha256; bin/entry.mjs); after a bare `tsc` that
 * changed one of them it loads dist/cli.js.
 */
import { build } from 'esbuild';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const outdir = join(dist, 'bundle');
const tmp = `${outdir}.${process.pid}.tmp`;
const EXTERNAL_DIRS = ['lib', 'sdk', 'stages'].map((d) => join(dist, d) + sep);
const require = createRequire(import.meta.url);

const keepOut = {
  name: 'pipe-externals',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const abs = resolve(args.resolveDir, args.path);
      if (!EXTERNAL_DIRS.some((d) => abs.startsWith(d))) return undefined;
      // imported from dist/bundle/*.js, one level below dist/ like the chunk that imports it
      return { path: '../' + relative(dist, abs).split(sep).join('/'), external: true };
    });
  },
};

/** better-sqlite3's lib/ goes into the bundle (only the coordinator opens the index). */
const sqliteIn = {
  name: 'pipe-sqlite-in',
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: require.resolve('better-sqlite3') }));
  },
};

rmSync(tmp, { recursive: true, force: true });
const r = await build({
  entryPoints: { cli: join(dist, 'cli.js') },
  outdir: tmp,
  bundle: true,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  plugins: [keepOut, sqliteIn],
  // the CommonJS inside (better-sqlite3) requires Node's built-ins
  banner: { js: "import { createRequire as __pipeCreateRequire } from 'node:module';\nconst require = __pipeCreateRequire(import.meta.url);" },
  metafile: true,
  legalComments: 'inline',
  logLevel: 'warning',
});
// a package's file is named `pkg:<name>/<path in the package>`: an installed pipe may find the
// package elsewhere (npm hoists it), and bin/entry.mjs resolves it from dist/ as Node would
const sqliteDir = dirname(require.resolve('better-sqlite3/package.json'));
const inputs = Object.keys(r.metafile.inputs).map((p) => {
  const abs = resolve(root, p);
  const s = statSync(abs);
  const name = abs.startsWith(sqliteDir + sep) ? `pkg:better-sqlite3/${relative(sqliteDir, abs).split(sep).join('/')}` : relative(dist, abs).split(sep).join('/');
  if (name.startsWith('../')) throw new Error(`bundle-cli: ${abs} is outside dist/ and not a package the bundle may carry`);
  return [name, s.size, s.mtimeMs, createHash('sha256').update(readFileSync(abs)).digest('hex')];
});
if (!inputs.some(([p]) => p === 'cli.js')) throw new Error('bundle-cli: dist/cli.js is not among the bundle inputs');
writeFileSync(join(tmp, 'inputs.json'), JSON.stringify({ inputs }));
rmSync(outdir, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
renameSync(tmp, outdir);
