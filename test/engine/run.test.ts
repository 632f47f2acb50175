import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { codes, pipe, pipeWithEnv, project, repoRoot, statusOf, summary, write } from './helpers.js';

const diamond = (p: { a?: number; b?: number; bcmd?: string } = {}) => `
name: diamond
params:
  a: ${p.a ?? 1}
  b: ${p.b ?? 2}
stages:
  src:
    kind: command
    params:
      cmd: echo source > \${outputs.out}
      outs: {out: text}
  left:
    kind: command
    inputs: {x: src.out}
    params:
      cmd: (cat \${inputs.x}; echo left \${params.a}) > \${outputs.out}
      outs: {out: text}
  right:
    kind: command
    inputs: {x: src.out}
    params:
      cmd: ${p.bcmd ?? '(cat ${inputs.x}; echo right ${params.b}) > ${outputs.out}'}
      outs: {out: text}
  join:
    kind: command
    inputs: {l: left.out, r: right.out}
    params:
      cmd: cat \${inputs.l} \${inputs.r} > \${outputs.out}
      outs: {out: text}
`;

// each test has its own project: they run side by side (each with a longer time limit: it
// shares the CPU with the others)
describe.concurrent('pipe run: caching and recompute', { timeout: 240_000 }, () => {
  it('runs a diamond DAG, then recomputes only what a param change affects', async () => {
    const dir = project({ 'p.yaml': diamond() });
    const r1 = await pipe(dir, 'run', 'p.yaml');
    expect(r1.code, r1.stderr).toBe(0);
    expect(summary(r1)).toEqual({ ran: 4, cached: 0, failed: 0 });
    expect(readFileSync(join(dir, 'artifacts/diamond/join/out.txt'), 'utf8')).toBe('source\nleft 1\nsource\nright 2\n');

    const r2 = await pipe(dir, 'run', 'p.yaml');
    expect(summary(r2)).toEqual({ ran: 0, cached: 4, failed: 0 });

    // change a: left and join recompute, src and right stay cached
    const st = await statusOf(dir, 'p.yaml', '--set', 'a=5');
    expect(st.src!.state).toBe('fresh');
    expect(st.right!.state).toBe('fresh');
    expect(st.left!.state).toBe('stale');
    expect(st.left!.reasons).toMatchObject([{ code: 'params-changed', path: 'params.cmd', change: 'changed', before: '(cat ${inputs.x}; echo left 1) > ${outputs.out}', after: '(cat ${inputs.x}; echo left 5) > ${outputs.out}' }]);
    expect(st.join!.state).toBe('stale');
    expect(st.join!.reasons).toMatchObject([{ code: 'upstream-stale', upstream: [{ stage: 'left', input: 'l', state: 'stale' }] }]);

    const r3 = await pipe(dir, 'run', 'p.yaml', '--set', 'a=5');
    expect(summary(r3)).toEqual({ ran: 2, cached: 2, failed: 0 });
    expect(readFileSync(join(dir, 'artifacts/diamond/join/out.txt'), 'utf8')).toContain('left 5');

    // going back to a=1 is a pure cache hit (results are content-addressed, not "latest only")
    const r4 = await pipe(dir, 'run', 'p.yaml');
    expect(summary(r4)).toEqual({ ran: 0, cached: 4, failed: 0 });
    expect(readFileSync(join(dir, 'artifacts/diamond/join/out.txt'), 'utf8')).toContain('left 1');
  });

  it('early cutoff: a re-executed stage with byte-identical output keeps its dependents cached', async () => {
    const dir = project({ 'p.yaml': diamond() });
    expect((await pipe(dir, 'run', 'p.yaml')).code).toBe(0);
    // a different command that writes exactly the same bytes
    write(dir, 'p.yaml', diamond({ bcmd: 'printf "source\\nright 2\\n" > ${outputs.out}' }));
    const st = await statusOf(dir, 'p.yaml');
    expect(st.right!.state).toBe('stale');
    const r = await pipe(dir, 'run', 'p.yaml');
    expect(summary(r)).toEqual({ ran: 1, cached: 3, failed: 0 });
  });

  it('expands a matrix, matches instances on shared keys and gathers them', async () => {
    const dir = project({
      'p.yaml': `
name: sweep
params:
  folds: 3
stages:
  data:
    kind: command
    matrix: {ds: [a, b]}
    params: {cmd: 'echo \${matrix.ds} > \${outputs.out}', outs: {out: text}}
  split:
    kind: command
    matrix: {ds: [a, b], fold: {range: '\${params.folds}'}}
    inputs: {d: data.out}
    params: {cmd: '(cat \${inputs.d}; echo fold \${matrix.fold}) > \${outputs.out}', outs: {out: text}}
  train:
    kind: command
    matrix: {ds: [a, b], fold: {range: '\${params.folds}'}, model: [relu, gelu]}
    inputs: {s: split.out}
    params: {cmd: '(cat \${inputs.s}; echo \${matrix.model}) > \${outputs.out}', outs: {out: text}}
  per_ds:
    kind: command
    matrix: {ds: [a, b]}
    inputs: {runs: 'train[*].out'}
    params: {cmd: 'cat \${inputs.runs} | wc -l > \${outputs.out}', outs: {out: text}}
  one:
    kind: command
    inputs: {r: 'train[ds=b,fold=1,model=gelu].out'}
    params: {cmd: 'cp \${inputs.r} \${outputs.out}', outs: {out: text}}
`,
    });
    const r = await pipe(dir, 'run', 'p.yaml', '--jobs', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(summary(r)).toEqual({ ran: 2 + 6 + 12 + 2 + 1, cached: 0, failed: 0 });
    // per_ds[ds=a] gathered exactly the 6 train instances of ds=a, 3 lines each
    expect(readFileSync(join(dir, 'artifacts/sweep/per_ds[ds=a]/out.txt'), 'utf8').trim()).toBe('18');
    expect(readFileSync(join(dir, 'artifacts/sweep/one/out.txt'), 'utf8')).toBe('b\nfold 1\ngelu\n');
    // fewer folds via --set: the surviving instances are cached
    const r2 = await pipe(dir, 'run', 'p.yaml', '--set', 'folds=2');
    expect(summary(r2)).toEqual({ ran: 2, cached: 2 + 4 + 8 + 1, failed: 0 });
  });

  it('--dry-run, --only and --force', async () => {
    const dir = project({ 'p.yaml': diamond() });
    const dry = await pipe(dir, 'run', 'p.yaml', '--dry-run');
    expect(dry.stdout).toContain('would run join: never run');
    expect(dry.stdout).toContain('4 would run');
    expect(existsSync(join(dir, 'artifacts'))).toBe(false);
    const only = await pipe(dir, 'run', 'p.yaml', '--only', 'left');
    expect(summary(only)).toEqual({ ran: 2, cached: 0, failed: 0 });
    const forced = await pipe(dir, 'run', 'p.yaml', '--force', 'src');
    // src re-executes with identical output: everything below it stays cached
    expect(summary(forced)).toEqual({ ran: 3, cached: 1, failed: 0 });
    const bad = await pipe(dir, 'run', 'p.yaml', '--only', 'lfet');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("did you mean 'left'");
  });

  it('a failing stage: exit 1, dependents skipped, --keep-going runs independent work, status says failed', async () => {
    const dir = project({ 'p.yaml': diamond({ bcmd: 'echo boom >&2; exit 3' }) });
    const r = await pipe(dir, 'run', 'p.yaml', '--jobs', '1', '--keep-going');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/2 ran, 0 cached, 1 failed, 1 skipped/);
    expect(r.stderr).toContain('command exited with code 3');
    const st = await statusOf(dir, 'p.yaml');
    expect(st.right!.state).toBe('failed');
    expect(st.right!.reasons[0]).toMatchObject({ code: 'failed-before' });
    expect(st.right!.reasons[0]!.error).toContain('exited with code 3');
    expect(st.left!.state).toBe('fresh');
    const show = await pipe(dir, 'show', 'right');
    expect(show.stdout).toContain('boom');
    expect(show.stdout).toContain('state:       failed');
  });

  it('deleted and corrupted artifacts are misses, never hits', async () => {
    const dir = project({ 'p.yaml': diamond() });
    expect((await pipe(dir, 'run', 'p.yaml')).code).toBe(0);
    const db = new Database(join(dir, 'cache/pipe.db'), { readonly: true });
    const hashOf = (stage: string) => (db.prepare(`SELECT o.hash FROM outputs o JOIN executions e ON e.id = o.execution_id WHERE e.stage_id = ? ORDER BY e.id DESC LIMIT 1`).get(stage) as { hash: string }).hash;
    const obj = (h: string) => join(dir, 'cache/objects', h.slice(0, 2), h);
    const leftHash = hashOf('left');
    const rightHash = hashOf('right');
    db.close();
    rmSync(obj(leftHash));
    chmodSync(obj(rightHash), 0o644);
    writeFileSync(obj(rightHash), 'tampered\n');
    const st = await statusOf(dir, 'p.yaml');
    expect(st.left!.reasons).toEqual([{ code: 'output-missing', output: 'out', text: 'output out missing' }]);
    expect(st.right!.state).toBe('stale');
    expect(st.right!.reasons).toMatchObject([{ code: 'output-corrupt', output: 'out' }]);
    const r = await pipe(dir, 'run', 'p.yaml');
    // left and right recompute to the same bytes, so join stays cached
    expect(summary(r)).toEqual({ ran: 2, cached: 2, failed: 0 });
    expect(readFileSync(obj(rightHash), 'utf8')).toBe('source\nright 2\n');
  });

  it('invalidate with and without --downstream', async () => {
    const dir = project({ 'p.yaml': diamond() });
    expect((await pipe(dir, 'run', 'p.yaml')).code).toBe(0);
    const inv = await pipe(dir, 'invalidate', 'p.yaml', 'left');
    expect(inv.code, inv.stderr).toBe(0);
    let st = await statusOf(dir, 'p.yaml');
    expect(codes(st.left)).toEqual({ state: 'stale', codes: ['invalidated'] });
    expect(st.join!.state).toBe('stale');
    let r = await pipe(dir, 'run', 'p.yaml');
    expect(summary(r)).toEqual({ ran: 1, cached: 3, failed: 0 }); // join: early cutoff
    // without a pipeline argument the latest run's pipeline is used
    expect((await pipe(dir, 'invalidate', 'src', '--downstream')).code).toBe(0);
    st = await statusOf(dir, 'p.yaml');
    expect(Object.values(st).map((s) => s.state)).toEqual(['stale', 'stale', 'stale', 'stale']);
    r = await pipe(dir, 'run', 'p.yaml');
    expect(summary(r)).toEqual({ ran: 4, cached: 0, failed: 0 });
  });

  it('status without a file lists pipelines; graph draws ascii, dot and mermaid', async () => {
    const dir = project({ 'p.yaml': diamond() });
    await pipe(dir, 'run', 'p.yaml');
    const list = await pipe(dir, 'status');
    expect(list.stdout).toMatch(/^diamond\s+p\.yaml\s+1 runs/m);
    const ascii = await pipe(dir, 'graph', 'p.yaml');
    expect(ascii.stdout).toContain('join');
    expect(ascii.stdout).toContain('← left, right');
    const dot = await pipe(dir, 'graph', '--format', 'dot');
    expect(dot.stdout).toContain('"left" -> "join"');
    const mm = await pipe(dir, 'graph', 'p.yaml', '--format', 'mermaid');
    expect(mm.stdout).toMatch(/^flowchart LR/);
    expect(mm.stdout).toContain('src --> left');
  });

  it('PIPE_ARTIFACTS=copy: views are copies, editing one does not touch the cache', async () => {
    const dir = project({ 'p.yaml': diamond() });
    await pipeWithEnv(dir, { PIPE_ARTIFACTS: 'copy' }, 'run', 'p.yaml');
    const view = join(dir, 'artifacts/diamond/src/out.txt');
    writeFileSync(view, 'edited');
    const r = await pipeWithEnv(dir, { PIPE_ARTIFACTS: 'copy' }, 'run', 'p.yaml');
    expect(summary(r)).toEqual({ ran: 0, cached: 4, failed: 0 });
    expect(readdirSync(join(dir, 'cache/objects')).length).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'artifacts/diamond/join/out.txt'), 'utf8')).toBe('source\nleft 1\nsource\nright 2\n');
  });

  it('pipe report and graph --format html render from the cache without running', async () => {
    const dir = project({ 'p.yaml': diamond() });
    await pipe(dir, 'run', 'p.yaml');
    const r = await pipe(dir, 'report', 'p.yaml');
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(dir, 'artifacts/diamond/report/index.html'), 'utf8');
    for (const id of ['src', 'left', 'right', 'join']) expect(html).toContain(id);
    expect(readFileSync(join(dir, 'artifacts/diamond/report/REPORT.md'), 'utf8')).toContain('diamond');
    const g = await pipe(dir, 'graph', 'p.yaml', '--format', 'html');
    expect(g.stdout).toMatch(/^<!DOCTYPE html>/);
    expect(g.stdout).toContain('join');
    // nothing ran
    expect(summary(await pipe(dir, 'run', 'p.yaml'))).toEqual({ ran: 0, cached: 4, failed: 0 });
  });

  it('gc deletes only objects no longer referenced by recent runs', async () => {
    const dir = project({ 'p.yaml': diamond() });
    await pipe(dir, 'run', 'p.yaml');
    await pipe(dir, 'run', 'p.yaml', '--set', 'a=7');
    const keep2 = await pipe(dir, 'gc', '--keep-runs', '2');
    expect(keep2.stdout).toMatch(/^deleted 0 object/);
    const gc = await pipe(dir, 'gc', '--keep-runs', '1');
    // the a=1 outputs of left and join are gone; src and right are still used
    expect(gc.stdout).toMatch(/^deleted 2 object\(s\)/);
    const st = await statusOf(dir, 'p.yaml');
    expect(codes(st.left)).toEqual({ state: 'stale', codes: ['output-missing'] });
    expect(summary(await pipe(dir, 'run', 'p.yaml', '--set', 'a=7'))).toEqual({ ran: 0, cached: 4, failed: 0 });
  });

  it('command deps: editing a declared script makes its stage stale, and says so', async () => {
    const dir = project({
      'scripts/make.sh': 'echo v1\n',
      'p.yaml': `name: deps
stages:
  make:
    kind: command
    params:
      cmd: sh scripts/make.sh > \${outputs.out}
      deps: [scripts/make.sh]
      outs: {out: text}
`,
    });
    expect(summary(await pipe(dir, 'run', 'p.yaml'))).toEqual({ ran: 1, cached: 0, failed: 0 });
    write(dir, 'scripts/make.sh', 'echo v2\n');
    const st = await statusOf(dir, 'p.yaml');
    expect(st.make!.reasons).toMatchObject([{ code: 'file-changed', file: 'scripts/make.sh', change: 'changed' }]);
    expect(summary(await pipe(dir, 'run', 'p.yaml'))).toEqual({ ran: 1, cached: 0, failed: 0 });
    expect(readFileSync(join(dir, 'artifacts/deps/make/out.txt'), 'utf8')).toBe('v2\n');
    write(dir, 'p.yaml', readFileSync(join(dir, 'p.yaml'), 'utf8').replace('deps: [scripts/make.sh]', 'deps: [scripts/nope.sh]'));
    const bad = await pipe(dir, 'run', 'p.yaml');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("dependency file 'scripts/nope.sh' does not exist");
  });

  it('nonResultParams (a download mirror, timeouts) are not part of the fingerprint', async () => {
    const mirror = process.env.PIPE_DATA_MIRROR ?? join(repoRoot, '..', 'shared', 'datasets');
    const dir = project({
      'p.yaml': `name: dl
params: {timeout: 60}
stages:
  data:
    kind: download-uci
    params: {dataset: magic, mirror: '${mirror}', timeout: '\${params.timeout}'}
`,
    });
    expect(summary(await pipe(dir, 'run', 'p.yaml'))).toEqual({ ran: 1, cached: 0, failed: 0 });
    const st = await statusOf(dir, 'p.yaml', '--set', 'timeout=5');
    expect(st.data!.state).toBe('fresh');
    expect((await pipe(dir, 'show', 'data', '--json')).stdout).not.toContain('"mirror"');
  });
});
