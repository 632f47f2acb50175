/**
 * The project workspace: the root directory (where `pipe` runs, or --root), its cache/ (SQLite
 * index, object store, temp files) and artifacts/ (human-readable copies of latest outputs).
 */
import { constants, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, chmodSync, statSync, writeFileSync, renameSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CacheDb, pidAlive, type ViewRow } from './db.js';
import { ObjectStore } from './store.js';
import { hasManifests } from './manifests.js';
import { PipeError } from '../errors.js';

/** Databases up to this size get SQLite's page check when opened (≈ 10 ms per MB). */
const QUICK_CHECK_MAX_BYTES = 64 << 20;

/**
 * The index file as pipe left it: size, mtime and inode of pipe.db, written after a command that
 * had it open closed it (so SQLite had folded its write-ahead log in). When the file still has
 * exactly these, nothing but pipe has touched it since a check or pipe's own writes, and opening
 * it skips the page check; any other writer (a copy, a damaged disk block rewritten, a restore)
 * changes mtime or inode and the check runs again. A command killed before closing leaves no
 * new stamp: the next open checks. Damage that appears without any write is still caught when a
 * page is read (SQLITE_CORRUPT → the same message, src/cli.ts).
 */
const CHECKED_STAMP = 'pipe.db.checked';

function dbStamp(path: string): string | null {
  try {
    if (existsSync(path + '-wal') && statSync(path + '-wal').size > 0) return null;
    const st = statSync(path, { bigint: true });
    return `${st.size} ${st.mtimeNs} ${st.ino}`;
  } catch {
    return null;
  }
}

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
        const stamp = dbStamp(path);
        let stamped = false;
        try { stamped = stamp !== null && readFileSync(join(this.cacheDir, CHECKED_STAMP), 'utf8') === stamp; } catch { /* no stamp */ }
        const problems = size <= QUICK_CHECK_MAX_BYTES && !stamped ? db.quickCheck() : [];
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
   * Makes artifacts/<pipeline>/<stage>/<output> anew from the store: for a view that is not
   * `viewCurrent` (the result changed, or the view was edited or damaged since it was made: it is
   * put back); callers ask `viewCurrent` first. Async, so the coordinator keeps dispatching
   * stages while views are made.
   *
   * Views are hard links into the store by default (no second copy of every result; the store's
   * objects are read-only, so an editor cannot write through them; root gets copies, see
   * `artifactsMode`), a copy where linking is not possible (another filesystem);
   * `PIPE_ARTIFACTS=copy` makes writable copies, `symlink` symbolic links.
   */
  async updateView(pipeline: string, stageId: string, name: string, type: string, hash: string, isDir: boolean, ext?: string): Promise<void> {
    const dest = this.viewPath(pipeline, stageId, name, type, ext);
    const src = this.store.path(hash);
    await fsp.mkdir(join(this.artifactsDir, pipeline, stageId), { recursive: true });
    await fsp.rm(dest, { recursive: true, force: true });
    const mode = await materialize(src, dest, isDir, artifactsMode());
    const stat = JSON.stringify({ mode, files: viewStats(dest, mode) });
    this.db.putView(pipeline, stageId, name, hash, dest, stat);
    this.views?.rows.set(`${stageId}\u0000${name}`, { stage_id: stageId, name, hash, path: dest, stat });
  }

  /** Does artifacts/ show this result, as it was made (no update needed)? */
  viewCurrent(pipeline: string, stageId: string, name: string, type: string, hash: string, ext?: string): boolean {
    const dest = this.viewPath(pipeline, stageId, name, type, ext);
    const cur = this.viewRow(pipeline, stageId, name);
    return !!cur && cur.hash === hash && cur.path === dest && viewIntact(dest, cur.stat);
  }

  /**
   * A pipeline's view rows, read in one query the first time a view of it is updated (a no-op run
   * of 1,000 stages asks for each of them once), and kept current by `updateView`; another
   * process cannot change them meanwhile (the pipeline is locked while it runs).
   */
  private views?: { pipeline: string; rows: Map<string, ViewRow> };
  private viewRow(pipeline: string, stageId: string, name: string): ViewRow | undefined {
    if (this.views?.pipeline !== pipeline) this.views = { pipeline, rows: new Map(this.db.viewsOf(pipeline).map((v) => [`${v.stage_id}\u0000${v.name}`, v])) };
    return this.views.rows.get(`${stageId}\u0000${name}`);
  }

  /** Views of a pipeline that were edited, damaged or removed since they were made (`pipe run` restores them). */
  damagedViews(pipeline: string): { stage: string; output: string; path: string }[] {
    return this.db.viewsOf(pipeline).filter((v) => !viewIntact(v.path, v.stat)).map((v) => ({ stage: v.stage_id, output: v.name, path: v.path }));
  }

  close(): void {
    if (this._db) {
      this._db.close();
      // the index as this command leaves it (checked when opened, then written only by pipe)
      const path = join(this.cacheDir, 'pipe.db');
      const stamp = dbStamp(path);
      const file = join(this.cacheDir, CHECKED_STAMP);
      try {
        if (stamp) { const tmp = `${file}.${process.pid}`; writeFileSync(tmp, stamp); renameSync(tmp, file); } else rmSync(file, { force: true });
      } catch { /* a read-only cache only costs the check next time */ }
    }
    this._db = undefined;
    this._store = undefined;
  }
}

