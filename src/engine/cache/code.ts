/**
 * Code-aware fingerprints: the content hashes of the code that computes a stage's result.
 *
 * A kind's *code closure* is its module plus every module it imports — statically or with a
 * literal dynamic `import('…')` — transitively, as long as the import is relative and stays
 * inside the kind's root (pipe's package root for built-in kinds, the project root for a
 * project's own kinds). `import type` / `export type` are erased at runtime and not followed;
 * bare specifiers (packages) are not followed either: a library whose version changes results
 * belongs in the kind's `runtime()` facts. Modules that load native code name its sources in
 * `NATIVE_SOURCES`, and those sources join the closure.
 *
 * What is hashed is the module's *code*, not its text: TypeScript/JavaScript modules go through
 * esbuild's transform with whitespace minified and comments dropped (`codeText`), so editing a
 * doc comment or reformatting a file reruns nothing, while any change to what runs (one token)
 * does. Other files of the closure (native C sources, JSON) are hashed as bytes.
 *
 * One rule for src/ and dist/: when a module runs from `<root>/dist/X.js` and `<root>/src/X.ts`
 * exists, the TypeScript source is what is hashed (its imports resolve `.js` → `.ts`), so the
 * CLI (dist) and in-process tests (src through vitest/tsx) compute the same hash, and so does a
 * user who installed pipe from npm (the package ships src/). In a development checkout (a git
 * work tree) a dist file older than its source is a stale build: `staleBuild` lists them so
 * `pipe run` can refuse (a result computed by the old build must not be recorded under the new
 * code's hash).
 *
 * Cheap on no-op reruns: every file's hash and import list are cached in SQLite keyed by
 * (path, size, mtime, inode) — the same rule as file deps — so an unchanged closure costs one
 * stat and one indexed lookup per file, and each closure is computed once per process.
 */
