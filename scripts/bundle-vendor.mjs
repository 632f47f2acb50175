#!/usr/bin/env node
/**
 * Bundles the coordinator's third-party JavaScript with esbuild (run by `npm run build` after tsc):
 *  - dist/lib/vendor.js replaces tsc's re-exports of commander, fastest-levenshtein and
 *    canonicalize (src/lib/vendor.ts) with one ES module: one file for Node to load on every
 *    command instead of dozens;
 *  - dist/lib/vendor-front.cjs: yaml, graphology and graphology-dag (src/lib/vendor-front.ts) as
 *    one CommonJS file, required on first use (src/lib/front-libs.ts) — only when a pipeline is
 *    parsed and its graph built.
 * Checks that each bundle exports exactly what its module does.
 *
 * commander requires node:child_process (with net and dgram: ≈ 10 ms) for executable
 * subcommands, which pipe has none of; in the bundle its `spawn` loads the module on first call.
 */
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renameSync, rmSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'dist', 'lib');
const require = createRequire(import.meta.url);

/** commander's `require('node:child_process')` → an object whose spawn requires it when called. */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (a) => (/[\\/]commander[\\/]/.test(a.importer) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      loader: 'js',
      contents: "const m = () => require('node:child_process');\nexports.spawn = (...a) => m().spawn(...a);\n",
    }));
  },
};

async function bundle(name, out, format, extra = {}) {
  const tmp = `${out}.${process.pid}.tmp.${format === 'cjs' ? 'cjs' : 'js'}`;
  await build({
    entryPoints: [join(root, 'src', 'lib', `${name}.ts`)], outfile: tmp, format,
    bundle: true, platform: 'node', target: 'node20', legalComments: 'inline', logLevel: 'warning', ...extra,
  });
  const before = Object.keys(await import(pathToFileURL(join(lib, `${name}.js`)).href)).sort();
  const after = Object.keys(format === 'cjs' ? require(tmp) : await import(pathToFileURL(tmp).href)).sort();
  if (JSON.stringify(before) !== JSON.stringify(after)) {
    rmSync(tmp, { force: true });
    console.error(`bundle-vendor: ${out} would export ${after.join(', ')}; the module exports ${before.join(', ')}`);
    process.exit(1);
  }
  renameSync(tmp, out);
}

await bundle('vendor-front', join(lib, 'vendor-front.cjs'), 'cjs');
await bundle('vendor', join(lib, 'vendor.js'), 'esm', {
  plugins: [lazyChildProcess],
  // CommonJS packages inside an ES module still call require() for Node built-ins
  banner: { js: "import { createRequire as __pipeVendorRequire } from 'node:module';\nconst require = __pipeVendorRequire(import.meta.url);" },
});
