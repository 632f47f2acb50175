/**
 * Runs as comparable records, through the real CLI on small real pipelines (a project `fit`
 * kind that writes per-epoch curves and returns test metrics): `pipe run --name`, `pipe runs`,
 * `pipe diff` (changed params and moved metrics only, goals, stages that reran and why, matrix
 * instances and groups, curves best vs last), CI gates and their exit codes, bad input, and the
 * migration of an older cache.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pipe, pipeWithEnv, write } from '../engine/helpers.js';
import { FIT_PIPELINE, GOALS, MATRIX_PIPELINE, toyProject } from './fixtures.js';

interface Row { id: string; key: string; kind: string; goal: string | null; instance: boolean; group: boolean; values: unknown[]; std?: (number | null)[]; n?: (number | null)[]; delta: (number | null)[]; pct: (number | null)[]; better: (boolean | null)[]; changed: boolean; paired?: ({ n: number; mean: number; ci: [number, number] | null; p_t: number | null; p_wilcoxon: number | null; p_sign_flip: number | null; p_adj: number | null } | null)[] }
interface DiffJson { runs: { id: number; name: string | null; overrides: string[]; git: { commit: string; dirty: boolean } | null }[]; rows: Row[]; stages: { from: number; to: number; same: number; differ: { stage: string; change: string; outcome: string; computedIn: number; reasons: { code: string; path?: string; text: string }[] }[] }[]; gate?: { passed: boolean; violations: string[] } }

async function ok(dir: string, ...args: string[]) {
  const r = await pipe(dir, ...args);
  expect(r.code, `pipe ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

async function diffJson(dir: string, ...args: string[]): Promise<DiffJson> {
  return JSON.parse((await ok(dir, 'diff', ...args, '--json')).stdout) as DiffJson;
}

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir, encoding: 'utf8' }).trim();

describe('two runs of a pipeline with --set', () => {
  let dir: string;
  let commit: string;
  beforeAll(async () => {
    dir = toyProject(FIT_PIPELINE(GOALS));
    git(dir, 'init', '-q');
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'init');
    commit = git(dir, 'rev-parse', 'HEAD');
    await ok(dir, 'run', 'p.yaml', '--name', 'base');
    write(dir, 'scratch.txt', 'untracked files do not make the tree dirty\n');
    await ok(dir, 'run', 'p.yaml', '--set', 'lr=0.2', '--name', 'lr-2e-1');
  }, 60_000);

  it('records file hash, params, overrides, git commit, per-stage outcomes and metrics', () => {
    const db = new Database(join(dir, 'cache', 'pipe.db'), { readonly: true });
    const rows = db.prepare('SELECT id, name, record, metrics, stages FROM runs ORDER BY id').all() as { id: number; name: string; record: string; metrics: Buffer; stages: Buffer }[];
    db.close();
    expect(rows.map((r) => r.name)).toEqual(['base', 'lr-2e-1']);
    const rec = JSON.parse(rows[1]!.record);
    expect(rec.fileHash).toBe(createHash('sha256').update(readFileSync(join(dir, 'p.yaml'))).digest('hex'));
    expect(rec.params).toEqual({ lr: 0.2, width: 8, label: 'base' });
    expect(rec.overrides).toEqual(['lr=0.2']);
    expect(rec.git).toEqual({ commit, dirty: false, branch: expect.any(String) });
    expect(rec.goals).toEqual({ test_accuracy: 'max', rmse: 'min', val_loss: 'min' });
    expect(rec.top['fit.test_accuracy'].v).toBeCloseTo(0.7 + 0.5 * 0.2 + 0.004 * 8, 10);
    expect(rec.top['fit.epochs_run']).toEqual({ v: 6 });
    const m = JSON.parse(inflateSync(rows[1]!.metrics).toString()); // stored deflated
    expect(m.metrics.fit.test_accuracy).toBe(rec.top['fit.test_accuracy'].v);
    expect(m.matrix).toEqual({});
    expect(rec.counts).toMatchObject({ ran: 1, cached: 2, failed: 0 });
    const st = JSON.parse(inflateSync(rows[1]!.stages).toString());
    expect(st.fit).toMatchObject({ o: 'ran', r: [{ code: 'params-changed', path: 'params.lr' }] });
    expect(st.fit.c).toMatch(/^[0-9a-f]{64}$/);
    expect(st.data).toMatchObject({ o: 'cached' });
    expect(st.note).toMatchObject({ o: 'cached' });
  });

  it('pipe diff (default: the last two runs) shows exactly the changed param and the metrics that moved, and which stage reran and why', async () => {
    const d = await diffJson(dir);
    expect(d.runs.map((r) => [r.id, r.name])).toEqual([[1, 'base'], [2, 'lr-2e-1']]);
    const changed = d.rows.filter((r) => r.changed).map((r) => r.id);
    // (val_accuracy has no goal: its curve is not summarised; epochs_run and p:width did not change)
    expect(changed).toEqual(['p:lr', 'm:rmse', 'm:test_accuracy', 'm:val_loss.best', 'm:val_loss.best_epoch', 'm:val_loss.last']);
    expect(d.rows.every((r) => r.changed)).toBe(true); // only differing rows without --all
    const acc = d.rows.find((r) => r.id === 'm:test_accuracy')!;
    expect(acc.goal).toBe('max');
    expect(acc.delta[0]).toBeCloseTo(0.05, 10);
    expect(acc.pct[0]).toBeCloseTo((0.05 / 0.782) * 100, 6);
    expect(acc.better).toEqual([true]);
    expect(d.rows.find((r) => r.id === 'm:rmse')!.better).toEqual([true]);
    // the curves: best validation loss is not the last one (the toy overfits after epoch 4)
    const best = d.rows.find((r) => r.id === 'm:val_loss.best')!;
    const last = d.rows.find((r) => r.id === 'm:val_loss.last')!;
    expect(best.values[1]).toBeLessThan(last.values[1] as number);
    expect(d.rows.find((r) => r.id === 'm:val_loss.best_epoch')!.values).toEqual([6, 5]);
    expect(d.stages).toHaveLength(1);
    expect(d.stages[0]!.same).toBe(2);
    expect(d.stages[0]!.differ).toMatchObject([{ stage: 'fit', change: 'changed', outcome: 'ran', computedIn: 2, reasons: [{ code: 'params-changed', path: 'params.lr', text: 'params.lr changed 0.1 → 0.2' }] }]);
    // --all adds the equal rows
    const all = await diffJson(dir, '--all');
    expect(all.rows.find((r) => r.id === 'p:width')).toMatchObject({ changed: false, values: [8, 8] });
  });

  it('pipe diff by names, text output with Δ and %Δ, and goal colours', async () => {
    const r = await pipeWithEnv(dir, { FORCE_COLOR: '1' }, 'diff', 'base', 'lr-2e-1');
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('m:test_accuracy'))!;
    expect(line).toContain('↑');
    expect(line).toContain('\x1b[32m+0.05\x1b[39m'); // better: green
    expect(line).toContain('+6.39%');
    expect(r.stdout).toMatch(/^ {2}fit {2}ran in #2 \(\d+\.\ds\): params\.lr changed 0\.1 → 0\.2$/m);
    expect(r.stdout).not.toMatch(/^p:width/m);
    const plain = await pipe(dir, 'diff', 'HEAD~1', 'HEAD');
    expect(plain.stdout).not.toContain('\x1b[');
    expect(plain.stdout).toContain('m:rmse ↓');
  });

  it('pipe runs: name, time, overrides, changed params and chosen metrics; --all, --keep, --drop, --sort-by, formats', async () => {
    const runs = JSON.parse((await ok(dir, 'runs', '--json')).stdout) as Record<string, unknown>[];
    expect(runs.map((r) => Object.keys(r))).toEqual([['run', 'name', 'time', 'overrides', 'p:lr', 'm:rmse', 'm:test_accuracy'], ['run', 'name', 'time', 'overrides', 'p:lr', 'm:rmse', 'm:test_accuracy']]);
    expect(runs[1]).toMatchObject({ run: 2, name: 'lr-2e-1', overrides: 'lr=0.2', 'p:lr': 0.2 });
    expect(typeof runs[1]!['m:test_accuracy']).toBe('number');
    // metrics without a goal (epochs_run) are not chosen; --all shows them and the constant params
    const all = JSON.parse((await ok(dir, 'runs', '--all', '--json')).stdout) as Record<string, unknown>[];
    expect(Object.keys(all[0]!)).toEqual(expect.arrayContaining(['state', 'git', 'p:width', 'p:label', 'm:epochs_run']));
    expect(all[0]!['git']).toBe(git(dir, 'rev-parse', 'HEAD').slice(0, 8));
    const kept = JSON.parse((await ok(dir, 'runs', '--keep', 'p:width', '--drop', 'm:rmse', '--sort-by', 'test_accuracy', '--sort-order', 'desc', '--json')).stdout) as Record<string, unknown>[];
    expect(kept.map((r) => r.run)).toEqual([2, 1]);
    expect(Object.keys(kept[0]!)).toEqual(['run', 'name', 'time', 'overrides', 'p:lr', 'p:width', 'm:test_accuracy']);
    const csv = (await ok(dir, 'runs', '--csv')).stdout.trim().split('\n');
    expect(csv[0]).toBe('run,name,time,overrides,p:lr,m:rmse,m:test_accuracy');
    expect(csv[2]).toMatch(/^#2,lr-2e-1,[\d-]+ [\d:]+,lr=0\.2,0\.2,0\.168,0\.832$/);
    const md = (await ok(dir, 'runs', '--md')).stdout.trim().split('\n');
    expect(md[0]).toBe('| run | name | time | overrides | p:lr | m:rmse | m:test_accuracy |');
    expect(md[1]).toBe('| --- | --- | --- | --- | --- | --- | --- |');
    const text = (await ok(dir, 'runs')).stdout.split('\n');
    expect(text[0]).toMatch(/^run\s+name\s+time\s+overrides\s+p:lr\s+m:rmse\s+m:test_accuracy$/);
    // too wide for the terminal: transposed (one row per column, one column per run)
    const narrow = await pipeWithEnv(dir, { COLUMNS: '50' }, 'runs');
    expect(narrow.stdout.split('\n')[0]).toMatch(/^column\s+#1\s+#2$/);
    expect(narrow.stdout).toMatch(/^m:test_accuracy\s+0\.782\s+0\.832$/m);
    expect((await ok(dir, 'runs', '--no-transpose')).stdout.split('\n')[0]).toMatch(/^run/);
    expect((await ok(dir, 'runs', '--transpose')).stdout.split('\n')[0]).toMatch(/^column/);
  });

  it('gates: --fail-if and --rtol/--atol set the exit code by the goal', async () => {
    // a third run that is worse: lower lr, lower accuracy, higher rmse; the working tree is now dirty
    write(dir, 'p.yaml', readFileSync(join(dir, 'p.yaml'), 'utf8') + '\n');
    await ok(dir, 'run', 'p.yaml', '--set', 'lr=0.05', '--name', 'lr-5e-2');
    const d = await diffJson(dir, 'lr-2e-1', 'lr-5e-2');
    expect(d.runs[1]!.git).toEqual({ commit, dirty: true, branch: expect.any(String) });
    expect(d.rows.find((r) => r.id === 'm:test_accuracy')!.better).toEqual([false]);
    const red = await pipeWithEnv(dir, { FORCE_COLOR: '1' }, 'diff', 'lr-2e-1', 'lr-5e-2');
    expect(red.stdout.split('\n').find((l) => l.startsWith('m:test_accuracy'))).toContain('\x1b[31m-0.075\x1b[39m');

    const improved = await pipe(dir, 'diff', 'base', 'lr-2e-1', '--fail-if', 'test_accuracy < -0.005');
    expect(improved.code, improved.stderr).toBe(0);
    expect(improved.stderr).toContain('gate passed (1 check)');
    const worse = await pipe(dir, 'diff', 'lr-2e-1', 'lr-5e-2', '--fail-if', 'test_accuracy < -0.005');
    expect(worse.code).toBe(1);
    expect(worse.stderr).toContain('fit.test_accuracy: Δ -0.075 < -0.005 (#2 lr-2e-1 → #3 lr-5e-2: 0.832 → 0.757)');
    // relative form
    expect((await pipe(dir, 'diff', 'lr-2e-1', 'lr-5e-2', '--fail-if', 'rmse > 50%')).code).toBe(0); // +44.6%
    expect((await pipe(dir, 'diff', 'lr-2e-1', 'lr-5e-2', '--fail-if', 'rmse > 40%')).code).toBe(1);
    // tolerance: worse by more than atol fails; better never fails; within tolerance passes
    expect((await pipe(dir, 'diff', 'base', 'lr-2e-1', '--atol', '0.001')).code).toBe(0);
    const tol = await pipe(dir, 'diff', 'lr-2e-1', 'lr-5e-2', '--atol', '0.001', '--json');
    expect(tol.code).toBe(1);
    expect((JSON.parse(tol.stdout) as DiffJson).gate!.violations.join('\n')).toMatch(/fit\.test_accuracy: 0\.832 → 0\.757 \(Δ -0\.075, goal max\)/);
    expect((await pipe(dir, 'diff', 'lr-2e-1', 'lr-5e-2', '--atol', '0.2')).code).toBe(0);
    // N-way: every later run against the first
    const three = await diffJson(dir, 'base', 'lr-2e-1', 'lr-5e-2');
    expect(three.rows.find((r) => r.id === 'p:lr')!.values).toEqual([0.1, 0.2, 0.05]);
    expect(three.rows.find((r) => r.id === 'm:test_accuracy')!.better).toEqual([true, false]);
    expect(three.stages.map((s) => [s.from, s.to])).toEqual([[1, 2], [1, 3]]);
    const n3 = await pipe(dir, 'diff', 'base', 'lr-2e-1', 'lr-5e-2', '--fail-if', 'test_accuracy < -0.005');
    expect(n3.code).toBe(1);
    expect(n3.stderr).toContain('gate failed (1 of 2 checks)');
  });

  it('bad input: unknown run, bad expression, unknown metric or column, bad or taken run name', async () => {
    const cases: [string[], RegExp][] = [
      [['diff', 'base', 'nope'], /no run 'nope' in pipeline 'toy'|no run 'nope'/],
      [['diff', 'lr-2e-l'], /no run 'lr-2e-l'.*did you mean 'lr-2e-1'/],
      [['diff', '#99', 'base'], /no run #99 in the cache/],
      [['diff', '--fail-if', 'test_accuracy <'], /--fail-if 'test_accuracy <': expected '<metric> <op> <number>'/],
      [['diff', '--fail-if', 'test_acc < 0'], /--fail-if 'test_acc < 0': no metric 'test_acc' in these runs.*metrics: /],
      [['diff', '--atol', 'x'], /--atol must be a non-negative number, got 'x'/],
      [['runs', '--sort-by', 'p:lrr'], /--sort-by 'p:lrr': no such column \(did you mean 'p:lr'\?\)/],
      [['runs', '--keep', 'm:nothing*'], /--keep 'm:nothing\*': no such column/],
      [['runs', 'other'], /no runs of pipeline 'other'/],
      [['run', 'p.yaml', '--name', 'base'], /--name 'base': run #1 of 'toy' already has this name/],
      [['run', 'p.yaml', '--name', '12'], /--name '12': a run name starts with a letter or digit/],
      [['run', 'p.yaml', '--name', 'a b'], /--name 'a b'/],
    ];
    for (const [args, re] of cases) {
      const r = await pipe(dir, ...args);
      expect(r.code, `pipe ${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  });
});

// each of these tests has its own project: they run side by side (the tests above share one
// project and its run history, in order)
describe.concurrent('runs of their own', { timeout: 240_000 }, () => {
  describe('a matrix pipeline: per instance and per group', () => {
    it('compares every instance and the groups (mean ± std), with --group-by and gates on group means', async () => {
      const dir = toyProject(MATRIX_PIPELINE);
      await ok(dir, 'run', 'p.yaml', '-q');
      await ok(dir, 'run', 'p.yaml', '-q', '--set', 'lr=0.12');
      const d = await diffJson(dir);
      const inst = d.rows.filter((r) => r.instance && r.key.endsWith('.test_accuracy'));
      expect(inst.map((r) => r.key).sort()).toEqual(['fit[width=16,fold=0]', 'fit[width=16,fold=1]', 'fit[width=16,fold=2]', 'fit[width=4,fold=0]', 'fit[width=4,fold=1]', 'fit[width=4,fold=2]'].map((k) => `${k}.test_accuracy`));
      for (const r of inst) expect(r.delta[0]).toBeCloseTo(0.01, 10);
      const g = d.rows.find((r) => r.key === 'fit.test_accuracy')!;
      expect(g).toMatchObject({ id: 'm:test_accuracy', group: true, instance: false, goal: 'max', n: [6, 6], better: [true] });
      const vals = inst.map((r) => r.values[0] as number);
      const mean = vals.reduce((a, b) => a + b, 0) / 6;
      const std = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / 5);
      expect(g.values[0]).toBeCloseTo(mean, 12);
      expect(g.std![0]).toBeCloseTo(std, 12);
      expect(d.stages[0]!.differ.map((s) => s.stage)).toHaveLength(6);
      expect(d.stages[0]!.same).toBe(1);

      const byWidth = await diffJson(dir, '--group-by', 'width');
      const groups = byWidth.rows.filter((r) => r.group && r.key.endsWith('.test_accuracy'));
      expect(groups.map((r) => [r.key, r.n])).toEqual([['fit[width=16].test_accuracy', [3, 3]], ['fit[width=4].test_accuracy', [3, 3]]]);
      expect(groups[0]!.values[0]).toBeCloseTo(inst.filter((r) => r.key.includes('width=16')).reduce((a, r) => a + (r.values[0] as number), 0) / 3, 12);

      // paired over the instances matched by id: every instance moved by exactly +0.01, so the
      // interval is that point and there is no t; per width group (Holm over the 2 groups) likewise
      expect(g.paired).toEqual([{ n: 6, mean: expect.closeTo(0.01, 12), ci: [expect.closeTo(0.01, 12), expect.closeTo(0.01, 12)], p_t: null, p_wilcoxon: expect.any(Number), p_sign_flip: 2 / 64, p_adj: null }]);
      expect(groups.map((r) => r.paired![0]!.n)).toEqual([3, 3]);
      const text = (await ok(dir, 'diff')).stdout;
      expect(text).toMatch(/^m:test_accuracy ↑ \(mean ± std, n=6\)\s+0\.795 ± 0\.02635\s+0\.805 ± 0\.02635\s+\+0\.01\s+\+1\.26%\s+\[\+0\.01, \+0\.01\] p=— n=6$/m);
      expect(text).toMatch(/^ {2}fit \(6 instances: fit\[width=4,fold=0\], fit\[width=4,fold=1\], fit\[width=4,fold=2\] and 3 more\) {2}ran in #2: params\.lr changed 0\.1 → 0\.12$/m);
      expect((await ok(dir, 'diff', '--no-instances')).stdout).not.toContain('fold=0].test_accuracy');
      // the gate looks at the group mean (+0.01), not at single instances unless named
      expect((await pipe(dir, 'diff', '--fail-if', 'test_accuracy < 0')).code).toBe(0);
      expect((await pipe(dir, 'diff', '--fail-if', 'test_accuracy > 0.005')).code).toBe(1);
      const one = await pipe(dir, 'diff', '--fail-if', 'fit[width=4,fold=1].test_accuracy >= 0.01');
      expect(one.code).toBe(1);
      expect(one.stderr).toContain('gate failed (1 of 1 check)');
      // pipe runs shows the group mean of the chosen metric
      const runs = JSON.parse((await ok(dir, 'runs', '--pool', '--json')).stdout) as Record<string, number>[];
      expect(runs[0]!['m:test_accuracy']).toBeCloseTo(mean, 12);
      const grouped = JSON.parse((await ok(dir, 'runs', '--group-by', 'width', '--json')).stdout) as Record<string, number>[];
      expect(grouped[1]!['m:fit[width=4].test_accuracy']).toBeCloseTo(groups[1]!.values[1] as number, 12);
      expect(grouped[1]!['m:fit[width=16].test_accuracy']).toBeCloseTo(groups[0]!.values[1] as number, 12);
    }, 240_000);
  });

  describe('run names', () => {
    it('a run that failed gives its name to the next run that asks for it; a done run keeps it', async () => {
      const dir = toyProject(FIT_PIPELINE(GOALS));
      const bad = await pipe(dir, 'run', 'p.yaml', '--set', 'label=x; exit 3', '--name', 'try');
      expect(bad.code).toBe(1);
      await ok(dir, 'run', 'p.yaml', '--name', 'try');
      const runs = JSON.parse((await ok(dir, 'runs', '--json', '--all')).stdout) as Record<string, unknown>[];
      expect(runs.map((r) => [r.run, r.name, r.state])).toEqual([[1, null, 'failed'], [2, 'try', 'done']]);
      const again = await pipe(dir, 'run', 'p.yaml', '--name', 'try');
      expect(again.code).toBe(2);
      expect(again.stderr).toContain("--name 'try': run #2 of 'toy' already has this name");
    }, 240_000);
  });

  describe('stages added to the pipeline or left out by --only', () => {
    it('names them in the diff, in text, JSON and Markdown', async () => {
      const dir = toyProject(FIT_PIPELINE(GOALS));
      await ok(dir, 'run', 'p.yaml');
      write(dir, 'p.yaml', FIT_PIPELINE(GOALS) + `  extra:\n    kind: command\n    params: {cmd: 'echo x > \${outputs.out}', outs: {out: text}}\n`);
      await ok(dir, 'run', 'p.yaml');
      await ok(dir, 'run', 'p.yaml', '--only', 'fit', '--set', 'lr=0.2');
      const d = await diffJson(dir, '1', '2', '3');
      expect(d.stages[0]!.differ.map((x) => [x.stage, x.change])).toEqual([['extra', 'added']]);
      expect(d.stages[1]!.differ.map((x) => [x.stage, x.change]).sort()).toEqual([['fit', 'changed'], ['note', 'removed']]);
      const text = (await ok(dir, 'diff', '1', '2', '3')).stdout;
      expect(text).toMatch(/^ {2}extra {2}ran in #2 \(\d+\.\ds\): not in #1 \(new in the pipeline, or left out by --only\)$/m);
      expect(text).toMatch(/^ {2}note {2}only in #1: not in #3 \(removed from the pipeline, or left out by --only\)$/m);
      const md = (await ok(dir, 'diff', '1', '3', '--md')).stdout.split('\n');
      expect(md[0]).toBe('| param / metric | #1 | #3 | Δ | %Δ |');
      expect(md).toContain('| p:lr | 0.1 | 0.2 | +0.1 | +100% |');
      expect(md.find((l) => l.startsWith('| m:test_accuracy ↑'))).toBe('| m:test_accuracy ↑ | 0.782 | **0.832** | +0.05 | +6.39% |');
      expect(md.filter((l) => /^- fit {2}ran in #3 \(\d+\.\ds\): params\.lr changed 0\.1 → 0\.2$/.test(l))).toHaveLength(1);
    }, 240_000);
  });

  describe('metric goals in the YAML and older caches', () => {
    it('rejects a bad goal at file:line:col', async () => {
      const dir = toyProject(FIT_PIPELINE('metrics:\n  test_accuracy: {goal: up}'));
      const r = await pipe(dir, 'run', 'p.yaml');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/p\.yaml:8:\d+: metrics\.test_accuracy\.goal must be one of "max", "min"/);
      const r2 = await pipe(dir, 'status', 'p.yaml');
      expect(r2.code).toBe(2);
      write(dir, 'p.yaml', FIT_PIPELINE('metrics:\n  test_accuracy: {goal: max, tol: 1}'));
      expect((await pipe(dir, 'status', 'p.yaml')).stderr).toMatch(/unknown field 'tol' in metrics\.test_accuracy/);
      write(dir, 'p.yaml', FIT_PIPELINE('metrics:\n  "test accuracy": {goal: max}'));
      expect((await pipe(dir, 'status', 'p.yaml')).stderr).toMatch(/p\.yaml:8:3: metrics: invalid metric name 'test accuracy'/);
    });

    it.each([2, 1])('migrates a schema-%i cache: old runs are listed, new runs recorded, diffing an old run says why it cannot', async (version) => {
      const dir = toyProject(FIT_PIPELINE(GOALS));
      await ok(dir, 'run', 'p.yaml');
      // turn the cache into what an older pipe wrote (schema 2: runs without name/record/metrics/stages; 1: also no code_files)
      const dbPath = join(dir, 'cache', 'pipe.db');
      const db = new Database(dbPath);
      db.exec('DROP INDEX runs_pipeline; ALTER TABLE runs DROP COLUMN name; ALTER TABLE runs DROP COLUMN record; ALTER TABLE runs DROP COLUMN metrics; ALTER TABLE runs DROP COLUMN stages;');
      if (version === 1) db.exec('DROP TABLE code_files');
      db.pragma(`user_version = ${version}`);
      db.close();
      const r = await ok(dir, 'run', 'p.yaml', '--set', 'lr=0.3', '--name', 'after');
      expect(r.stdout).toMatch(/1 ran, 2 cached, 0 failed/); // the cache itself survived
      const db2 = new Database(dbPath, { readonly: true });
      expect(db2.pragma('user_version', { simple: true })).toBe(4);
      expect((db2.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'code_files'").get() as { n: number }).n).toBe(1);
      db2.close();
      const runs = JSON.parse((await ok(dir, 'runs', '--json', '--all')).stdout) as Record<string, unknown>[];
      expect(runs.map((x) => [x.run, x.name, x.overrides])).toEqual([[1, null, null], [2, 'after', 'lr=0.3']]);
      expect(runs[0]!['p:lr']).toBeNull();
      const d = await pipe(dir, 'diff', '1', 'after');
      expect(d.code).toBe(2);
      expect(d.stderr).toContain('run #1 of \'toy\' was recorded by an older pipe and has no record of params and metrics');
      const def = await pipe(dir, 'diff');
      expect(def.code).toBe(2);
      expect(def.stderr).toContain("pipeline 'toy' has 1 recorded run(s); a diff needs two");
    });
  });
});