import { existsSync, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import type { Loader } from 'esbuild';
import { createRequire } from 'node:module';
import type { CacheDb } from './db.js';
import { sha256, type ContentHash } from '../../lib/hash.js';
import { nativeSourceFiles } from '../../lib/ml/blas/sources.js';

/** Native sources (root-relative) of modules that load a native library: from the library's one list. */
export const NATIVE_SOURCES: Record<string, () => string[]> = {
  'src/lib/ml/blas/native.ts': nativeSourceFiles,
};

// loaded on first use: a run whose code is unchanged (stat-checked hashes) never needs it
let esbuildApi: typeof import('esbuild') | null = null;
const esbuild = () => (esbuildApi ??= createRequire(import.meta.url)('esbuild') as typeof import('esbuild'));

const LOADERS: Record<string, Loader> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx' };
const PARSED = new Set(Object.keys(LOADERS));

/**
 * The code of a module without comments and formatting: esbuild's transform of the source with
 * whitespace minified and no legal comments (identifiers are kept: renaming a variable is a
 * code change). A file esbuild cannot parse is returned as it is (its bytes are hashed).
 */
export function codeText(source: string, file: string): string {
  const loader = LOADERS[extname(file)];
  if (!loader) return source;
  try {
    return esbuild().transformSync(source, { loader, minifyWhitespace: true, legalComments: 'none', target: 'esnext', charset: 'utf8', sourcefile: file }).code;
  } catch {
    return source;
  }
}

export interface CodeClosure {
  /** Root-relative path ('/'-separated) → content hash. */
  files: Record<string, ContentHash>;
  /** Root-relative dist files older than the source that is hashed for them. */
  staleBuild: string[];
}

/** The directory holding the nearest package.json above `file` (or its directory). */
export function packageRoot(file: string): string {
  let d = dirname(file);
  for (;;) {
    if (existsSync(join(d, 'package.json'))) return d;
    const up = dirname(d);
    if (up === d) return dirname(file);
    d = up;
  }
}

/** Relative import specifiers of a module's source (type-only imports left out). */
export function importsOf(source: string): string[] {
  const out = new Set<string>();
  const stat = /(?:^|[\n;}])\s*(?:import|export)\s+(type\s+)?(?:[\w*${},\s]*?\s*from\s*)?['"](\.{1,2}\/[^'"\n]+)['"]/g;
  for (let m; (m = stat.exec(source)); ) if (!m[1]) out.add(m[2]!);
  const dyn = /\b(?:import|require)\s*\(\s*['"](\.{1,2}\/[^'"\n]+)['"]\s*\)/g;
  for (let m; (m = dyn.exec(source)); ) out.add(m[1]!);
  return [...out];
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Resolves a relative specifier the way TypeScript (NodeNext) and Node do. */
export function resolveImport(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  const ext = extname(base);
  const cands: string[] = [];
  const fromTs = /\.[mc]?tsx?$/.test(from);
  if (ext === '.js' || ext === '.jsx') cands.push(...(fromTs ? [base.slice(0, -ext.length) + '.ts', base.slice(0, -ext.length) + '.tsx'] : []), base);
  else if (ext === '.mjs') cands.push(...(fromTs ? [base.slice(0, -4) + '.mts'] : []), base);
  else if (ext === '.cjs') cands.push(...(fromTs ? [base.slice(0, -4) + '.cts'] : []), base);
  else if (ext) cands.push(base);
  else cands.push(base + '.ts', base + '.js', base + '.mjs', join(base, 'index.ts'), join(base, 'index.js'));
  return cands.find(isFile);
}

/** The file hashed for a module that runs from `file`: its TS source when it runs from dist/. */
export function sourceOf(root: string, file: string): string {
  const rel = relative(root, file);
  if (rel.startsWith('dist' + sep) && /\.js$/.test(rel)) {
    const ts = join(root, 'src', rel.slice(5, -3) + '.ts');
    if (existsSync(ts)) return ts;
  }
  return file;
}

const inside = (root: string, p: string) => {
  const r = relative(root, p);
  return !!r && !r.startsWith('..') && !r.startsWith(sep) && !/^[a-zA-Z]:/.test(r);
};

const checkouts = new Map<string, boolean>();
const isCheckout = (root: string) => {
  let c = checkouts.get(root);
  if (c === undefined) checkouts.set(root, (c = existsSync(join(root, '.git'))));
  return c;
};

const toKey = (root: string, p: string) => relative(root, p).split(sep).join('/');

/**
 * The code closure of the module `entry` inside `root`. With `db`, per-file results are cached
 * by (size, mtime, inode); without it everything is read (tests, tools).
 */
export function codeClosure(entry: string, root: string, db?: CacheDb): CodeClosure {
  const files: Record<string, ContentHash> = {};
  const staleBuild: string[] = [];
  const start = sourceOf(root, entry);
  // Only a development checkout can have a build older than its sources; an installed package
  // is immutable, and its files' mtimes are extraction times (not build order).
  const fromDist = start !== entry && isCheckout(root);
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length) {
    const file = queue.shift()!;
    let st: Stats;
    try {
      st = statSync(file);
    } catch {
      continue;
    }
    const key = toKey(root, file);
    const parse = PARSED.has(extname(file));
    let hash: string;
    let deps: string[];
    const c = db?.getCodeFile(file);
    if (c && c.size === st.size && c.mtime_ms === st.mtimeMs && c.ino === st.ino) {
      hash = c.hash;
      deps = JSON.parse(c.imports) as string[];
    } else {
      const buf = readFileSync(file);
      const text = parse ? buf.toString('utf8') : '';
      hash = parse ? sha256(codeText(text, file)) : sha256(buf);
      deps = parse ? importsOf(text) : [];
      db?.putCodeFile(file, st.size, st.mtimeMs, st.ino, hash, JSON.stringify(deps));
    }
    files[key] = hash as ContentHash;
    if (fromDist && key.startsWith('src/') && key.endsWith('.ts')) {
      const dist = join(root, 'dist', ...key.slice(4, -3).split('/')) + '.js';
      try {
        if (st.mtimeMs > statSync(dist).mtimeMs) staleBuild.push(toKey(root, dist));
      } catch {
        staleBuild.push(toKey(root, dist));
      }
    }
    const next: string[] = [];
    for (const spec of deps) {
      const p = resolveImport(file, spec);
      if (p && inside(root, p)) next.push(p);
    }
    for (const extra of NATIVE_SOURCES[key]?.() ?? []) next.push(join(root, ...extra.split('/')));
    for (const p of next) {
      if (seen.has(p)) continue;
      seen.add(p);
      queue.push(p);
    }
  }
  return { files: Object.fromEntries(Object.keys(files).sort().map((k) => [k, files[k]!])), staleBuild };
}
