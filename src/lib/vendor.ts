/**
 * The third-party JavaScript the coordinator loads on every command (argument parser, canonical
 * JSON, edit distance), re-exported from one module. The YAML parser and the graph library, which
 * only a pipeline that is parsed needs, are in src/lib/vendor-front.ts.
 *
 * Why: Node loads each CommonJS file of a package on its own (resolution, package.json lookups,
 * the export lexer) — yaml alone is 73 files — and that per-file cost was ≈ 0.2 s of CPU on every
 * command, more than half of a no-op rerun of a 1,001-stage pipeline. `npm run build` replaces
 * the compiled dist/lib/vendor.js with an esbuild bundle of this same module
 * (scripts/bundle-vendor.mjs): one file, the same exports, the same package code. Under tsx and
 * vitest (no build) this file is used as it is.
 *
 * Stage kinds do not import this module (it would enter their code closure, and a kind runs in a
 * worker where start-up is paid once).
 */
export { Command, CommanderError, Option } from 'commander';
export { distance } from 'fastest-levenshtein';
import canonicalizeJson from 'canonicalize';
export const canonicalize = canonicalizeJson;
