/**
 * The database is an index, the store the truth: a damaged or lost cache/pipe.db is detected by
 * every command (a message naming the file and the repair command, exit 2, no stack trace, never
 * "fresh" from an index it cannot read), and `pipe doctor --repair` rebuilds it from the store's
 * manifests with nothing recomputed.
 */
import { describe, expect, it, vi } from 'vitest';
import { closeSync, openSync, readdirSync, rmSync, statSync, truncateSync, utimesSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pipe, project, statusOf, summary } from '../engine/helpers.js';

const PIPELINE = `
name: dmg
stages:
  a:
    kind: command
    matrix: {i: {range: 3}}
    params: {cmd: 'echo a\${matrix.i} > \${outputs.out}', outs: {out: text}}
  b:
    kind: command
    inputs: {all: 'a[*].out'}
    params: {cmd: 'cat \${inputs.all} > \${outputs.out}', outs: {out: text}}
`;

const damage: Record<string, (db: string) => void> = {
  'tail overwritten': (db) => {
    const size = statSync(db).size;
    const fd = openSync(db, 'r+');
    const n = Math.min(8 * 4096, size - 4096);
    writeSync(fd, randomBytes(n), 0, n, size - n);
    closeSync(fd);
  },
  truncated: (db) => truncateSync(db, statSync(db).size - 8192),
  deleted: (db) => { for (const ext of ['', '-wal', '-shm']) rmSync(db + ext, { force: true }); },
};

// each test has its own project: they run side by side (each with a longer time limit: it
// shares the CPU with the others)
describe.concurrent('a damaged or lost cache index', { timeout: 180_000 }, () => {
  it.each(Object.keys(damage))('%s: every command says so and how to repair; repair rebuilds it from the store and nothing recomputes', async (how) => {
    const dir = project({ 'p.yaml': PIPELINE });
    const first = await pipe(dir, 'run', 'p.yaml');
    expect(summary(first)).toEqual({ ran: 4, cached: 0, failed: 0 });
    const db = join(dir, 'cache', 'pipe.db');
    damage[how]!(db);

    for (const args of [['status', 'p.yaml'], ['run', 'p.yaml'], ['runs', 'p.yaml'], ['show', 'p.yaml', 'b']]) {
      const r = await pipe(dir, ...args);
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/the cache index .*pipe\.db cannot be used: .*\n.*Your results are safe in the store.*\n.*npx pipe doctor --repair/);
      expect(r.stderr, args.join(' ')).not.toMatch(/internal error|\n\s+at /);
      expect(r.stdout).not.toMatch(/fresh/);
    }
    const doc = await pipe(dir, 'doctor');
    expect(doc.stdout).toMatch(/DEGRADED\s+cache\s.*\n\s+fix: npx pipe doctor --repair/);

    const rep = await pipe(dir, 'doctor', '--repair');
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.stdout).toMatch(/rebuilt .*pipe\.db from the store: 4 result\(s\) of dmg/);
    if (how !== 'deleted') expect(readdirSync(join(dir, 'cache')).some((f) => f.startsWith('pipe.db.damaged-'))).toBe(true);

    const st = await statusOf(dir, 'p.yaml');
    expect(Object.values(st).map((s) => s.state)).toEqual(['fresh', 'fresh', 'fresh', 'fresh']);
    const again = await pipe(dir, 'run', 'p.yaml');
    expect(summary(again)).toEqual({ ran: 0, cached: 4, failed: 0 });
  }, 180_000);

  it('the page check runs when the index changed outside pipe, and is skipped when pipe left it as it is', async () => {
    const { Workspace } = await import('../../src/engine/cache/workspace.js');
    const { CacheDb } = await import('../../src/engine/cache/db.js');
    const dir = project({ 'p.yaml': PIPELINE });
    expect(summary(await pipe(dir, 'run', 'p.yaml'))).toEqual({ ran: 4, cached: 0, failed: 0 });
    const checks = vi.spyOn(CacheDb.prototype, 'quickCheck');
    try {
      const open = () => { const ws = new Workspace(dir); void ws.db; ws.close(); };
      open();
      expect(checks).toHaveBeenCalledTimes(0);          // as the run left it
      const db = join(dir, 'cache', 'pipe.db');
      const t = statSync(db).mtime;
      utimesSync(db, t, new Date(t.getTime() + 1000));   // touched by something else
      open();
      expect(checks).toHaveBeenCalledTimes(1);
      open();                                            // and stamped again after that check
      expect(checks).toHaveBeenCalledTimes(1);
      rmSync(join(dir, 'cache', 'pipe.db.checked'));      // no stamp: checked
      open();
      expect(checks).toHaveBeenCalledTimes(2);
    } finally {
      checks.mockRestore();
    }
  }, 180_000);
});
