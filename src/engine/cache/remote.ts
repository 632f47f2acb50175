/**
 * The remote cache: results shared across machines through a `dir` or `s3` backend
 * (src/lib/remote/). The remote needs no database — it is a content-addressed store plus one
 * small immutable manifest per fingerprint:
 *
 *   blobs/<h[0:2]>/<sha256>          the bytes of a file output (or of one file of a directory)
 *   trees/<h[0:2]>/<hash>.json       a directory output: its files (path, hash, size)
 *   results/<fp[0:2]>/<fp>.json      the result of a fingerprint: outputs with hashes, metrics,
 *                                    the fingerprint's data and the pipe version that made it
 *
 * A pusher writes blobs first, then trees, the manifest last (never replacing one), so a
 * manifest is only ever visible once everything it names is there, and concurrent pushers of
 * one result are safe (blobs are named by their content; identical manifests are idempotent).
 *
 * Nothing from the remote is trusted: a manifest must parse, name its own fingerprint and hash
 * to it; every blob is hashed after download and must match; a tree must hash to its directory
 * hash. Anything else is a miss with a warning, never a wrong result.
 */
import { mkdirSync, promises as fsp, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hashFile, type ContentHash } from '../../lib/hash.js';
import { RemoteError, type RemoteBackend } from '../../lib/remote/backend.js';
import { DirBackend } from '../../lib/remote/dir.js';
import { S3Backend } from '../../lib/remote/s3.js';
import type { RemoteSpec } from '../front/remotes.js';
import { fingerprint, type FingerprintData } from './fingerprint.js';
import type { ResultManifest } from './manifests.js';
import { manifestHash, type ManifestEntry, type ObjectStore } from './store.js';
import type { CacheDb } from './db.js';


/** The layout version of everything under results/, blobs/ and trees/. */
export const REMOTE_LAYOUT = 1;

export interface RemoteManifest extends Omit<ResultManifest, 'v'> {
  v: 1;
  layout: typeof REMOTE_LAYOUT;
  /** The pipe version that produced and pushed the result. */
  pipe: string;
}

export const resultKey = (fp: string) => `results/${fp.slice(0, 2)}/${fp}.json`;
export const blobKey = (h: string) => `blobs/${h.slice(0, 2)}/${h}`;
export const treeKey = (h: string) => `trees/${h.slice(0, 2)}/${h}.json`;

export function backendFor(name: string, spec: RemoteSpec, root: string): RemoteBackend {
  if (spec.type === 'dir') return new DirBackend(spec.path.startsWith('/') ? spec.path : join(root, spec.path));
  return new S3Backend(spec, name);
}

/** A usable remote result, or why the remote's copy cannot be used. */
export type Lookup = { found: true; manifest: RemoteManifest } | { found: false; problem?: string };

/** Runs at most `n` transfers at once. */
function limiter(n: number) {
  let active = 0;
  const q: (() => void)[] = [];
  return async <T>(f: () => Promise<T>): Promise<T> => {
    while (active >= n) await new Promise<void>((r) => q.push(r));
    active++;
    try {
      return await f();
    } finally {
      active--;
      q.shift()?.();
    }
  };
}

const SAFE_PATH = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[^\0]+$/;

export class RemoteCache {
  private readonly limit = limiter(8);
  /** Blobs found damaged on the remote: the next push of them overwrites instead of skipping. */
  private readonly damaged = new Set<string>();
  /** Fingerprints whose remote copy could not be used: a push repairs them. */
  private readonly broken = new Set<string>();

  constructor(readonly name: string, readonly backend: RemoteBackend, private readonly tmpRoot: string, readonly pushMode: 'auto' | 'manual' = 'auto', private readonly pipeVersion = '0') {}

  get where(): string {
    return this.backend.where;
  }

  check(): Promise<void> {
    return this.backend.check();
  }

  /** Is there a manifest for this fingerprint (not verified)? */
  has(fp: string): Promise<boolean> {
    return this.backend.exists(resultKey(fp));
  }

  /** The remote's manifest for a fingerprint, checked for consistency (not its blobs). */
  async lookup(fp: string): Promise<Lookup> {
    const r = await this.lookupRaw(fp);
    if (!r.found && r.problem) this.broken.add(fp);
    return r;
  }

  /** Marks a fingerprint whose remote result could not be fetched (the next push repairs it). */
  markBroken(fp: string): void {
    this.broken.add(fp);
  }

  private async lookupRaw(fp: string): Promise<Lookup> {
    const text = await this.backend.getText(resultKey(fp));
    if (text === null) return { found: false };
    let m: RemoteManifest;
    try {
      m = JSON.parse(text) as RemoteManifest;
    } catch {
      return { found: false, problem: `its manifest ${resultKey(fp)} is not valid JSON (truncated or damaged)` };
    }
    if (m?.v !== 1 || m.layout !== REMOTE_LAYOUT || m.fingerprint !== fp || !Array.isArray(m.outputs)) {
      return { found: false, problem: `its manifest ${resultKey(fp)} is not a pipe result manifest of layout ${REMOTE_LAYOUT} for this fingerprint` };
    }
    try {
      if (fingerprint(m.fpData as FingerprintData) !== fp) return { found: false, problem: `its manifest ${resultKey(fp)} does not hash to its fingerprint (edited or damaged)` };
    } catch {
      return { found: false, problem: `its manifest ${resultKey(fp)} has unreadable fingerprint data` };
    }
    for (const o of m.outputs) {
      if (typeof o?.hash !== 'string' || !/^[0-9a-f]{64}$/.test(o.hash) || typeof o.name !== 'string') return { found: false, problem: `its manifest ${resultKey(fp)} names an output without a valid hash` };
    }
    return { found: true, manifest: m };
  }

