#!/usr/bin/env node
/**
 * Replaces dist/lib/vendor.js (tsc's re-exports of commander, yaml, graphology, graphology-dag,
 * fastest-levenshtein, canonicalize) with an esbuild bundle of the same module: one file for Node
 * to load instead of ~100 (see src/lib/vendor.ts for why). Run by `npm run build` after tsc.
 * Checks that the bundle exports exactly what the module does.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renameSync, rmSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'lib', 'vendor.js');
const tmp = `${out}.${process.pid}.tmp.js`;
const before = Object.keys(await import(pathToFileURL(out).href)).sort();
await build({
  entryPoints: [join(root, 'src', 'lib', 'vendor.ts')],
  outfile: tmp,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'inline',
  logLevel: 'warning',
  // CommonJS packages inside an ES module still call require() for Node built-ins
  banner: { js: "import { createRequire as __pipeVendorRequire } from 'node:module';\nconst require = __pipeVendorRequire(import.meta.url);" },
});
const after = Object.keys(await import(pathToFileURL(tmp).href)).sort();
if (JSON.stringify(before) !== JSON.stringify(after)) {
  rmSync(tmp, { force: true });
  console.error(`bundle-vendor: the bundle's exports (${after.join(', ')}) differ from the module's (${before.join(', ')})`);
  process.exit(1);
}
renameSync(tmp, out);
