/**
 * pipelines/infomax_sweep.yaml through the CLI at a tiny size (2 activations × K 8 × 2 seeds,
 * 2 epochs on 1,000 MNIST rows): every stage runs, summary.csv has one row per activation, and
 * adding a third activation to the matrix runs only that activation's new train runs (plus the
 * analysis stages that gather them); the `train-infomax` kind on synthetic_2d (n = 2).
 */
import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipe, project, repoRoot, summary } from '../engine/helpers.js';
import { runStageDirect } from '../../src/engine/exec/context.js';
import generate from '../../src/stages/generate-synthetic.js';
import split from '../../src/stages/split.js';
import trainInfomax from '../../src/stages/train-infomax.js';
import { blasStatus } from '../../src/lib/ml/blas/native.js';

const mirror = process.env.PIPE_DATA_MIRROR ?? join(repoRoot, '..', 'shared', 'datasets');

const wouldRunTrain = (stdout: string) => [...stdout.matchAll(/would run (train\[[^\]]*\]): (.*)/g)].map((m) => `${m[1]}: ${m[2]}`).sort();

describe('pipelines/infomax_sweep.yaml', () => {
  it('runs the sweep matrix and the analysis; a seventh activation runs only its new runs', async () => {
    const dir = project({});
    cpSync(join(repoRoot, 'pipelines'), join(dir, 'pipelines'), { recursive: true });
    process.env.PIPE_DATA_MIRROR = mirror;
    const base = ['--set', 'hidden=[8]', '--set', 'seeds=[1,2]', '--set', 'training.epochs=2', '--set', 'train_rows=1000', '--set', 'test_rows=300', '--set', 'metrics_every=1'];
    const r = await pipe(dir, 'run', 'pipelines/infomax_sweep.yaml', '--set', 'activations=[relu,tanh]', ...base);
    expect(r.code, r.stderr).toBe(0);
    // mnist, 4 train, 2 aggregates, 1 box + 1 scatter (one K), 2 curves, report
    expect(summary(r)).toMatchObject({ ran: 1 + 4 + 2 + 2 + 2 + 1, failed: 0 });
    const csv = readFileSync(join(dir, 'artifacts/infomax_sweep/summary/csv.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^activation,runs,.*eff_rank_mean,eff_rank_std/);
    expect(csv.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['relu,2', 'tanh,2']);
    const seven = ['--set', 'activations=[relu,tanh,sigmoid]', ...base];
    const dry = await pipe(dir, 'run', 'pipelines/infomax_sweep.yaml', '--dry-run', ...seven);
    expect(dry.code, dry.stderr).toBe(0);
    expect(wouldRunTrain(dry.stdout)).toEqual(['train[activation=sigmoid,hidden=8,seed=1]: never run', 'train[activation=sigmoid,hidden=8,seed=2]: never run']);
    const r2 = await pipe(dir, 'run', 'pipelines/infomax_sweep.yaml', ...seven);
    expect(r2.code, r2.stderr).toBe(0);
    // the 2 new runs, their curves figure, and the stages that gather every run
    expect(summary(r2)).toMatchObject({ ran: 2 + 1 + 2 + 2 + 1, cached: 1 + 4 + 2, failed: 0 });
    expect(readFileSync(join(dir, 'artifacts/infomax_sweep/summary/csv.csv'), 'utf8')).toMatch(/\nsigmoid,2,/);
  }, 120_000);
});

describe('train-infomax on synthetic_2d', () => {
  it('trains on the 8-cluster data (n = 2): rank and redundancy at their n = 2 floors, losses fall', async () => {
    const g = await runStageDirect(generate, { params: { generator: 'synthetic_2d', per_cluster: 200 }, seed: 42 });
    const s = await runStageDirect(split, { params: { method: 'holdout', test_fraction: 0.2, val_fraction: 0, shuffle: false }, inputs: { table: g.outputs.table! } });
    const r = await runStageDirect(trainInfomax, {
      params: { model: { activation: 'tanh', hidden: 16 }, training: { epochs: 15, batch_size: 64 }, metrics_every: 5, backend: blasStatus().available ? 'blas' : 'cpu' },
      inputs: { train: s.outputs.train!, test: s.outputs.test! }, seed: 3,
    });
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    expect(m).toMatchObject({ n_features: 2, n_train: 1280, n_test: 320, hidden: 16, epochs: 15 });
    // rank ≤ 2 with n = 2; 16 unit vectors in the plane: ‖ŴŴᵀ − I‖² ≥ K²/2 − K = 112
    expect(m.final.eff_rank).toBeGreaterThan(1);
    expect(m.final.eff_rank).toBeLessThanOrEqual(2 + 1e-9);
    expect(m.final.erank_rv).toBeGreaterThanOrEqual(m.final.eff_rank);
    expect(m.final.weight_redundancy).toBeGreaterThan(112 - 1e-6);
    const { readTable } = await import('../../src/sdk/table.js');
    const curves = await readTable(r.outputs.curves!);
    const total = curves.getChild('train_total')!.toArray() as Float64Array;
    expect(total[14]).toBeLessThan(total[0]!);
    const er = curves.getChild('test_eff_rank')!.toArray() as Float64Array;
    expect([er[4], er[9], er[14]].every((x) => Number.isFinite(x))).toBe(true);
    expect(Number.isNaN(er[0])).toBe(true);   // metrics only every 5 epochs
  }, 30_000);
});

describe('a decoded table is shared by the stages of one process', () => {
  it('decodes once per content hash, never hands a stage data another stage scaled, and matches an uncached run', async () => {
    const { makeTable, fixedListVector, numericVector, writeTable, featureMatrix, readTable } = await import('../../src/sdk/table.js');
    const { decodeStats, clearDecoded } = await import('../../src/lib/decoded.js');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'pipe-decoded-'));
    const n = 300, d = 12;
    const px = new Float32Array(n * d);
    for (let i = 0; i < px.length; i++) px[i] = ((i * 7919) % 255) + (i % d);
    const meta = { target: 'label', task: 'classification' as const, classes: ['a', 'b'] };
    const table = makeTable({ image: fixedListVector(px, d), label: numericVector('int32', Array.from({ length: n }, (_, i) => i % 2)) }, meta);
    const path = join(dir, 'images.arrow');
    await writeTable(path, table);

    // the view shares the table's memory and names the features like the copy does
    const read = await readTable(path);
    const view = featureMatrix(read, { view: true }), copy = featureMatrix(read);
    expect(view.X.buffer).toBe((read.getChild('image')!.data[0]!.children[0]!.values as Float32Array).buffer);
    expect(copy.X.buffer).not.toBe(view.X.buffer);
    expect(Array.from(view.X)).toEqual(Array.from(px));
    expect(view.featureNames).toEqual(copy.featureNames);

    const ref = (hash: string) => ({ path, hash, from: 'images', output: 'table', matrix: {} });
    const run = async (hash: string) => {
      const r = await runStageDirect(trainInfomax, {
        params: { model: { activation: 'tanh', hidden: 4 }, training: { epochs: 3, batch_size: 50 }, input_scale: 1 / 255, metrics_every: 3, backend: blasStatus().available ? 'blas' : 'cpu' },
        inputs: { train: ref(hash), test: ref(hash) }, seed: 11,
      });
      // everything but the timings
      return JSON.stringify(JSON.parse(readFileSync(r.outputs.metrics!, 'utf8')), (k, v) => (/seconds?$/.test(k) ? undefined : v));
    };
    clearDecoded();
    const first = await run('h-images');
    expect(decodeStats).toMatchObject({ misses: 1, hits: 1 }); // train decoded, test the same artifact
    const second = await run('h-images');
    expect(decodeStats).toMatchObject({ misses: 1, hits: 3 });
    // scaled in place, the shared matrix would have been 1/255² the second time
    expect(second).toBe(first);
    expect(await run('')).toBe(first); // no hash: decoded afresh, not cached
    expect(decodeStats).toMatchObject({ misses: 1, hits: 3 });
  }, 30_000);
});