  /**
   * Downloads every output of a remote result into the local store, verifying each byte.
   * Returns a problem (and leaves the store as it was, bar objects fully verified) when any
   * blob is missing or does not match.
   */
  async fetch(m: RemoteManifest, store: ObjectStore): Promise<{ ok: true; bytes: number } | { ok: false; problem: string }> {
    const tmp = join(this.tmpRoot, `pull-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(tmp, { recursive: true });
    let bytes = 0;
    try {
      for (const o of m.outputs) {
        if (store.verify(o.hash) === 'ok') continue;
        const dest = join(tmp, o.name.replace(/[^\w.-]/g, '_'));
        if (o.is_dir) {
          const treeText = await this.backend.getText(treeKey(o.hash));
          if (treeText === null) return { ok: false, problem: `output '${o.name}' names directory ${o.hash.slice(0, 12)}…, whose tree is missing on the remote` };
          let entries: ManifestEntry[];
          try {
            entries = (JSON.parse(treeText) as ManifestEntry[]).map((e) => ({ path: e.path, hash: e.hash, size: e.size }));
          } catch {
            return { ok: false, problem: `the tree of output '${o.name}' is not valid JSON` };
          }
          if (manifestHash(entries) !== o.hash || !entries.every((e) => SAFE_PATH.test(e.path) && /^[0-9a-f]{64}$/.test(e.hash))) {
            return { ok: false, problem: `the tree of output '${o.name}' does not hash to ${o.hash.slice(0, 12)}…` };
          }
          mkdirSync(dest);
          const results = await Promise.all(entries.map((e) => this.limit(async () => {
            const p = join(dest, ...e.path.split('/'));
            mkdirSync(dirname(p), { recursive: true });
            return this.getBlob(e.hash, p, `output '${o.name}' file ${e.path}`);
          })));
          const bad = results.find((r) => r !== true);
          if (bad !== undefined) return { ok: false, problem: bad as string };
          store.put({ name: o.name, tmpPath: dest, isDir: true, hash: o.hash as ContentHash, size: o.size, manifest: entries });
        } else {
          const r = await this.limit(() => this.getBlob(o.hash, dest, `output '${o.name}'`));
          if (r !== true) return { ok: false, problem: r };
          store.put({ name: o.name, tmpPath: dest, isDir: false, hash: o.hash as ContentHash, size: o.size });
        }
        bytes += o.size;
      }
      return { ok: true, bytes };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** One blob to `dest`, hashed: true, or what is wrong with it. */
  private async getBlob(hash: string, dest: string, what: string): Promise<true | string> {
    if (!(await this.backend.download(blobKey(hash), dest))) return `${what}: blob ${hash.slice(0, 12)}… is missing on the remote`;
    const actual = await hashFile(dest);
    if (actual !== hash) {
      this.damaged.add(hash);
      return `${what}: blob ${hash.slice(0, 12)}… is damaged on the remote (its bytes hash to ${actual.slice(0, 12)}…)`;
    }
    return true;
  }

  /**
   * Uploads a local result: blobs (skipped when the remote has them), trees, then the manifest
   * (never replacing another pusher's). Returns the bytes uploaded.
   */
  async push(m: ResultManifest, store: ObjectStore, db: CacheDb): Promise<{ bytes: number; skipped: boolean }> {
    if (!this.broken.has(m.fingerprint) && (await this.backend.exists(resultKey(m.fingerprint)))) return { bytes: 0, skipped: true };
    let bytes = 0;
    const put = (hash: string, file: string, size: number) => this.limit(async () => {
      const force = this.damaged.has(hash);
      if (!force && (await this.backend.exists(blobKey(hash)))) return;
      await this.backend.upload(blobKey(hash), { file });
      this.damaged.delete(hash);
      bytes += size;
    });
    for (const o of m.outputs) {
      const path = store.path(o.hash);
      if (store.verify(o.hash) !== 'ok') throw new Error(`output '${o.name}' of ${m.stageId} is not in the local store (${o.hash.slice(0, 12)}…)`);
      if (o.is_dir) {
        const entries = await dirEntries(db, o.hash, path);
        await Promise.all(entries.map((e) => put(e.hash, join(path, ...e.path.split('/')), e.size)));
        await this.backend.upload(treeKey(o.hash), { bytes: JSON.stringify(entries) }, { ifAbsent: true });
      } else await put(o.hash, path, o.size);
    }
    const rm: RemoteManifest = { ...m, v: 1, layout: REMOTE_LAYOUT, pipe: this.pipeVersion };
    // a manifest found unusable is replaced; otherwise another pusher's stays
    await this.backend.upload(resultKey(m.fingerprint), { bytes: JSON.stringify(rm) }, { ifAbsent: !this.broken.has(m.fingerprint) || (await this.lookup(m.fingerprint)).found });
    this.broken.delete(m.fingerprint);
    return { bytes, skipped: false };
  }
}

/** The files of a stored directory object, from the index (or by hashing, when it has none). */
async function dirEntries(db: CacheDb, hash: string, path: string): Promise<ManifestEntry[]> {
  const row = db.getObject(hash);
  if (row?.manifest) {
    const entries = (JSON.parse(row.manifest) as ManifestEntry[]).map((e) => ({ path: e.path, hash: e.hash, size: e.size }));
    if (manifestHash(entries) === hash) return entries;
  }
  const out: ManifestEntry[] = [];
  const walk = async (d: string, rel: string) => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(join(d, e.name), r);
      else out.push({ path: r, hash: await hashFile(join(d, e.name)), size: (await fsp.stat(join(d, e.name))).size });
    }
  };
  await walk(path, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

export { RemoteError };
