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

  it('paired: t interval, paired t / Wilcoxon / sign-flip, Holm per column, one compact table per task type', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-agg-'));
    // two classification datasets and one regression dataset; actmix vs relu and gelu over 5 folds
    const shift: Record<string, number[]> = { relu: [0.01, 0.02, 0.015, 0.03, 0.005], gelu: [0.002, -0.004, 0.001, -0.001, 0.003] };
    const runs: InputRef[] = [];
    for (const ds of ['adult', 'magic', 'ccpp']) for (const model of ['actmix', 'relu', 'gelu']) for (let fold = 0; fold < 5; fold++) {
      const base = 0.8 + 0.01 * fold;
      const d = model === 'actmix' ? 0 : shift[model]![fold]! * (ds === 'magic' ? 2 : 1);
      const m = ds === 'ccpp' ? { rmse: 4 + fold / 10 + d * 10, r2: 0.9 - d } : { accuracy: base - d, roc_auc: base + 0.05 - d / 2 };
      const path = join(dir, `${ds}-${model}-${fold}.json`);
      writeFileSync(path, JSON.stringify({ test: m }));
      runs.push({ path, hash: '', from: `t[dataset=${ds},fold=${fold},model=${model}]`, output: 'metrics', matrix: { dataset: ds, fold, model } });
    }
    const r = await runStageDirect(aggregate, { params: { group_by: ['dataset', 'model'], paired: { reference: { model: 'actmix' }, match: ['fold'] } }, inputs: { runs } });
    const res = JSON.parse(readFileSync(r.outputs.results!, 'utf8'));
    const one = (ds: string, b: string, m: string) => res.paired.find((x: any) => x.group.dataset === ds && x.baseline.model === b && x.metric === m);
    const x = one('adult', 'relu', 'accuracy');
    // actmix − relu = the relu shift: mean 0.016, sd by hand, exact sign-flip 2/32 (all five positive)
    const d = shift.relu!;
    const mean = d.reduce((a, b) => a + b, 0) / 5;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / 4);
    expect(x.mean).toBeCloseTo(mean, 12);
    expect(x.sd).toBeCloseTo(sd, 12);
    expect(x.t).toBeCloseTo(mean / (sd / Math.sqrt(5)), 9);
    // t_{0.975,4} = 2.776445 (tables)
    expect(x.ci_low).toBeCloseTo(mean - 2.776445 * sd / Math.sqrt(5), 5);
    expect(x.ci_high).toBeCloseTo(mean + 2.776445 * sd / Math.sqrt(5), 5);
    expect(x.p_sign_flip).toBe(2 / 32);
    expect(x.p_wilcoxon).toBeCloseTo(0.0625, 12); // exact: ranks all positive, 2/2^5
    expect([x.better, x.n, x.test, x.correction]).toEqual([5, 5, 't', 'holm']);
    // Holm over the 4 accuracy comparisons of the classification table (adult, magic × relu, gelu)
    const acc = ['adult', 'magic'].flatMap((ds) => ['relu', 'gelu'].map((b) => one(ds, b, 'accuracy')));
    expect(acc.every((y: any) => y.family === 4)).toBe(true);
    const sorted = [...acc].sort((a: any, b: any) => a.p - b.p);
    expect(sorted[0].p_adj).toBeCloseTo(Math.min(1, 4 * sorted[0].p), 12);
    expect(sorted[1].p_adj).toBeCloseTo(Math.min(1, Math.max(4 * sorted[0].p, 3 * sorted[1].p)), 12);
    expect(one('ccpp', 'relu', 'rmse').family).toBe(2);
    const md = readFileSync(r.outputs.table!, 'utf8');
    // one table per task type, the reference named once, no empty cells
    expect(md).toContain('Paired differences: **model=actmix** − each other model, matched on fold (n = 5); p: paired t, Holm-adjusted over the 4 comparisons of each column:');
    expect(md).toContain('| dataset | − model | Δ accuracy | p | Δ roc_auc | p |');
    expect(md).toContain('| dataset | − model | Δ rmse (lower is better) | p | Δ r2 | p |');
    const row = md.split('\n').filter((l) => l.startsWith('| adult | relu |')).at(-1)!;
    expect(row).toContain(`+${mean.toFixed(4)} [+${x.ci_low.toFixed(4)}, +${x.ci_high.toFixed(4)}] (5/5) | ${x.p_adj.toFixed(3)} |`);
    for (const l of md.split('\n').filter((l) => l.startsWith('| adult') || l.startsWith('| ccpp'))) expect(l).not.toMatch(/\|\s*\|/);
    // the long table of every comparison (for forest plots)
    const t = await readTable(r.outputs.paired!);
    expect(t.numRows).toBe(12);
    expect(t.getChild('label')!.get(0)).toBe('adult · gelu'); // groups sorted by dataset, model
  });

  it('names the run that lacks a group key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-agg-'));
    const path = join(dir, 'a.json');
    writeFileSync(path, JSON.stringify({ test: { accuracy: 1 } }));
    await expect(runStageDirect(aggregate, { params: { group_by: ['model'] }, inputs: { runs: [{ path, hash: '', from: 'x[fold=1]', output: 'metrics', matrix: { fold: 1 } }] } }))
      .rejects.toThrow("x[fold=1]: no matrix key or field 'model' to group by");
  });
});
