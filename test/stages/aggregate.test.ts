import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStageDirect, type InputRef } from '../../src/engine/exec/context.js';
import { readTable } from '../../src/sdk/table.js';
import aggregate from '../../src/stages/aggregate.js';

describe('aggregate', () => {
  it('mean, population std, min, max per metric per group, from matrix keys or JSON fields', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-agg-'));
    const runs: InputRef[] = [];
    const data: [string, number, number][] = [['relu', 0, 0.8], ['relu', 1, 0.9], ['relu', 2, 0.85], ['gelu', 0, 0.7], ['gelu', 1, 0.9]];
    for (const [model, fold, acc] of data) {
      const path = join(dir, `${model}-${fold}.json`);
      writeFileSync(path, JSON.stringify({ dataset: 'magic', test: { accuracy: acc, f1_macro: acc - 0.1 }, note: 'x' }));
      runs.push({ path, hash: '', from: `train[fold=${fold},model=${model}]`, output: 'metrics', matrix: { fold, model } });
    }
    const r = await runStageDirect(aggregate, { params: { group_by: ['dataset', 'model'] }, inputs: { runs } });
    const res = JSON.parse(readFileSync(r.outputs.results!, 'utf8'));
    expect(res.groups.map((g: { group: unknown }) => g.group)).toEqual([{ dataset: 'magic', model: 'gelu' }, { dataset: 'magic', model: 'relu' }]);
    const relu = res.groups[1].metrics.accuracy;
    expect(relu.mean).toBeCloseTo(0.85, 12);
    expect(relu.std).toBeCloseTo(Math.sqrt((0.05 ** 2 + 0.05 ** 2 + 0) / 3), 12); // population std
    expect([relu.min, relu.max, relu.n]).toEqual([0.8, 0.9, 3]);
    expect(res.groups[0].metrics.accuracy.std).toBeCloseTo(0.1, 12);
    const md = readFileSync(r.outputs.table!, 'utf8');
    expect(md).toContain('| dataset | model | runs | accuracy | f1_macro |');
    expect(md).toContain('| magic | relu | 3 | 0.8500 ± 0.0408 | 0.7500 ± 0.0408 |');
    const t = await readTable(r.outputs.summary!);
    expect(t.numRows).toBe(4);
    expect(t.getChild('metric')!.toArray()).toEqual(['accuracy', 'f1_macro', 'accuracy', 'f1_macro']);
  });

  it('numeric group values sort as numbers (K = 6, 12, 24, 48), text as text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-agg-'));
    const runs: InputRef[] = [48, 6, 24, 12].flatMap((K) => ['tanh', 'relu'].map((act) => {
      const path = join(dir, `${K}-${act}.json`);
      writeFileSync(path, JSON.stringify({ test: { loss: K } }));
      return { path, hash: '', from: `t[K=${K},act=${act}]`, output: 'metrics', matrix: { K, act } };
    }));
    const r = await runStageDirect(aggregate, { params: { group_by: ['K', 'act'] }, inputs: { runs } });
    const res = JSON.parse(readFileSync(r.outputs.results!, 'utf8'));
    expect(res.groups.map((g: { group: { K: number; act: string } }) => `${g.group.K}/${g.group.act}`)).toEqual(['6/relu', '6/tanh', '12/relu', '12/tanh', '24/relu', '24/tanh', '48/relu', '48/tanh']);
  });

  it('classification and regression groups get separate Markdown tables', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-agg-'));
    const runs: InputRef[] = [['magic', { accuracy: 0.9 }], ['ccpp', { rmse: 4.2, r2: 0.93 }]].map(([ds, m], i) => {
      const path = join(dir, `${i}.json`);
      writeFileSync(path, JSON.stringify({ test: m }));
      return { path, hash: '', from: `t[dataset=${ds}]`, output: 'metrics', matrix: { dataset: ds as string } };
    });
    const r = await runStageDirect(aggregate, { params: { group_by: ['dataset'] }, inputs: { runs } });
    const md = readFileSync(r.outputs.table!, 'utf8');
    expect(md).toContain('| dataset | runs | rmse | r2 |\n|---|---:|---:|---:|\n| ccpp | 1 | 4.2000 ± 0.0000 | 0.9300 ± 0.0000 |');
    expect(md).toContain('| dataset | runs | accuracy |\n|---|---:|---:|\n| magic | 1 | 0.9000 ± 0.0000 |');
    // the wide CSV has every metric of any group; a metric a group lacks is empty
    expect(readFileSync(r.outputs.csv!, 'utf8')).toBe('dataset,runs,rmse_mean,rmse_std,r2_mean,r2_std,accuracy_mean,accuracy_std\nccpp,1,4.2,0,0.93,0,,\nmagic,1,,,,,0.9,0\n');
  });

  it('names the run that lacks a group key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-agg-'));
    const path = join(dir, 'a.json');
    writeFileSync(path, JSON.stringify({ test: { accuracy: 1 } }));
    await expect(runStageDirect(aggregate, { params: { group_by: ['model'] }, inputs: { runs: [{ path, hash: '', from: 'x[fold=1]', output: 'metrics', matrix: { fold: 1 } }] } }))
      .rejects.toThrow("x[fold=1]: no matrix key or field 'model' to group by");
  });
});
