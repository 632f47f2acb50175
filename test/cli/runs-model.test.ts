/** The pure parts of run comparison: gate expressions, metric keys and groups, formatting, tables. */
import { describe, expect, it } from 'vitest';
import { PipeError } from '../../src/engine/errors.js';
import { flatten, flattenMetrics, topMetrics, type RunRecord } from '../../src/runs/record.js';
import { parseFailIf } from '../../src/runs/gate.js';
import { fmtNum, globRe, goalOf, metricLabels, runMetrics, sameValue, splitKey } from '../../src/runs/model.js';
import { renderCsv, renderMd, renderText, transpose } from '../../src/runs/table.js';

describe('--fail-if expressions', () => {
  it('parses metric, operator, threshold and %', () => {
    expect(parseFailIf('test_accuracy < -0.005')).toMatchObject({ metric: 'test_accuracy', op: '<', threshold: -0.005, percent: false });
    expect(parseFailIf('m:rmse>=2%')).toMatchObject({ metric: 'rmse', op: '>=', threshold: 2, percent: true });
    expect(parseFailIf('train[fold=0].loss != 1e-3')).toMatchObject({ metric: 'train[fold=0].loss', op: '!=', threshold: 0.001 });
    for (const bad of ['test_accuracy', '< 1', 'acc < x', 'acc =< 1', 'acc < 1 2']) expect(() => parseFailIf(bad), bad).toThrow(PipeError);
  });
});

describe('metric keys, groups and goals', () => {
  const rec = {
    metrics: { data: { rows: 10 }, 'fit[w=1,f=0]': { acc: 0.8 }, 'fit[w=1,f=1]': { acc: 0.9 }, 'fit[w=2,f=0]': { acc: 0.6 }, 'fit[w=2,f=1]': { acc: 0.7, note: 'x' } },
    matrix: { 'fit[w=1,f=0]': { base: 'fit', values: { w: 1, f: 0 } }, 'fit[w=1,f=1]': { base: 'fit', values: { w: 1, f: 1 } }, 'fit[w=2,f=0]': { base: 'fit', values: { w: 2, f: 0 } }, 'fit[w=2,f=1]': { base: 'fit', values: { w: 2, f: 1 } } },
  } as unknown as RunRecord;

  it('aggregates instances into mean ± sample std, over all or per group-by key', () => {
    const all = runMetrics(rec);
    expect(all.get('fit.acc')).toMatchObject({ group: true, n: 4, value: expect.closeTo(0.75, 12), std: expect.closeTo(Math.sqrt(((0.05 ** 2 + 0.15 ** 2) * 2) / 3), 12) });
    expect(all.get('fit[w=2,f=1].note')).toMatchObject({ instance: true, value: 'x' });
    expect(all.has('fit.note')).toBe(false); // strings are not averaged
    const byW = runMetrics(rec, ['w']);
    expect(byW.get('fit[w=1].acc')).toMatchObject({ n: 2, value: expect.closeTo(0.85, 12) });
    expect(byW.get('fit[w=2].acc')).toMatchObject({ n: 2, value: expect.closeTo(0.65, 12) });
    // the record's top-level metrics are the same as the all-instance groups
    const top = topMetrics(rec.metrics, rec.matrix);
    expect(top['fit.acc']!.v).toBe(all.get('fit.acc')!.value);
    expect(top['fit.acc']!.s).toBe(all.get('fit.acc')!.std);
    expect(top['data.rows']).toEqual({ v: 10 });
  });

  it('short labels only when unambiguous; goals by key, base.metric, name, and curve columns', () => {
    const labels = metricLabels([...runMetrics(rec, ['w']).values()]);
    expect(labels.get('data.rows')).toBe('rows');
    expect(labels.get('fit[w=1].acc')).toBe('fit[w=1].acc');
    expect(labels.get('fit[w=1,f=0].acc')).toBe('fit[w=1,f=0].acc');
    expect(splitKey('fit[a=0.5,b=x].val.loss')).toEqual({ stage: 'fit[a=0.5,b=x]', metric: 'val.loss' });
    const goals = { acc: 'max', 'eval.loss': 'min', val_loss: 'min' } as const;
    expect(goalOf(goals, { key: 'fit.acc', base: 'fit', metric: 'acc' })).toBe('max');
    expect(goalOf(goals, { key: 'eval.loss', base: 'eval', metric: 'loss' })).toBe('min');
    expect(goalOf(goals, { key: 'fit.loss', base: 'fit', metric: 'loss' })).toBeUndefined();
    expect(goalOf(goals, { key: 'fit.val_loss.best', base: 'fit', metric: 'val_loss.best' })).toBe('min');
    expect(goalOf(goals, { key: 'fit.train_loss.best', base: 'fit', metric: 'train_loss.best' })).toBeUndefined();
  });

  it('flattens params (arrays as canonical JSON) and metrics (arrays left out)', () => {
    expect(flatten({ a: { b: 1, c: [2, { d: 3 }] }, e: 'x', f: null })).toEqual({ 'a.b': 1, 'a.c': '[2,{"d":3}]', e: 'x', f: null });
    expect(flattenMetrics({ acc: 0.5, per_class: [0.1, 0.2], val: { loss: 1, ok: true } })).toEqual({ acc: 0.5, 'val.loss': 1, 'val.ok': true });
  });
});

describe('formatting and tables', () => {
  it('numbers, tolerance, globs', () => {
    expect([fmtNum(3), fmtNum(0.123456), fmtNum(-0.0000123), fmtNum(2.5e12 + 0.5), fmtNum(2.5e12), fmtNum(NaN)]).toEqual(['3', '0.1235', '-1.23e-5', '2.5e+12', '2500000000000', 'NaN']);
    expect(sameValue(1, 1.0009, { atol: 0.001, rtol: 0 })).toBe(true);
    expect(sameValue(1, 1.002, { atol: 0.001, rtol: 0 })).toBe(false);
    expect(sameValue(100, 101, { atol: 0, rtol: 0.01 })).toBe(true);
    expect(sameValue('a', 'a')).toBe(true);
    expect(sameValue(undefined, 1)).toBe(false);
    expect(globRe('m:*loss*').test('m:val_loss.best')).toBe(true);
    expect(globRe('p:a.b').test('p:aXb')).toBe(false);
  });

  it('text (aligned, colours not counted), transposed, CSV and Markdown', () => {
    const t = { header: ['run', 'p:lr'], rows: [['#1', '0.1'], ['#2', '0.25']], right: new Set([1]), paint: (_r: number, c: number, s: string) => (c === 1 ? `\x1b[32m${s}\x1b[39m` : s) };
    expect(renderText(t).replace(/\x1b\[\d+m/g, '')).toBe('run  p:lr\n#1    0.1\n#2   0.25');
    const tt = transpose({ header: t.header, rows: t.rows }, 'column', ['#1', '#2']);
    expect(renderText({ ...tt, rows: tt.rows.slice(1) })).toBe('column  #1   #2\np:lr    0.1  0.25');
    expect(renderCsv(['a', 'b'], [['x,y', 'say "hi"'], ['1', 'line\nbreak']])).toBe('a,b\n"x,y","say ""hi"""\n1,"line\nbreak"');
    expect(renderMd(['a', 'b'], [['x|y', '1']])).toBe('| a | b |\n| --- | --- |\n| x\\|y | 1 |');
  });
});
