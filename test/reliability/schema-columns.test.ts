/**
 * An index written by an earlier build of the same schema version, before an additive column
 * existed (views.stat), is completed when opened instead of failing later with "no such column".
 */
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheDb } from '../../src/engine/cache/db.js';

describe('cache index columns', () => {
  it('a version-4 index without views.stat gets the column on open and keeps its rows', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pipe-db-')), 'pipe.db');
    const fresh = new CacheDb(path);
    fresh.close();
    const raw = new Database(path);
    raw.exec('DROP TABLE views; CREATE TABLE views (pipeline TEXT NOT NULL, stage_id TEXT NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (pipeline, stage_id, name))');
    raw.prepare('INSERT INTO views VALUES (?, ?, ?, ?, ?)').run('p', 's', 'out', 'ab'.repeat(32), 'artifacts/p/s/out.txt');
    expect(raw.pragma('user_version', { simple: true })).toBe(4);
    raw.close();
    const db = new CacheDb(path);
    expect(db.getView('p', 's', 'out')).toMatchObject({ hash: 'ab'.repeat(32), path: 'artifacts/p/s/out.txt', stat: null });
    db.putView('p', 's', 'out', 'cd'.repeat(32), 'artifacts/p/s/out.txt', '{"size":1}');
    expect(db.getView('p', 's', 'out')).toMatchObject({ hash: 'cd'.repeat(32), stat: '{"size":1}' });
    db.close();
  });
});
