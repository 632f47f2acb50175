import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadGraph } from '../../src/engine/front/pipeline.js';
import { runScope, StageSubset, wouldRun } from '../../src/engine/exec/subset.js';
import { pipe, project, summary } from './helpers.js';

// src → left, right → join; plus a matrix stage m[i] below src
const diamond = (a = 1) => `
name: sub
params: {a: ${a}}
stages:
  src:
    kind: command
    params: {cmd: 'echo source > \${outputs.out}', outs: {out: text}}
  left:
    kind: command
    inputs: {x: src.out}
    params: {cmd: '(cat \${inputs.x}; echo left \${params.a}) > \${outputs.out}', outs: {out: text}}
  right:
    kind: command
    inputs: {x: src.out}
    params: {cmd: '(cat \${inputs.x}; echo right) > \${outputs.out}', outs: {out: text}}
  join:
    kind: command
    inputs: {l: left.out, r: right.out}
    params: {cmd: 'cat \${inputs.l} \${inputs.r} > \${outputs.out}', outs: {out: text}}
  m:
    kind: command
    matrix: {i: [0, 1]}
    inputs: {x: src.out}
    params: {cmd: '(cat \${inputs.x}; echo \${matrix.i} \${params.a}) > \${outputs.out}', outs: {out: text}}
`;

const ranSet = (stderr: string) => stderr.split('\n').map((l) => /^✓ (\S+) \(/.exec(l)?.[1]).filter((x): x is string => !!x).sort();
const dryRunSet = (stdout: string) => stdout.split('\n').map((l) => /^would run (\S+?): /.exec(l)?.[1]).filter((x): x is string => !!x).sort();

// each test has its own project: they run side by side (each with a longer time limit: it
// shares the CPU with the others)
describe.concurrent('stage subsets', { timeout: 240_000 }, () => {
  it('are immutable graph operations', async () => {
    const dir = project({ 'p.yaml': diamond() });
    const g = await loadGraph(join(dir, 'p.yaml'));
    const left = StageSubset.named(g, ['left']);
    expect(left.withAncestors().ids()).toEqual(['src', 'left']);
    expect(left.withDescendants().ids()).toEqual(['left', 'join']);
    expect(left.ids()).toEqual(['left']); // unchanged
    expect(StageSubset.named(g, ['src']).downstream().ids().sort()).toEqual(['join', 'left', 'm[i=0]', 'm[i=1]', 'right']);
    expect(StageSubset.named(g, ['m']).ids()).toEqual(['m[i=0]', 'm[i=1]']);
    expect(StageSubset.named(g, ['m[i=1]', 'join']).withAncestors().ids().sort()).toEqual(['join', 'left', 'm[i=1]', 'right', 'src']);
    expect(left.union(StageSubset.named(g, ['right'])).intersect(StageSubset.named(g, ['right', 'join'])).ids()).toEqual(['right']);
    expect(StageSubset.all(g).minus(left.withDescendants()).size).toBe(4);
    expect(() => StageSubset.named(g, ['lefty'])).toThrow(/no stage 'lefty'.*did you mean 'left'/s);
    const scope = runScope(g, ['join'], ['src']);
    expect(scope.selection.ids()).toEqual(['src', 'left', 'right', 'join']);
    const states = new Map([['src', 'fresh'], ['left', 'stale'], ['right', 'fresh'], ['join', 'stale'], ['m[i=0]', 'stale'], ['m[i=1]', 'stale']]);
    expect(wouldRun(scope, states).ids()).toEqual(['src', 'left', 'join']);
  });

  // --dry-run must list exactly what the same run runs
  const combos: string[][] = [[], ['--only', 'left'], ['--only', 'join'], ['--only', 'm[i=1]'], ['--force', 'right'], ['--only', 'right', '--force', 'src'], ['--only', 'right'], ['--only', 'm', '--force', 'm[i=0]', '--force', 'left']];
  it.each(combos.map((c) => [c.join(' ') || '(no options)', c]))('--dry-run equals the run: %s', async (_name, extra) => {
    const dir = project({ 'p.yaml': diamond() });
    expect((await pipe(dir, 'run', 'p.yaml')).code).toBe(0);
    const args = ['p.yaml', '--set', 'a=5', ...(extra as string[])];
    const dry = await pipe(dir, 'run', ...args, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    const predicted = dryRunSet(dry.stdout);
    const r = await pipe(dir, 'run', ...args);
    expect(r.code, r.stderr).toBe(0);
    expect(ranSet(r.stderr)).toEqual(predicted);
    expect(summary(r).ran).toBe(predicted.length);
    expect(dry.stdout).toMatch(new RegExp(`^${predicted.length} would run, `, 'm'));
  });
});
