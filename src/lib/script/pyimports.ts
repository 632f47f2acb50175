/**
 * The code of a Python stage: its script and, transitively, every module it imports that
 * resolves inside the project (`import models.actmix`, `from .layers import Mix`,
 * `from utils import io`), searched the way Python would — from the importing script's
 * directory (sys.path[0]) and from the project root. Modules that do not resolve inside the
 * project are third-party (or the standard library): their top-level names are returned so the
 * stage can record their versions as runtime facts.
 *
 * The scan is textual (import statements at any indentation, including inside functions and
 * `try:` blocks; continuation lines with parentheses or backslashes). An import built at run time
 * (`importlib.import_module(name)`) is not seen: list such files in `deps`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface PyClosure {
  /** Root-relative files ('/'-separated), the script first. */
  files: string[];
  /** Top-level names of imports that are not project modules (stdlib or third-party), sorted. */
  external: string[];
}

interface Imp { level: number; module: string; names: string[] }

export function pythonImports(source: string): Imp[] {
  // join continuation lines: backslashes and parenthesised import lists
  const text = source.replace(/\\\r?\n/g, ' ').replace(/\(([^()]*)\)/g, (m, inner: string) => (/\n/.test(inner) ? `(${inner.replace(/\r?\n/g, ' ')})` : m));
  const out: Imp[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '');
    let m = /^\s*import\s+(.+)$/.exec(line);
    if (m) {
      for (const part of m[1]!.split(',')) {
        const mod = part.trim().split(/\s+as\s+/)[0]!.trim();
        if (/^[A-Za-z_][\w.]*$/.test(mod)) out.push({ level: 0, module: mod, names: [] });
      }
      continue;
    }
    m = /^\s*from\s+(\.*)([\w.]*)\s+import\s+(.+)$/.exec(line);
    if (m) {
      const names = m[3]!.replace(/[()]/g, '').split(',').map((s) => s.trim().split(/\s+as\s+/)[0]!.trim()).filter((s) => /^\w+$/.test(s));
      out.push({ level: m[1]!.length, module: m[2]!, names });
    }
  }
  return out;
}

function moduleFile(base: string, dotted: string): string | undefined {
  if (!dotted) return existsSync(join(base, '__init__.py')) ? join(base, '__init__.py') : undefined;
  const p = join(base, ...dotted.split('.'));
  if (existsSync(p + '.py')) return p + '.py';
  if (existsSync(join(p, '__init__.py'))) return join(p, '__init__.py');
  return undefined;
}

/** Package __init__.py files along a dotted path (they run on import, so they are code too). */
function packageInits(base: string, dotted: string): string[] {
  const parts = dotted.split('.');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const f = join(base, ...parts.slice(0, i), '__init__.py');
    if (existsSync(f)) out.push(f);
  }
  return out;
}

/**
 * Memoized per process (one `pipe` command): a matrix of many instances of one script scans its
 * imports once. The files' contents are hashed fresh for every fingerprint; only the list is kept.
 */
const closures = new Map<string, PyClosure>();

export function pythonClosure(root: string, script: string): PyClosure {
  const key = resolve(root) + '\u0000' + script;
  let c = closures.get(key);
  if (!c) { c = scanClosure(root, script); closures.set(key, c); }
  return c;
}

/** Forget the memoized closures (tests that edit imports in one process). */
export function forgetPythonClosures(): void {
  closures.clear();
}

function scanClosure(root: string, script: string): PyClosure {
  const absRoot = resolve(root);
  const entry = resolve(absRoot, script);
  if (!existsSync(entry) || !statSync(entry).isFile()) throw new Error(`script '${script}' does not exist (relative to ${absRoot})`);
  const inside = (f: string) => { const r = relative(absRoot, f); return r && !r.startsWith('..') && !r.startsWith(sep) && !r.split(sep).includes('site-packages') && !r.split(sep).some((s) => s === '.venv' || s === 'venv' || s === 'node_modules'); };
  const searchBases = [dirname(entry), absRoot];
  const seen = new Set<string>();
  const external = new Set<string>();
  const order: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    order.push(file);
    let src: string;
    try { src = readFileSync(file, 'utf8'); } catch { return; }
    for (const imp of pythonImports(src)) {
      const found: string[] = [];
      if (imp.level > 0) {
        let base = dirname(file);
        for (let i = 1; i < imp.level; i++) base = dirname(base);
        const f = moduleFile(base, imp.module);
        if (f) found.push(f, ...packageInits(base, imp.module));
        for (const n of imp.names) { const sub = moduleFile(base, imp.module ? `${imp.module}.${n}` : n); if (sub) found.push(sub); }
      } else {
        let hit = false;
        for (const base of searchBases) {
          const f = moduleFile(base, imp.module);
          if (!f || !inside(f)) continue;
          hit = true;
          found.push(f, ...packageInits(base, imp.module));
          for (const n of imp.names) { const sub = moduleFile(base, `${imp.module}.${n}`); if (sub) found.push(sub); }
          break;
        }
        if (!hit) external.add(imp.module.split('.')[0]!);
      }
      for (const f of found) if (inside(f)) visit(f);
    }
  };
  visit(entry);
  const rel = (f: string) => relative(absRoot, f).split(sep).join('/');
  return { files: [rel(order[0]!), ...order.slice(1).map(rel).sort()], external: [...external].sort() };
}

/**
 * A Python program that prints the interpreter version and, for each top-level module name
 * given on stdin (JSON list), the version of the distribution providing it (or "stdlib", or
 * "missing" when it cannot be imported). It never imports the modules (fast, no side effects),
 * except to read `__version__` of a module no distribution claims.
 */
export const PROBE = String.raw`
import json, sys, importlib.util
names = json.loads(sys.stdin.read() or '[]')
out = {'python': '%d.%d.%d' % tuple(sys.version_info[:3]), 'modules': {}}
try:
    import importlib.metadata as md
    dists = md.packages_distributions()
except Exception:
    md = None; dists = {}
std = getattr(sys, 'stdlib_module_names', set()) | set(sys.builtin_module_names)
for n in names:
    if n in std:
        continue
    try:
        spec = importlib.util.find_spec(n)
    except Exception:
        spec = None
    if spec is None:
        out['modules'][n] = 'missing'; continue
    v = None
    for d in dists.get(n, []):
        try:
            v = '%s %s' % (d, md.version(d)); break
        except Exception:
            pass
    if v is None:
        origin = spec.origin or ''
        if 'site-packages' not in origin and 'dist-packages' not in origin:
            continue  # a module of the project or the stdlib outside the known list
        try:
            m = __import__(n)
            v = str(getattr(m, '__version__', 'unknown'))
        except Exception as e:
            v = 'unknown'
    out['modules'][n] = v
print(json.dumps(out, sort_keys=True))
`;
