/**
 * The store is the truth, the database an index. Beside every result it records, the runner
 * writes an immutable *manifest* into the store — `cache/manifests/<hh>/<fingerprint>.json`: the
 * fingerprint and its data, the stage that computed it, the outputs with their content hashes,
 * the metrics — written (temp file, rename) after the outputs are in the store and before the
 * database records the execution. A damaged or lost `cache/pipe.db` is rebuilt from them
 * (`pipe doctor --repair`, `rebuildIndex`) with nothing recomputed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FingerprintData } from './fingerprint.js';

export interface ResultManifest {
  v: 1;
  fingerprint: string;
  fpData: FingerprintData;
  pipeline: string;
  stageId: string;
  kind: string;
  outputs: { name: string; hash: string; type: string; is_dir: number; size: number }[];
  metrics: unknown;
  started: number;
  ended: number;
}

export const manifestsDir = (cacheDir: string) => join(cacheDir, 'manifests');
const manifestPath = (cacheDir: string, fp: string) => join(manifestsDir(cacheDir), fp.slice(0, 2), `${fp}.json`);

/** Writes the manifest of a result (once: an existing one for the fingerprint is kept). */
export function writeManifest(cacheDir: string, m: ResultManifest): void {
  const p = manifestPath(cacheDir, m.fingerprint);
  if (existsSync(p)) return;
  mkdirSync(join(manifestsDir(cacheDir), m.fingerprint.slice(0, 2)), { recursive: true });
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(m));
  renameSync(tmp, p);
}

/** Are there manifests (results an index could be rebuilt from)? */
export function hasManifests(cacheDir: string): boolean {
  try {
    return readdirSync(manifestsDir(cacheDir)).length > 0;
  } catch {
    return false;
  }
}

/** Every readable manifest (unreadable ones are counted, not thrown). */
export function readManifests(cacheDir: string): { manifests: ResultManifest[]; unreadable: string[] } {
  const manifests: ResultManifest[] = [];
  const unreadable: string[] = [];
  const root = manifestsDir(cacheDir);
  if (!existsSync(root)) return { manifests, unreadable };
  for (const sub of readdirSync(root).sort()) {
    for (const f of readdirSync(join(root, sub)).sort()) {
      if (!f.endsWith('.json')) continue;
      try {
        const m = JSON.parse(readFileSync(join(root, sub, f), 'utf8')) as ResultManifest;
        if (m.v !== 1 || `${m.fingerprint}.json` !== f || !Array.isArray(m.outputs)) throw new Error('not a manifest');
        manifests.push(m);
      } catch {
        unreadable.push(join(sub, f));
      }
    }
  }
  manifests.sort((a, b) => a.ended - b.ended);
  return { manifests, unreadable };
}

/**
 * Rebuilds `cache/pipe.db` from the store: a damaged index is moved aside
 * (`pipe.db.damaged-<time>`, with its -wal/-shm), a new one gets one execution per manifest whose
 * outputs are all in the store (objects are re-verified on first use). Run history (`pipe runs`)
 * lived only in the old index and is not recovered; every result is.
 */
/** What rebuilding needs of a fresh index (CacheDb implements it). */
export interface RecoveryIndex {
  startRun(pipeline: string, file: string, argv: string[]): number;
  endRun(id: number, state: string, summary: unknown): void;
  recordRecovered(runId: number, m: ResultManifest): void;
  close(): void;
}

export function rebuildIndex(cacheDir: string, open: (path: string) => RecoveryIndex): { results: number; pipelines: string[]; skipped: number; unreadable: number; movedTo?: string } {
  const path = join(cacheDir, 'pipe.db');
  let movedTo: string | undefined;
  if (existsSync(path)) {
    movedTo = `${path}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    for (const ext of ['', '-wal', '-shm']) if (existsSync(path + ext)) renameSync(path + ext, movedTo + ext);
  }
  const { manifests, unreadable } = readManifests(cacheDir);
  const db = open(path);
  let results = 0;
  let skipped = 0;
  const runs = new Map<string, number>();
  try {
    for (const m of manifests) {
      const objects = join(cacheDir, 'objects');
      if (!m.outputs.every((o) => existsSync(join(objects, o.hash.slice(0, 2), o.hash)))) { skipped++; continue; }
      let runId = runs.get(m.pipeline);
      if (runId === undefined) runs.set(m.pipeline, (runId = db.startRun(m.pipeline, '(index rebuilt from the store)', ['doctor', '--repair'])));
      db.recordRecovered(runId, m);
      results++;
    }
    for (const [, id] of runs) db.endRun(id, 'done', { rebuilt: true });
  } finally {
    db.close();
  }
  return { results, pipelines: [...runs.keys()].sort(), skipped, unreadable: unreadable.length, movedTo };
}

/** The manifest of one result, when the store has it. */
export function readManifest(cacheDir: string, fp: string): ResultManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(manifestPath(cacheDir, fp), 'utf8')) as ResultManifest;
    return m.v === 1 && m.fingerprint === fp ? m : undefined;
  } catch {
    return undefined;
  }
}