export type ArtifactsMode = 'link' | 'copy' | 'symlink';

/**
 * How artifacts/ shows results: `PIPE_ARTIFACTS` (link | copy | symlink). Default: hard links —
 * except for root, whom read-only permissions do not stop: an editor run as root (a container)
 * would write through a link into the store, so root gets copies (reflinks where the filesystem
 * has them).
 */
export function artifactsMode(): ArtifactsMode {
  const m = (process.env.PIPE_ARTIFACTS ?? '').trim() || (process.getuid?.() === 0 ? 'copy' : 'link');
  if (m !== 'link' && m !== 'copy' && m !== 'symlink') throw new PipeError(`PIPE_ARTIFACTS=${m}: expected link, copy or symlink`, undefined, 2);
  return m;
}

/** Makes the view; returns the mode used (a link across filesystems falls back to a copy). */
async function materialize(src: string, dest: string, isDir: boolean, mode: ArtifactsMode): Promise<ArtifactsMode> {
  if (mode === 'symlink') {
    await fsp.symlink(src, dest);
    return 'symlink';
  }
  if (mode === 'link') {
    try {
      if (isDir) await linkTree(src, dest);
      else await fsp.link(src, dest);
      return 'link';
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw e;
      await fsp.rm(dest, { recursive: true, force: true });
    }
  }
  if (isDir) {
    await fsp.cp(src, dest, { recursive: true });
    makeWritable(dest);
  } else {
    await fsp.copyFile(src, dest, constants.COPYFILE_FICLONE);
    await fsp.chmod(dest, 0o644);
  }
  return 'copy';
}

async function linkTree(src: string, dest: string): Promise<void> {
  await fsp.mkdir(dest, { recursive: true });
  for (const e of await fsp.readdir(src, { withFileTypes: true })) {
    if (e.isDirectory()) await linkTree(join(src, e.name), join(dest, e.name));
    else await fsp.link(join(src, e.name), join(dest, e.name));
  }
}

type ViewStat = [string, number, number, number]; // relative path, inode, size, mtime

function viewStats(dest: string, mode: ArtifactsMode): ViewStat[] {
  if (mode === 'symlink') return [];
  const out: ViewStat[] = [];
  const visit = (p: string, rel: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p).sort()) visit(join(p, e), rel ? `${rel}/${e}` : e);
    else out.push([rel, st.ino, st.size, st.mtimeMs]);
  };
  visit(dest, '');
  return out;
}

/** Is the view as it was made (every file the same inode, size and mtime; a symlink still pointing into the store)? */
function viewIntact(dest: string, stat: string | null): boolean {
  if (!stat) return existsSync(dest); // a view made by an older pipe: presence only
  let rec: { mode: ArtifactsMode; files: ViewStat[] };
  try { rec = JSON.parse(stat); } catch { return false; }
  try {
    if (rec.mode === 'symlink') return lstatSync(dest).isSymbolicLink() && existsSync(dest);
    const now = viewStats(dest, rec.mode);
    return now.length === rec.files.length && now.every((f, i) => f[0] === rec.files[i]![0] && f[1] === rec.files[i]![1] && f[2] === rec.files[i]![2] && f[3] === rec.files[i]![3]);
  } catch {
    return false;
  }
}

function makeWritable(p: string): void {
  const st = statSync(p);
  if (st.isDirectory()) {
    chmodSync(p, 0o755);
    for (const e of readdirSync(p)) makeWritable(join(p, e));
  } else chmodSync(p, 0o644);
}
