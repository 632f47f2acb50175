/**
 * Stage-kind registry. Kinds come from two places:
 *  - built-in: src/stages/<kind>.ts of pipe (compiled to dist/stages/<kind>.js);
 *  - the project: <project root>/stages/<kind>.{ts,mts,js,mjs} — a researcher's own kinds,
 *    written with the same `defineStage` API (`import { defineStage } from 'pipe-ml'`), loaded
 *    without a build step (TypeScript through tsx) by the coordinator and the workers.
 * A kind's default export is a StageKind whose `kind` equals the file name. Files starting
 * with '_' (and subdirectories) are shared helpers, not kinds. A project kind with the name of
 * a built-in is an error. Only the kinds a pipeline uses are imported (start-up time matters
 * for no-op reruns).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PipeError } from '../errors.js';
import { codePath, FROM_SOURCES, PIPE_PACKAGE_ROOT } from '../../lib/package-root.js';
import type { StageKind } from '../../sdk/stage.js';

const stagesDir = codePath('stages');
export { PIPE_PACKAGE_ROOT };
const ext = FROM_SOURCES ? '.ts' : '.js';
const PROJECT_EXTS = ['.ts', '.mts', '.js', '.mjs'];

export interface KindOrigin {
  source: 'builtin' | 'project';
  /** The module file that is imported. */
  file: string;
  /** Root of its code closure: pipe's package root, or the project root. */
  root: string;
}

let projectRoot = resolve(process.env.PIPE_ROOT ?? process.cwd());
let builtinNames: string[] | undefined;
let projectFiles: Map<string, string> | undefined;
const cache = new Map<string, Promise<StageKind | undefined>>();
const origins = new WeakMap<StageKind, KindOrigin>();

/** Sets the project whose `stages/` directory holds project kinds (coordinator: the workspace root; worker: the task's). */
export function useProject(root: string): void {
  const r = resolve(root);
  if (r === projectRoot) return;
  projectRoot = r;
  projectFiles = undefined;
  cache.clear();
}

export function projectKindsDir(root = projectRoot): string {
  return join(root, 'stages');
}

function builtins(): string[] {
  builtinNames ??= readdirSync(stagesDir)
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts') && !f.startsWith('_') && !f.startsWith('index.'))
    .map((f) => f.slice(0, -ext.length))
    .sort();
  return builtinNames;
}

/** Project kinds by name → file. A clash with a built-in or between two files is an error. */
function projectKinds(): Map<string, string> {
  if (projectFiles) return projectFiles;
  const m = new Map<string, string>();
  const dir = projectKindsDir();
  // pipe's own repository is not a user project: its stages/ is src/stages/
  if (existsSync(dir) && resolve(dir) !== resolve(stagesDir)) {
    const taken = new Set(builtins());
    for (const f of readdirSync(dir, { withFileTypes: true })) {
      if (!f.isFile() || f.name.startsWith('_') || f.name.startsWith('.') || /\.(d|test|spec)\.[mc]?[tj]s$/.test(f.name)) continue;
      const e = PROJECT_EXTS.find((x) => f.name.endsWith(x));
      if (!e) continue;
      const name = f.name.slice(0, -e.length);
      const shown = relative(process.cwd(), join(dir, f.name)) || f.name;
      if (taken.has(name)) throw new PipeError(`${shown}: kind '${name}' clashes with the built-in kind '${name}' of pipe; rename the file (and its \`kind:\`)`);
      if (m.has(name)) throw new PipeError(`${shown}: kind '${name}' is defined twice (also ${relative(process.cwd(), m.get(name)!)})`);
      m.set(name, join(dir, f.name));
    }
  }
  projectFiles = m;
  return m;
}

/** Names of every registered kind, built-in and project (from file names; nothing is imported). */
export function kindNames(): string[] {
  return [...new Set([...builtins(), ...projectKinds().keys()])].sort();
}

/** Where a kind loaded through the registry comes from (undefined for kinds made elsewhere, e.g. in tests). */
export function kindOrigin(k: StageKind): KindOrigin | undefined {
  return origins.get(k);
}

async function importModule(file: string): Promise<{ default?: unknown }> {
  if (/\.[mc]?ts$/.test(file) && !FROM_SOURCES) {
    // TypeScript without a build step. (Running from src/ under vitest or tsx, .ts imports already work.)
    const { tsImport } = (await import('tsx/esm/api')) as { tsImport: (spec: string, parent: string) => Promise<{ default?: unknown }> };
    return tsImport(pathToFileURL(file).href, import.meta.url);
  }
  return import(pathToFileURL(file).href) as Promise<{ default?: unknown }>;
}

export function getKind(name: string): Promise<StageKind | undefined> {
  let p = cache.get(name);
  if (!p) {
    p = (async () => {
      const builtin = builtins().includes(name);
      const file = builtin ? join(stagesDir, name + ext) : projectKinds().get(name);
      if (!file) return undefined;
      const shown = builtin ? `src/stages/${name}${ext}` : relative(process.cwd(), file) || file;
      let mod = await importModule(file);
      // tsx's CommonJS interop may nest the module (default.default)
      if (mod.default && typeof (mod.default as { run?: unknown }).run !== 'function' && (mod.default as { default?: unknown }).default) mod = mod.default as { default?: unknown };
      const k = mod.default as StageKind | undefined;
      if (!k || typeof k.run !== 'function') throw new PipeError(`${shown} does not export a stage kind as default (export default defineStage({...}))`);
      if (k.kind !== name) throw new PipeError(`${shown} defines kind '${k.kind}'; a kind's file must be named after it`);
      origins.set(k, { source: builtin ? 'builtin' : 'project', file, root: builtin ? PIPE_PACKAGE_ROOT : projectRoot });
      return k;
    })();
    cache.set(name, p);
  }
  return p;
}

/** The given kinds (unknown names are left out). */
export async function loadKindsFor(wanted: Iterable<string>): Promise<Map<string, StageKind>> {
  const map = new Map<string, StageKind>();
  for (const n of new Set(wanted)) {
    const k = await getKind(n);
    if (k) map.set(n, k);
  }
  return map;
}

/** Every kind (for `pipe kinds`). */
export function loadKinds(): Promise<Map<string, StageKind>> {
  return loadKindsFor(kindNames());
}
