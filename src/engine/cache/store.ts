/**
 * The content-addressed artifact store: cache/objects/<h[0:2]>/<hash> (a file, or a directory
 * for `dir` outputs). Objects are renamed into place from a temp path on the same filesystem
 * (atomic) and made read-only *before* the SQLite row that points at them is written.
 *
 * Verification is cheap by default: the (size, inode, mtime) recorded when the object was
 * stored must still match; anything else triggers a re-hash, and a mismatch makes the object
 * "damaged" (deleted, so the stage recomputes). A missing object is a miss, never a hit.
 */
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative, sep } from 'node:path';
import { hashFile, sha256, type ContentHash } from '../../lib/hash.js';
import type { CacheDb, ObjectRow } from './db.js';

export interface ManifestEntry {
  /** Path relative to the directory, '/'-separated. */
  path: string;
  hash: string;
  size: number;
}

export interface HashedOutput {
  name: string;
  /** Where the stage wrote it (temp). */
  tmpPath: string;
  isDir: boolean;
  hash: ContentHash;
  size: number;
  manifest?: ManifestEntry[];
}

export type ObjectState = 'ok' | 'missing' | 'damaged';

/** Hash of a directory = sha256 of its canonical manifest (sorted relative paths + file hashes). */
export function manifestHash(entries: ManifestEntry[]): ContentHash {
  const lines = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((e) => `${e.hash}  ${e.path}\n`);
  return sha256('pipe-dir-v1\n' + lines.join('')) as ContentHash;
}

function walk(dir: string, base = dir, out: string[] = []): string[] {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) walk(p, base, out);
    else if (ent.isFile()) out.push(p);
    else if (ent.isSymbolicLink()) throw new Error(`output directory contains a symlink (${relative(base, p)}); write real files`);
  }
  return out;
}

/** Hashes a written output (file or directory). Runs in the worker process. */
export async function hashOutput(name: string, path: string): Promise<HashedOutput> {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    throw new Error(`output '${name}' was not written (expected at ${path})`);
  }
  if (st.isDirectory()) {
    const files = walk(path).sort();
    const manifest: ManifestEntry[] = [];
    let size = 0;
    for (const f of files) {
      const s = statSync(f);
      manifest.push({ path: relative(path, f).split(sep).join('/'), hash: await hashFile(f), size: s.size });
      size += s.size;
    }
    return { name, tmpPath: path, isDir: true, hash: manifestHash(manifest), size, manifest };
  }
  if (!st.isFile()) throw new Error(`output '${name}' at ${path} is not a regular file or directory`);
  return { name, tmpPath: path, isDir: false, hash: await hashFile(path), size: st.size };
}

export class ObjectStore {
  readonly root: string;
  constructor(cacheDir: string, private db: CacheDb) {
    this.root = join(cacheDir, 'objects');
    mkdirSync(this.root, { recursive: true });
  }

  path(hash: string): string {
    // a hash is [0-9a-f]{64}: no separator to normalize (1,000s of these per no-op run)
    return `${this.root}/${hash.slice(0, 2)}/${hash}`;
  }

  /** Moves a hashed output into the store (or drops it when an intact copy is already there). */
  put(o: HashedOutput): void {
    const dest = this.path(o.hash);
    if (existsSync(dest) && this.verify(o.hash) === 'ok') {
      rmSync(o.tmpPath, { recursive: true, force: true });
      return;
    }
    mkdirSync(join(this.root, o.hash.slice(0, 2)), { recursive: true });
    rmSync(dest, { recursive: true, force: true });
    renameSync(o.tmpPath, dest);
    this.db.putObject(this.describe(o.hash, dest, o.isDir, o.manifest));
  }

