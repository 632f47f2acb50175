/**
 * pipelines/actmix_torch.yaml at smoke size (MAGIC from the mirror, 2 folds, 2 epochs): the
 * seed's ActMix in PyTorch as a Python stage and pipe's native ActMix on the same folds, one
 * results table, paired differences checked by hand from the per-fold metrics; the PyTorch stage's
 * curves, its local module in the code fingerprint and the torch version as a runtime fact.
 * Needs python3-torch (scripts/setup-system.sh --with-test-deps installs it).
 */
import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeWithEnv, project, repoRoot, summary } from '../engine/helpers.js';
import { readTable } from '../../src/sdk/table.js';
import { havePython } from '../helpers/requires.js';

const mirror = process.env.PIPE_DATA_MIRROR ?? join(repoRoot, '..', 'shared', 'datasets');

describe.skipIf(!havePython('torch', 'python3-torch', 'test/pipelines/actmix_torch'))('pipelines/actmix_torch.yaml', () => {
  it('trains ActMix in PyTorch and natively on the same folds, with paired differences', async () => {
    const dir = project({});
    cpSync(join(repoRoot, 'pipelines'), join(dir, 'pipelines'), { recursive: true });
    cpSync(join(repoRoot, 'scripts', 'actmix_torch'), join(dir, 'scripts', 'actmix_torch'), { recursive: true });
    const env = { PIPE_DATA_MIRROR: mirror, PIPE_PYTHON: '/usr/bin/python3' };
    const r = await pipeWithEnv(dir, env, 'run', 'pipelines/actmix_torch.yaml', '--set', 'folds=2', '--set', 'training.max_epochs=2', '--no-report');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(summary(r)).toEqual({ ran: 1 + 3 * 2 + 2 + 2 + 1, cached: 0, failed: 0 });
    const res = JSON.parse(readFileSync(join(dir, 'artifacts/actmix_torch/results/results.json'), 'utf8'));
    const by = Object.fromEntries(res.groups.map((g: { group: { impl: string }; metrics: Record<string, { mean: number; n: number }> }) => [g.group.impl, g.metrics]));
    expect(Object.keys(by).sort()).toEqual(['pipe', 'pytorch']);
    for (const m of Object.values(by) as Record<string, { mean: number; n: number }>[]) {
      expect(m.accuracy!.n).toBe(2);
      expect(m.accuracy!.mean).toBeGreaterThan(0.8);   // majority class: 64.8 %
      expect(m.roc_auc!.mean).toBeGreaterThan(0.85);
    }
    // the same recipe on the same data: the two implementations agree to within a point
    expect(Math.abs(by.pytorch.accuracy.mean - by.pipe.accuracy.mean)).toBeLessThan(0.01);
    const fold = (stage: string, impl: string, f: number) => JSON.parse(readFileSync(join(dir, `artifacts/actmix_torch/${stage}[fold=${f},impl=${impl}]/metrics.json`), 'utf8')).test;
    for (const metric of ['accuracy', 'roc_auc', 'log_loss']) {
      const d = [0, 1].map((f) => fold('torch', 'pytorch', f)[metric] - fold('native', 'pipe', f)[metric]);
      const mean = (d[0]! + d[1]!) / 2;
      const x = res.paired.find((y: { metric: string }) => y.metric === metric);
      expect(x).toMatchObject({ group: { impl: 'pytorch' }, baseline: { impl: 'pipe' }, n: 2 });
      expect(x.mean).toBeCloseTo(mean, 12);
    }
    expect(readFileSync(join(dir, 'artifacts/actmix_torch/results/table.md'), 'utf8')).toMatch(/Paired differences: \*\*impl=pytorch\*\* − each other impl[\s\S]*\n\| pipe \| [+−]\d/);
    const curves = await readTable(join(dir, 'artifacts/actmix_torch/torch[fold=0,impl=pytorch]/curves.arrow'));
    expect(curves.schema.fields.map((f) => f.name)).toEqual(['epoch', 'train_loss', 'val_loss', 'val_accuracy', 'temperature', 'mean_entropy']);
    expect(curves.numRows).toBe(2);
    const show = JSON.parse((await pipeWithEnv(dir, env, 'show', 'torch[fold=0,impl=pytorch]', '--json')).stdout);
    expect(Object.keys(show.fingerprintData.code)).toEqual(expect.arrayContaining(['scripts/actmix_torch/train.py', 'scripts/actmix_torch/actmix.py']));
    expect(show.fingerprintData.runtime['py:torch']).toMatch(/1\.13/);
    expect(show.metrics.test_accuracy).toBeCloseTo(fold('torch', 'pytorch', 0).accuracy, 12);
  }, 240_000);
});
