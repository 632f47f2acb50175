/**
 * The ETA of a run from recorded durations (src/engine/ui/eta.ts): the tiers of a stage's
 * estimate, how finished stages improve the rest, progress-based extrapolation, and the
 * remaining wall time on `jobs` workers.
 */
import { describe, it, expect } from 'vitest';
import { EtaEstimator, formatDuration, type DurationRecord } from '../../src/engine/ui/eta.js';
import type { PlannedStage } from '../../src/engine/front/graph.js';

const st = (id: string, kind = 'train'): PlannedStage => ({ id, base: id.replace(/\[.*$/, ''), kind: { kind } } as unknown as PlannedStage);
const rec = (stage_id: string, ms: number, kind = 'train', pipeline = 'p'): DurationRecord => ({ pipeline, stage_id, kind, ms });

describe('EtaEstimator', () => {
  it('estimates each stage from the first tier that has data: last, siblings, kind, run mean, none', () => {
    const history = [
      rec('train[fold=0]', 10_000), rec('train[fold=0]', 99_000), // newest first: the last run counts
      rec('train[fold=1]', 20_000), rec('train[fold=2]', 40_000),
      rec('xgb[fold=0]', 5_000, 'xgboost', 'other'), rec('xgb[fold=1]', 7_000, 'xgboost', 'other'), rec('xgb[fold=2]', 30_000, 'xgboost', 'other'),
    ];
    const stages = [st('train[fold=0]'), st('train[fold=9]'), st('boost[fold=0]', 'xgboost'), st('plot', 'plot'), st('other', 'command')];
    const e = new EtaEstimator(history, 'p', stages, new Set(stages.map((s) => s.id)), 2);
    expect(e.estimate(stages[0]!)).toEqual({ ms: 10_000, source: 'last' });
    expect(e.estimate(stages[1]!)).toEqual({ ms: 20_000, source: 'siblings' }); // median of the newest record per sibling: 10, 20, 40 s
    expect(e.estimate(stages[2]!)).toEqual({ ms: 7_000, source: 'kind' }); // median of the kind, any pipeline
    expect(e.estimate(stages[3]!)).toEqual({ ms: 0, source: 'none' });
    // the first stage of this run that finishes gives the run mean to stages with nothing else
    e.started('plot', 0);
    e.finished('plot', 3_000);
    expect(e.estimate(stages[4]!)).toEqual({ ms: 3_000, source: 'run-mean' });
  });

  it('a finished sibling refines the others; a cache hit leaves the queue; running stages extrapolate their own rate', () => {
    const stages = [st('a[k=0]'), st('a[k=1]'), st('a[k=2]'), st('b')];
    const e = new EtaEstimator([], 'p', stages, new Set(['a[k=0]', 'a[k=1]', 'a[k=2]', 'b']), 1);
    expect(e.remaining(0)).toMatchObject({ lowerBound: true, pending: 4 });
    e.started('a[k=0]', 0);
    e.finished('a[k=0]', 8_000);
    expect(e.estimate(stages[1]!)).toEqual({ ms: 8_000, source: 'siblings' });
    e.cached('b');
    // 2 stages of 8 s on one worker
    expect(e.remaining(8_000)).toEqual({ ms: 16_000, lowerBound: false, pending: 2, running: 0 });
    e.started('a[k=1]', 10_000);
    // progress: 2/10 at 12 s, 6/10 at 16 s → 1 unit/s after the first report → 4 s left
    e.progress('a[k=1]', 2, 10, 12_000);
    e.progress('a[k=1]', 6, 10, 16_000);
    expect(e.stageLeft('a[k=1]', 16_000)).toBeCloseTo(4_000, 6);
    expect(e.remaining(16_000)).toEqual({ ms: 4_000 + 8_000, lowerBound: false, pending: 1, running: 1 });
  });

  it('a config that makes stages faster than last time: finished siblings scale the others\' last durations', () => {
    const stages = [0, 1, 2, 3].map((k) => st(`t[k=${k}]`));
    const e = new EtaEstimator(stages.map((s) => rec(s.id, 100_000)), 'p', stages, new Set(stages.map((s) => s.id)), 1);
    expect(e.remaining(0).ms).toBe(400_000);
    e.started('t[k=0]', 0);
    e.finished('t[k=0]', 20_000); // 5× faster now (fewer epochs)
    e.started('t[k=1]', 20_000);
    e.finished('t[k=1]', 30_000); // 3.3× faster: the median ratio (0.2, 0.3) is 0.25
    expect(e.estimate(stages[2]!)).toEqual({ ms: 25_000, source: 'last' });
    expect(e.remaining(50_000).ms).toBe(50_000);
  });

  it('remaining wall time: total work over jobs, but never less than the longest single stage', () => {
    const stages = ['x1', 'x2', 'x3', 'x4', 'long'].map((id) => st(id, id === 'long' ? 'slow' : 'fast'));
    const history = [rec('x1', 1_000, 'fast'), rec('x2', 1_000, 'fast'), rec('x3', 1_000, 'fast'), rec('x4', 1_000, 'fast'), rec('long', 60_000, 'slow')];
    const e = new EtaEstimator(history, 'p', stages, new Set(stages.map((s) => s.id)), 4);
    expect(e.remaining(0).ms).toBe(60_000); // (4 + 60) / 4 = 16 s < the 60 s stage
    e.started('long', 0);
    expect(e.remaining(30_000).ms).toBe(30_000);
    const wide = new EtaEstimator(history, 'p', stages.slice(0, 4), new Set(['x1', 'x2', 'x3', 'x4']), 2);
    expect(wide.remaining(0).ms).toBe(2_000);
  });

  it('a chain of dependent stages cannot overlap: the critical path bounds the ETA', () => {
    const a = st('a'), b = { ...st('b'), deps: ['a'] }, c = { ...st('c'), deps: ['b'] } as PlannedStage;
    const history = ['a', 'b', 'c'].map((id) => rec(id, 10_000));
    const e = new EtaEstimator(history, 'p', [a, b as PlannedStage, c], new Set(['a', 'b', 'c']), 3);
    expect(e.remaining(0).ms).toBe(30_000); // not 30 s / 3 jobs
    e.started('a', 0);
    expect(e.remaining(4_000).ms).toBe(26_000);
  });

  it('formats durations for a glance', () => {
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
  });
});
