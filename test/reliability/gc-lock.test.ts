/**
 * `pipe gc` beside running pipelines: gc takes the workspace exclusively (runs share it), so it
 * never removes an object that a recorded output or a running stage refers to, whatever the
 * interleaving; `--no-wait` exits 3 while a run holds the workspace.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipe, project, startPipe, statusOf, sleep } from '../engine/helpers.js';

// a chain and a fan-in, each stage reading what the one before produced (an ENOENT on a removed
// object fails the run); `salt` changes every output so every round writes new objects
const PIPELINE = `
name: gcrace
params: {salt: 0}
stages:
  a:
    kind: command
    matrix: {i: {range: 4}}
    params: {cmd: 'echo a\${matrix.i}-\${params.salt} > \${outputs.out}', outs: {out: text}}
  b:
    kind: command
    matrix: {i: {range: 4}}
    inputs: {x: a.out}
    params: {cmd: 'cat \${inputs.x} > \${outputs.out}; echo b >> \${outputs.out}', outs: {out: text}}
  c:
    kind: command
    inputs: {all: 'b[*].out'}
    params: {cmd: 'cat \${inputs.all} > \${outputs.out}', outs: {out: text}}
`;

describe('gc and runs share the workspace safely', () => {
  it('gc in a loop beside runs (15+ gc passes, 6+ runs): no run fails, every recorded output is present afterwards', async () => {
    const dir = project({ 'p.yaml': PIPELINE });
    let stop = false;
    let gcRuns = 0;
    const gcFailures: string[] = [];
    const gcLoop = (async () => {
      while (!stop) {
        const r = await pipe(dir, 'gc', '--keep-runs', '0');
        gcRuns++;
        if (r.code !== 0) gcFailures.push(`exit ${r.code}: ${r.stderr}`);
      }
    })();
    const runs: { code: number | null; out: string }[] = [];
    let salt = 0;
    // at least 6 runs and 15 gc passes beside them (bounded: at most 30 runs)
    while (salt < 6 || (gcRuns < 15 && salt < 30)) {
      salt++;
      const r = await pipe(dir, 'run', 'p.yaml', '--set', `salt=${salt}`);
      runs.push({ code: r.code, out: r.stdout + r.stderr });
      const st = await statusOf(dir, 'p.yaml', '--set', `salt=${salt}`);
      expect(Object.values(st).every((s) => s.state === 'fresh'), JSON.stringify(st)).toBe(true);
      expect(readFileSync(join(dir, 'artifacts/gcrace/c/out.txt'), 'utf8')).toBe([0, 1, 2, 3].map((i) => `a${i}-${salt}\nb\n`).join(''));
    }
    stop = true;
    await gcLoop;
    for (const r of runs) expect(r.code, r.out).toBe(0);
    expect(gcFailures).toEqual([]);
    expect(gcRuns).toBeGreaterThanOrEqual(15);
    // and after the last gc the latest results are all still there
    const st = await statusOf(dir, 'p.yaml', '--set', `salt=${salt}`);
    expect(Object.values(st).map((s) => s.state)).toEqual(Array(9).fill('fresh'));
  }, 240_000);

  it('gc waits for a running pipeline (or exits 3 with --no-wait), and a run waits for gc', async () => {
    // the stage runs until the test releases it (a gate file), so nothing depends on timing
    const dir = project({
      'p.yaml': `
name: slow
stages:
  s:
    kind: command
    params: {cmd: 'while [ ! -f release ]; do sleep 0.05; done; echo done > \${outputs.out}', outs: {out: text}}
`,
    });
    const run = startPipe(dir, ['run', 'p.yaml']);
    for (let i = 0; i < 300 && !existsSync(join(dir, 'cache', 'pipe.db')); i++) await sleep(100);
    let nowait = await pipe(dir, 'gc', '--no-wait');
    for (let i = 0; i < 100 && nowait.code === 0; i++) { await sleep(100); nowait = await pipe(dir, 'gc', '--no-wait'); } // until the run holds the lock
    expect(nowait.code, nowait.stderr).toBe(3);
    expect(nowait.stderr).toMatch(/a run of 'slow' \(pid \d+ on .*\) is using the workspace; not waiting/);
    const gcp = startPipe(dir, ['gc', '--keep-runs', '0']);
    let gcErr = '';
    // (a gc that ended without waiting resolves this too, and fails the checks below)
    await new Promise<void>((resolve) => { gcp.child.stderr!.on('data', (d) => { gcErr += d; if (/waiting/.test(gcErr)) resolve(); }); void gcp.done.then(() => resolve()); });
    writeFileSync(join(dir, 'release'), '');
    const gc = await gcp.done;
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stderr).toMatch(/waiting/);
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    const st = await statusOf(dir, 'p.yaml');
    expect(st.s!.state).toBe('fresh');
  }, 60_000);
});
