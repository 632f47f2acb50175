/**
 * The project workspace: the root directory (where `pipe` runs, or --root), its cache/ (SQLite
 * index, object store, temp files) and artifacts/ (human-readable copies of latest outputs).
 */
import { constants, existsSync, mkdirSync, readdirSync, rmSync, chmodSync, statSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CacheDb, pidAlive } from './db.js';
import { ObjectStore } from './store.js';
import { hasManifests } from './manifests.js';
import { PipeError } from '../errors.js';

/** Databases up to this size get SQLite's page check when opened (≈ 10 ms per MB). */
const QUICK_CHECK_MAX_BYTES = 64 << 20;

/** SQLite errors that mean the index file itself is damaged or unreadable. */
export function isDamagedDb(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB|IOERR|CANTOPEN)/.test(code);
}

/** What to tell the user about a damaged or missing index: what happened, that results are safe, the command that rebuilds it. */
export function damagedIndexMessage(cacheDir: string, detail: string): string {
  return `the cache index ${join(cacheDir, 'pipe.db')} cannot be used: ${detail}.\n` +
    `  Your results are safe in the store (cache/objects, cache/manifests); nothing was changed.\n` +
    `  Rebuild the index from the store (nothing is recomputed): npx pipe doctor --repair`;
}
import { DEFAULT_EXT, type PortType } from '../../sdk/stage.js';

export class Workspace {
  readonly root: string;
  readonly cacheDir: string;
  readonly artifactsDir: string;
  readonly tmpDir: string;
  private _db?: CacheDb;
  private _store?: ObjectStore;

  constructor(root: string) {
    this.root = resolve(root);
    this.cacheDir = join(this.root, 'cache');
    this.artifactsDir = join(this.root, 'artifacts');
    this.tmpDir = join(this.cacheDir, 'tmp');
  }

  hasCache(): boolean {
    if (existsSync(join(this.cacheDir, 'pipe.db'))) return true;
    // results in the store without their index: never pretend the cache is empty
    if (hasManifests(this.cacheDir)) throw new PipeError(damagedIndexMessage(this.cacheDir, 'it is missing, but the store holds results'), undefined, 2);
    return false;
  }

  get db(): CacheDb {
    if (!this._db) {
      mkdirSync(this.cacheDir, { recursive: true });
      const path = join(this.cacheDir, 'pipe.db');
      if (!existsSync(path) && hasManifests(this.cacheDir)) throw new PipeError(damagedIndexMessage(this.cacheDir, 'it is missing, but the store holds results'), undefined, 2);
      let db: CacheDb | undefined;
      try {
        db = new CacheDb(path);
        // a page-level check where it is cheap (a damaged page may not be read by this command,
        // but a command must never answer from an index it cannot fully read)
        const size = statSync(path).size;
        const problems = size <= QUICK_CHECK_MAX_BYTES ? db.quickCheck() : [];
        if (problems.length) throw new PipeError(damagedIndexMessage(this.cacheDir, problems[0]!), undefined, 2);
      } catch (e) {
        db?.close();
        if (e instanceof PipeError) throw e;
        if (isDamagedDb(e)) throw new PipeError(damagedIndexMessage(this.cacheDir, (e as Error).message), undefined, 2);
        throw e;
      }
      this._db = db;
    }
    return this._db;
  }

  get store(): ObjectStore {
    this._store ??= new ObjectStore(this.cacheDir, this.db);
    return this._store;
  }

  /** Removes temp dirs left by runs whose process is gone (names start with `<pid>-`). */
  cleanTmp(): void {
    if (!existsSync(this.tmpDir)) return;
    for (const d of readdirSync(this.tmpDir)) {
      const pid = Number(d.split('-')[0]);
      if (Number.isInteger(pid) && pid !== process.pid && pidAlive(pid)) continue;
      if (pid === process.pid) continue;
      rmSync(join(this.tmpDir, d), { recursive: true, force: true });
    }
  }

  viewPath(pipeline: string, stageId: string, name: string, type: string, ext?: string): string {
    return join(this.artifactsDir, pipeline, stageId, name + (type === 'dir' ? '' : ext ?? DEFAULT_EXT[type as PortType] ?? ''));
  }

  /**
   * Refreshes artifacts/<pipeline>/<stage>/<output> from the store when it changed. Async, so
   * the coordinator keeps dispatching stages while copies are made.
   */
  async updateView(pipeline: string, stageId: string, name: string, type: string, hash: string, isDir: boolean, ext?: string): Promise<void> {
    const dest = this.viewPath(pipeline, stageId, name, type, ext);
    const cur = this.db.getView(pipeline, stageId, name);
    if (cur && cur.hash === hash && cur.path === dest && existsSync(dest)) return;
    const src = this.store.path(hash);
    await fsp.mkdir(join(this.artifactsDir, pipeline, stageId), { recursive: true });
    await fsp.rm(dest, { recursive: true, force: true });
    if (isDir) {
      await fsp.cp(src, dest, { recursive: true });
      makeWritable(dest);
    } else {
      await fsp.copyFile(src, dest, constants.COPYFILE_FICLONE);
      await fsp.chmod(dest, 0o644);
    }
    this.db.putView(pipeline, stageId, name, hash, dest);
  }

  close(): void {
    this._db?.close();
    this._db = undefined;
    this._store = undefined;
  }
}

function makeWritable(p: string): void {
  const st = statSync(p);
  if (st.isDirectory()) {
    chmodSync(p, 0o755);
    for (const e of readdirSync(p)) makeWritable(join(p, e));
  } else chmodSync(p, 0o644);
}
