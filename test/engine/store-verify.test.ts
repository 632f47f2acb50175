/**
 * The object store's verification of an object touched since it was stored (its inode, size or
 * mtime no longer match the index): the content is re-hashed — intact → ok (and re-recorded),
 * changed → damaged and removed; a file past 2 GiB (where a whole-file read fails) is hashed in
 * pieces, checked against coreutils' sha256sum.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheDb } from '../../src/engine/cache/db.js';
import { hashOutput, ObjectStore } from '../../src/engine/cache/store.js';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-store-'));
  const db = new CacheDb(join(dir, 'pipe.db'));
  return { dir, db, store: new ObjectStore(dir, db) };
}

describe('object store verification', () => {
  it('a touched object is re-hashed: intact → ok, changed → damaged and removed', async () => {
    const { dir, db, store } = setup();
    try {
      for (const [name, text] of [['a', 'alpha\n'], ['b', 'beta\n']] as const) {
        writeFileSync(join(dir, name), text);
        store.put(await hashOutput(name, join(dir, name)));
      }
      const ha = (await hashOutput('x', (writeFileSync(join(dir, 'ra'), 'alpha\n'), join(dir, 'ra')))).hash;
      const hb = (await hashOutput('x', (writeFileSync(join(dir, 'rb'), 'beta\n'), join(dir, 'rb')))).hash;
      expect(store.verify(ha)).toBe('ok');
      utimesSync(store.path(ha), new Date(), new Date(Date.now() + 5000));  // touched, same bytes
      expect(store.verify(ha)).toBe('ok');
      expect(db.getObject(ha)!.mtime_ms).toBe(statSync(store.path(ha)).mtimeMs);  // re-recorded: the next check is a stat
      chmodSync(store.path(hb), 0o644);
      writeFileSync(store.path(hb), 'BETA\n');                                // same size, other bytes
      expect(store.verify(hb)).toBe('damaged');
      expect(existsSync(store.path(hb))).toBe(false);
      expect(db.getObject(hb)).toBeUndefined();
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a touched object over 2 GiB is hashed in pieces (same hash as sha256sum)', async () => {
    const { dir, db, store } = setup();
    try {
      const big = join(dir, 'big');
      const fd = openSync(big, 'w');
      ftruncateSync(fd, 2 ** 31 + 4096);   // sparse: reads as zeros, takes no disk
      closeSync(fd);
      const hash = execFileSync('sha256sum', [big], { encoding: 'utf8' }).split(' ')[0]!;
      // store it under the reference hash, as a stage's output would be
      store.put({ name: 'big', tmpPath: big, isDir: false, hash: hash as never, size: 2 ** 31 + 4096 });
      utimesSync(store.path(hash), new Date(), new Date(Date.now() + 5000));
      expect(store.verify(hash)).toBe('ok');
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
