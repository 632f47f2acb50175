/**
 * `pipe runs` defaults that do not mislead: metrics per group of the matrix keys (replicates
 * pooled, configurations not), no-op reruns folded into the run they repeat (×N), notes,
 * removing run records, and `pipe gc --keep-runs` pruning old records.
 */
import { describe, expect, it } from 'vitest';
import { pipe } from '../engine/helpers.js';
import { MATRIX_PIPELINE, toyProject } from './fixtures.js';

async function ok(dir: string, ...args: string[]) {
  const r = await pipe(dir, ...args);
  expect(r.code, `pipe ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}
const runsJson = async (dir: string, ...args: string[]) => JSON.parse((await ok(dir, 'runs', '--json', ...args)).stdout) as Record<string, unknown>[];

describe('pipe runs: groups, repeats, notes, rm, gc --keep-runs', () => {
  it('groups per matrix key, folds no-op reruns, notes and removes runs', async () => {
    const dir = toyProject(MATRIX_PIPELINE);
    await ok(dir, 'run', 'p.yaml', '-q');
    await ok(dir, 'run', 'p.yaml', '-q'); // nothing changed: #2 and #3 repeat #1
    await ok(dir, 'run', 'p.yaml', '-q');
    await ok(dir, 'run', 'p.yaml', '-q', '--set', 'lr=0.12');
    const rows = await runsJson(dir);
    expect(rows.map((r) => [r.run, r.repeats ?? null])).toEqual([[1, '2,3'], [4, null]]);
    // per width (fold is a replicate key, pooled): never one mean over both widths
    expect(Object.keys(rows[0]!).filter((k) => k.startsWith('m:')).sort()).toEqual(['m:fit[width=16].test_accuracy', 'm:fit[width=4].test_accuracy']);
    const pooled = await runsJson(dir, '--pool');
    expect(Object.keys(pooled[0]!).filter((k) => k.startsWith('m:'))).toEqual(['m:test_accuracy']);
    expect((await ok(dir, 'runs', '--no-transpose')).stdout).toMatch(/^#1 ×3 /m);
    expect((await ok(dir, 'runs')).stdout).toContain('2 rerun(s) that changed nothing folded into the run they repeat');
    expect((await runsJson(dir, '--every-run')).map((r) => r.run)).toEqual([1, 2, 3, 4]);

    // the compare page with curves per width (mean ± std over the folds)
    const cmp = await ok(dir, 'report', '--compare', '1', '4', '--group-by', 'width');
    const { readFileSync } = await import('node:fs');
    const page = readFileSync(`${dir}/${cmp.stdout.trim().replace(/^wrote /, '')}`, 'utf8');
    expect(page).toContain('mean over the instances per run and width, band ±1 std');
    expect(page).toContain('#4 · width=16');

    await ok(dir, 'runs', 'note', '4', 'lr 0.12: +0.01 everywhere');
    expect((await runsJson(dir)).map((r) => r.note ?? null)).toEqual([null, 'lr 0.12: +0.01 everywhere']);
    expect((await ok(dir, 'runs', 'rm', '2')).stdout).toBe('removed #2\n');
    expect((await runsJson(dir, '--every-run')).map((r) => r.run)).toEqual([1, 3, 4]);
    const gone = await pipe(dir, 'diff', '1', '2');
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('no run #2');
    // the cache is untouched: the next run is all cached
    expect((await ok(dir, 'run', 'p.yaml')).stdout).toMatch(/0 ran, 7 cached/);

    // gc --keep-runs 2: records of older runs go (a named run stays)
    await ok(dir, 'run', 'p.yaml', '-q', '--name', 'keeper', '--set', 'lr=0.2');
    await ok(dir, 'run', 'p.yaml', '-q', '--set', 'lr=0.3');
    await ok(dir, 'run', 'p.yaml', '-q', '--set', 'lr=0.4');
    expect((await ok(dir, 'gc', '--keep-runs', '2')).stdout).toMatch(/removed 4 run record\(s\) older than the last 2/);
    expect((await runsJson(dir, '--every-run')).map((r) => r.name ?? r.run)).toEqual(['keeper', 7, 8]);
    // plain gc keeps every record
    await ok(dir, 'gc');
    expect(await runsJson(dir, '--every-run')).toHaveLength(3);
  }, 120_000);
});
