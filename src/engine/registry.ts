/**
 * Stage-kind registry: every file in src/stages/ (compiled to dist/stages/) whose default
 * export is a StageKind is a kind. Files starting with '_' are shared helpers, not kinds.
 * Discovery instead of a hand-kept list means adding a kind is adding one file.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StageKind } from './stage.js';

const stagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'stages');
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

let loaded: Promise<Map<string, StageKind>> | undefined;

export function stageFiles(): string[] {
  return readdirSync(stagesDir)
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts') && !f.startsWith('_') && !f.startsWith('index.'))
    .sort();
}

export function loadKinds(): Promise<Map<string, StageKind>> {
  loaded ??= (async () => {
    const map = new Map<string, StageKind>();
    const mods = await Promise.all(stageFiles().map((f) => import(pathToFileURL(join(stagesDir, f)).href)));
    stageFiles().forEach((f, i) => {
      const k = mods[i].default as StageKind | undefined;
      if (!k || typeof k.run !== 'function' || typeof k.kind !== 'string') return;
      if (map.has(k.kind)) throw new Error(`stage kind '${k.kind}' is defined twice (second: src/stages/${f})`);
      map.set(k.kind, k);
    });
    return map;
  })();
  return loaded;
}

export async function getKind(name: string): Promise<StageKind | undefined> {
  return (await loadKinds()).get(name);
}
