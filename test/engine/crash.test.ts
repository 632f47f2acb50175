import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { codes, pipe, project, sleep, startPipe, statusOf, summary, doneCount, write } from './helpers.js';

const slow = (n: number, secs: number) => `name: slow
stages:
${Array.from({ length: n }, (_, i) => `  s${i}:
    kind: command
    params:
      cmd: sleep ${secs}; echo ${i} > \${outputs.out}
      outs: {out: text}
`).join('')}`;


function integrity(dir: string): string {
  const db = new Database(join(dir, 'cache/pipe.db'), { readonly: true });
  const r = db.pragma('integrity_check', { simple: true }) as string;
  db.close();
  return r;
}

// the tests mostly wait on their runs' stages and signals: they run side by side (each with a
// longer time limit: it shares the CPU with the others)
describe.concurrent('crash safety', { timeout: 180_000 }, () => {
  it('a stage process that dies mid-write records nothing and fails cleanly', async () => {
    const dir = project({
      'p.yaml': `name: crash
stages:
  ok:
    kind: command
    params: {cmd: 'echo fine > \${outputs.out}', outs: {out: text}}
  boom:
    kind: command
    inputs: {x: ok.out}
    params: {cmd: 'printf half-written > \${outputs.out}; kill -9 $PPID; sleep 5', outs: {out: text}}
`,
    });
    const r = await pipe(dir, 'run', 'p.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/boom failed: stage process killed by SIGKILL/);
    expect(summary(r)).toEqual({ ran: 1, cached: 0, failed: 1 });
    const st = await statusOf(dir, 'p.yaml');
    expect(st.ok!.state).toBe('fresh');
    expect(st.boom!.state).toBe('failed');
    expect(existsSync(join(dir, 'artifacts/crash/boom'))).toBe(false);
    // nothing of the half-written output is left in the store or temp area
    expect(readdirSync(join(dir, 'cache/tmp'))).toEqual([]);
    expect(integrity(dir)).toBe('ok');
    // the coordinator and the other worker survived: the next run keeps `ok`
    const r2 = await pipe(dir, 'run', 'p.yaml');
    expect(summary(r2)).toEqual({ ran: 0, cached: 1, failed: 1 });
  });

  it('coordinator killed with SIGKILL mid-run: the next run keeps every finished stage', async () => {
    const dir = project({ 'p.yaml': slow(6, 0.3) });
    const { child, done } = startPipe(dir, ['run', 'p.yaml', '--jobs', '1']);
    const t0 = Date.now();
    while (doneCount(dir) < 2 && Date.now() - t0 < 20000) await sleep(50);
    child.kill('SIGKILL');
    await done;
    const finished = doneCount(dir);
    expect(finished).toBeGreaterThanOrEqual(2);
    expect(finished).toBeLessThan(6);
    expect(integrity(dir)).toBe('ok');
    const st = await statusOf(dir, 'p.yaml');
    expect(Object.values(st).filter((s) => s.state === 'fresh').length).toBe(finished);
    const r = await pipe(dir, 'run', 'p.yaml', '--jobs', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(summary(r)).toEqual({ ran: 6 - finished, cached: finished, failed: 0 });
    expect(readdirSync(join(dir, 'cache/tmp'))).toEqual([]);
  });

  it('Ctrl-C stops running stages and records nothing half-done', async () => {
    const dir = project({ 'p.yaml': slow(2, 30) });
    const { child, done } = startPipe(dir, ['run', 'p.yaml', '--jobs', '2']);
    const t0 = Date.now();
    while (Date.now() - t0 < 20000) {
      await sleep(100);
      const db = existsSync(join(dir, 'cache/pipe.db')) ? new Database(join(dir, 'cache/pipe.db'), { readonly: true }) : null;
      let n = 0;
      try { n = db ? (db.prepare(`SELECT COUNT(*) AS n FROM executions WHERE state = 'running'`).get() as { n: number }).n : 0; } catch { /* schema not created yet */ }
      db?.close();
      if (n === 2) break;
    }
    child.kill('SIGINT');
    const r = await done;
    expect(Date.now() - t0).toBeLessThan(15000);
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/0 ran, 0 cached, 0 failed, 2 interrupted/);
    const st = await statusOf(dir, 'p.yaml');
    expect(codes(st.s0)).toEqual({ state: 'stale', codes: ['interrupted'] });
    expect(existsSync(join(dir, 'artifacts'))).toBe(false);
  });

  it('two runs of one pipeline: the second waits, or fails at once with --no-wait', async () => {
    // A's one stage waits on a gate file the test writes once C says it is waiting: B and C
    // start while A holds the lock however loaded the machine is
    const dir = project({});
    const gate = join(dir, 'gate');
    write(dir, 'p.yaml', `name: slow
stages:
  s0:
    kind: command
    params:
      cmd: while [ ! -e '${gate}' ]; do sleep 0.05; done; echo 0 > \${outputs.out}
      outs: {out: text}
`);
    const a = startPipe(dir, ['run', 'p.yaml']);
    const t0 = Date.now();
    while (Date.now() - t0 < 10000) {
      await sleep(50);
      if (!existsSync(join(dir, 'cache/pipe.db'))) continue;
      const db = new Database(join(dir, 'cache/pipe.db'), { readonly: true });
      let n = 0;
      try { n = (db.prepare('SELECT COUNT(*) AS n FROM locks').get() as { n: number }).n; } catch { /* schema not yet there */ }
      db.close();
      if (n) break;
    }
    const b = await pipe(dir, 'run', 'p.yaml', '--no-wait');
    expect(b.code).toBe(3);
    expect(b.stderr).toMatch(/another `pipe run` of 'slow' is in progress \(pid \d+/);
    const c = startPipe(dir, ['run', 'p.yaml']);
    let cErr = '';
    c.child.stderr!.on('data', (d) => (cErr += d));
    const t1 = Date.now();
    while (!cErr.includes('waiting for it to finish') && c.child.exitCode === null && Date.now() - t1 < 30000) await sleep(50);
    writeFileSync(gate, '');
    const [ra, rc] = await Promise.all([a.done, c.done]);
    expect(ra.code).toBe(0);
    expect(summary(ra)).toEqual({ ran: 1, cached: 0, failed: 0 });
    expect(rc.stderr).toContain('waiting for it to finish');
    expect(rc.code).toBe(0);
    expect(summary(rc)).toEqual({ ran: 0, cached: 1, failed: 0 });
  });
});
