/**
 * artifacts/ as views of the store: hard links by default (no second copy; read-only like the
 * store), `PIPE_ARTIFACTS=copy` or `symlink` on request; a view edited, damaged or removed is
 * noticed by `pipe status` and put back by `pipe run` from the store, recomputing nothing.
 */
import { describe, expect, it } from 'vitest';
import { chmodSync, lstatSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pipe, pipeWithEnv, project, summary } from '../engine/helpers.js';

const PIPELINE = `
name: views
stages:
  a:
    kind: command
    params: {cmd: 'printf "hello" > \${outputs.out}', outs: {out: text}}
  b:
    kind: command
    inputs: {x: a.out}
    params: {cmd: 'mkdir -p \${outputs.d}/sub && cp \${inputs.x} \${outputs.d}/sub/copy.txt', outs: {d: dir}}
`;

const objectOf = (dir: string, content: string) => {
  const h = createHash('sha256').update(content).digest('hex');
  return join(dir, 'cache', 'objects', h.slice(0, 2), h);
};

describe('artifacts/ views', () => {
  it('PIPE_ARTIFACTS=link (the default but for root): hard links into the store, read-only; an edited one is noticed by status and restored by run', async () => {
    const dir = project({ 'p.yaml': PIPELINE });
    expect(summary(await pipeWithEnv(dir, { PIPE_ARTIFACTS: 'link' }, 'run', 'p.yaml'))).toEqual({ ran: 2, cached: 0, failed: 0 });
    const view = join(dir, 'artifacts/views/a/out.txt');
    const obj = objectOf(dir, 'hello');
    expect(statSync(view).ino).toBe(statSync(obj).ino); // one copy on disk
    expect(statSync(view).mode & 0o222).toBe(0); // read-only, like the store
    expect(readFileSync(join(dir, 'artifacts/views/b/d/sub/copy.txt'), 'utf8')).toBe('hello');

    // an editor that saves by writing a new file over the view
    rmSync(view);
    writeFileSync(view, 'edited');
    rmSync(join(dir, 'artifacts/views/b/d/sub/copy.txt'));
    const st = await pipe(dir, 'status', 'p.yaml');
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/a\s+fresh/);
    expect(st.stderr).toMatch(/2 file\(s\) under artifacts\/ were edited, damaged or removed since pipe wrote them: .*a\/out\.txt.*b\/d.*the next `pipe run` restores them/);
    const r = await pipeWithEnv(dir, { PIPE_ARTIFACTS: 'link' }, 'run', 'p.yaml');
    expect(summary(r)).toEqual({ ran: 0, cached: 2, failed: 0 });
    expect(readFileSync(view, 'utf8')).toBe('hello');
    expect(statSync(view).ino).toBe(statSync(obj).ino);
    expect(readFileSync(join(dir, 'artifacts/views/b/d/sub/copy.txt'), 'utf8')).toBe('hello');
    expect((await pipe(dir, 'status', 'p.yaml')).stderr).not.toMatch(/artifacts/);
  }, 60_000);

  it('PIPE_ARTIFACTS=copy gives writable copies (a damaged one is restored); symlink gives links into the store', async () => {
    const dir = project({ 'p.yaml': PIPELINE });
    expect(summary(await pipeWithEnv(dir, { PIPE_ARTIFACTS: 'copy' }, 'run', 'p.yaml'))).toEqual({ ran: 2, cached: 0, failed: 0 });
    const view = join(dir, 'artifacts/views/a/out.txt');
    expect(statSync(view).ino).not.toBe(statSync(objectOf(dir, 'hello')).ino);
    chmodSync(view, 0o644);
    writeFileSync(view, 'HELLO'); // damaged in place, same size
    expect((await pipe(dir, 'status', 'p.yaml')).stderr).toMatch(/1 file\(s\) under artifacts\/ were edited/);
    expect(summary(await pipeWithEnv(dir, { PIPE_ARTIFACTS: 'copy' }, 'run', 'p.yaml'))).toEqual({ ran: 0, cached: 2, failed: 0 });
    expect(readFileSync(view, 'utf8')).toBe('hello');

    const dir2 = project({ 'p.yaml': PIPELINE });
    expect(summary(await pipeWithEnv(dir2, { PIPE_ARTIFACTS: 'symlink' }, 'run', 'p.yaml'))).toEqual({ ran: 2, cached: 0, failed: 0 });
    const v2 = join(dir2, 'artifacts/views/a/out.txt');
    expect(lstatSync(v2).isSymbolicLink()).toBe(true);
    expect(readlinkSync(v2)).toBe(objectOf(dir2, 'hello'));
    const bad = await pipeWithEnv(dir2, { PIPE_ARTIFACTS: 'hardlink' }, 'run', 'p.yaml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('PIPE_ARTIFACTS=hardlink: expected link, copy or symlink');
  }, 60_000);
});