  private describe(hash: string, dest: string, isDir: boolean, manifest?: ManifestEntry[]): ObjectRow {
    if (isDir) {
      const stats = (manifest ?? []).map((m) => {
        const p = join(dest, ...m.path.split('/'));
        chmodSync(p, 0o444);
        const s = statSync(p);
        return { ...m, ino: s.ino, mtime_ms: s.mtimeMs };
      });
      return { hash, is_dir: 1, size: stats.reduce((a, s) => a + s.size, 0), ino: 0, mtime_ms: 0, manifest: JSON.stringify(stats) };
    }
    chmodSync(dest, 0o444);
    const s = statSync(dest);
    return { hash, is_dir: 0, size: s.size, ino: s.ino, mtime_ms: s.mtimeMs, manifest: null };
  }

  /**
   * Is the object present and intact? Damaged objects are removed. `known` is the store's row of
   * it when the caller read it already (bulk hit checks); `null` means it has none.
   */
  verify(hash: string, known?: ObjectRow | null): ObjectState {
    const p = this.path(hash);
    let st: Stats;
    try {
      st = statSync(p);
    } catch {
      return 'missing';
    }
    const row = known === undefined ? this.db.getObject(hash) : known ?? undefined;
    if (st.isDirectory()) {
      const entries = row?.manifest ? (JSON.parse(row.manifest) as (ManifestEntry & { ino: number; mtime_ms: number })[]) : null;
      if (entries) {
        let fast = true;
        for (const e of entries) {
          try {
            const s = statSync(join(p, ...e.path.split('/')));
            if (s.size !== e.size || s.ino !== e.ino || s.mtimeMs !== e.mtime_ms) { fast = false; break; }
          } catch {
            fast = false;
            break;
          }
        }
        if (fast && walk(p).length === entries.length) return 'ok';
      }
      return this.rehashDir(hash, p);
    }
    if (row && row.size === st.size && row.ino === st.ino && row.mtime_ms === st.mtimeMs) return 'ok';
    return this.rehashFile(hash, p);
  }

  private rehashFile(hash: string, p: string): ObjectState {
    // synchronous re-hash: rare path (object touched since it was stored)
    const actual = sha256FileSync(p);
    if (actual === hash) {
      this.db.putObject(this.describe(hash, p, false));
      return 'ok';
    }
    this.discard(hash, p);
    return 'damaged';
  }

  private rehashDir(hash: string, p: string): ObjectState {
    const files = walk(p).sort();
    const manifest: ManifestEntry[] = files.map((f) => ({ path: relative(p, f).split(sep).join('/'), hash: sha256FileSync(f), size: statSync(f).size }));
    if (manifestHash(manifest) === hash) {
      this.db.putObject(this.describe(hash, p, true, manifest));
      return 'ok';
    }
    this.discard(hash, p);
    return 'damaged';
  }

  private discard(hash: string, p: string): void {
    rmSync(p, { recursive: true, force: true });
    this.db.deleteObject(hash);
  }
}

/**
 * sha256 of a file read in 8 MiB pieces: synchronous (a rare path, verification of an object
 * touched since it was stored) but for files of any size — a whole-file read fails past 2 GiB.
 */
function sha256FileSync(p: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(8 << 20);
  const fd = openSync(p, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** Content hash of a project file or directory, cached by (size, inode, mtime). */
export async function hashProjectPath(db: CacheDb, root: string, rel: string): Promise<ContentHash | null> {
  const abs = join(root, rel);
  let st: Stats;
  try {
    st = statSync(abs);
  } catch {
    return null;
  }
  if (st.isDirectory()) {
    const files = walk(abs).sort();
    const manifest: ManifestEntry[] = [];
    for (const f of files) {
      const r = relative(root, f);
      manifest.push({ path: relative(abs, f).split(sep).join('/'), hash: (await hashProjectPath(db, root, r))!, size: 0 });
    }
    return manifestHash(manifest);
  }
  const c = db.getFileHash(abs);
  if (c && c.size === st.size && c.mtime_ms === st.mtimeMs && c.ino === st.ino) return c.hash as ContentHash;
  const h = await hashFile(abs);
  db.putFileHash(abs, st.size, st.mtimeMs, st.ino, h);
  return h;
}
