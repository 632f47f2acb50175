/**
 * The project workspace: the root directory (where `pipe` runs, or --root), its cache/ (SQLite
 * index, object store, temp files) and artifacts/ (human-readable copies of latest outputs).
 */
import { constants, existsSync, mkdirSync, readdirSync, rmSync, chmodSync, statSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CacheDb, pidAlive } from './db.js';
import { ObjectStore } from './store.js';
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
    return existsSync(join(this.cacheDir, 'pipe.db'));
  }

  get db(): CacheDb {
    if (!this._db) {
      mkdirSync(this.cacheDir, { recursive: true });
      this._db = new CacheDb(join(this.cacheDir, 'pipe.db'));
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
