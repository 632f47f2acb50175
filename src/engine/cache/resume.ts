/**
 * The resume area of the cache: `cache/resume/<fingerprint>/` holds the checkpoints a training
 * stage writes while it runs (src/lib/checkpoint.ts), keyed by the fingerprint — a changed
 * configuration has another fingerprint, so it never resumes from this one's state. The runner
 * removes a fingerprint's directory when its stage completes; `pipe gc` removes the orphans
 * (directories of fingerprints whose stage has since completed or run with another fingerprint);
 * `pipe status` reads the newest checkpoint's epoch (`resumable from epoch 37/100`).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { newestCheckpointMeta, type CheckpointMeta } from '../../lib/checkpoint.js';
import type { CacheDb } from './db.js';

export function resumeDir(cacheDir: string, fp: string): string {
  return join(cacheDir, 'resume', fp);
}

/** The newest valid checkpoint of fingerprint `fp` (null: none, or none valid). */
export function resumableFrom(cacheDir: string, fp: string): CheckpointMeta | null {
  const d = resumeDir(cacheDir, fp);
  return existsSync(d) ? newestCheckpointMeta(d) : null;
}

/** Resume directories no stage can continue from: its fingerprint is not that of an unfinished latest execution. */
export function resumeOrphans(db: CacheDb, cacheDir: string): string[] {
  const root = join(cacheDir, 'resume');
  if (!existsSync(root)) return [];
  const keep = db.unfinishedFingerprints();
  return readdirSync(root).filter((fp) => !keep.has(fp)).map((fp) => join(root, fp));
}

export function removeResumeDirs(dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
