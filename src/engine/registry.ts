/**
 * Stage-kind registry. A kind lives in src/stages/<kind>.ts (compiled to dist/stages/<kind>.js)
 * and its default export is a StageKind whose `kind` equals the file name. Files starting with
 * '_' are shared helpers, not kinds. Adding a kind is adding one file; only the kinds a
 * pipeline uses are imported (start-up time matters for no-op reruns).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StageKind } from './stage.js';

const stagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'stages');
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

let names: string[] | undefined;
const cache = new Map<string, Promise<StageKind | undefined>>();

/** Names of every registered kind (from the file names; nothing is imported). */
export function kindNames(): string[] {
  names ??= readdirSync(stagesDir)
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts') && !f.startsWith('_') && !f.startsWith('index.'))
    .map((f) => f.slice(0, -ext.length))
    .sort();
  return names;
}

export function getKind(name: string): Promise<StageKind | undefined> {
  let p = cache.get(name);
  if (!p) {
    p = (async () => {
      if (!kindNames().includes(name)) return undefined;
      const mod = await import(pathToFileURL(join(stagesDir, name + ext)).href);
      const k = mod.default as StageKind | undefined;
      if (!k || typeof k.run !== 'function') throw new Error(`src/stages/${name}${ext} does not export a stage kind as default`);
      if (k.kind !== name) throw new Error(`src/stages/${name}${ext} defines kind '${k.kind}'; a kind's file must be named after it`);
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
