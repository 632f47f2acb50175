/**
 * `pipe runs` defaults that do not mislead: metrics per group of the matrix keys (replicates
 * pooled, configurations not), no-op reruns folded into the run they repeat (×N), notes,
 * removing run records, `pipe gc --keep-runs` pruning old records, and the compare page grouped.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipe, statusOf } from '../engine/helpers.js';
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
    const text = (await ok(dir, 'runs', '--no-transpose')).stdout;
    expect(text).toMatch(/^#1 ×3 /m);
    expect(text).toContain('2 rerun(s) that changed nothing folded into the run they repeat');
    expect((await runsJson(dir, '--every-run')).map((r) => r.run)).toEqual([1, 2, 3, 4]);

    // the compare page with curves per width (mean ± std over the folds)
    const cmp = await ok(dir, 'report', '--compare', '1', '4', '--group-by', 'width');
    const page = readFileSync(join(dir, cmp.stdout.trim().replace(/^wrote /, '')), 'utf8');
    expect(page).toContain('mean over the instances per run and width, band ±1 std');
    expect(page).toContain('#4 · width=16');

    await ok(dir, 'runs', 'note', '4', 'lr 0.12: +0.01 everywhere');
    expect((await runsJson(dir)).map((r) => r.note ?? null)).toEqual([null, 'lr 0.12: +0.01 everywhere']);
    expect((await ok(dir, 'runs', 'rm', '2')).stdout).toBe('removed #2\n');
    expect((await runsJson(dir, '--every-run')).map((r) => r.run)).toEqual([1, 3, 4]);
    const gone = await pipe(dir, 'diff', '1', '2');
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('no run #2');

    // gc --keep-runs 1: the records of older runs go; the cached results stay (nothing is stale)
    const gc = (await ok(dir, 'gc', '--keep-runs', '1')).stdout;
    expect(gc).toMatch(/^deleted \d+ object/);
    expect(gc).toContain('removed 2 run record(s) older than the last 1 of each pipeline');
    expect((await runsJson(dir, '--every-run')).map((r) => r.run)).toEqual([4]);
    expect(Object.values(await statusOf(dir, 'p.yaml', '--set', 'lr=0.12')).every((x) => x.state === 'fresh')).toBe(true);
  }, 240_000);
});
