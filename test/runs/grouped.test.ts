/**
 * `pipe runs` reads a run's metric columns from the groups its record stored when it was recorded
 * (no per-instance metrics loaded): they must equal the groups computed from every instance.
 */
import { describe, expect, it } from 'vitest';
import { RunRecorder } from '../../src/runs/record.js';
import { groupedMetricsOf, runMetrics, usesGrouped, type RunView } from '../../src/runs/model.js';
import { defaultGroupBy } from '../../src/runs/list.js';
import { emptySummary } from '../../src/engine/exec/events.js';
import { tmpdir } from 'node:os';

describe('stored default grouping', () => {
  it('equals the groups computed from the instances; other groupings fall back', async () => {
    const rec = new RunRecorder(tmpdir());
    const matrix: Record<string, { base: string; values: Record<string, string | number | boolean> }> = {};
    let i = 0;
    for (const model of ['relu', 'gelu']) for (const fold of [0, 1, 2]) {
      const id = `train[model=${model},fold=${fold}]`;
      matrix[id] = { base: 'train', values: { model, fold } };
      rec.stage({ id, outcome: 'ran', execution: ++i, fingerprint: 'f'.repeat(64), metrics: { acc: 0.8 + 0.01 * i, loss: { last: 1 / i } } });
    }
    rec.stage({ id: 'summary', outcome: 'ran', execution: ++i, fingerprint: 'e'.repeat(64), metrics: { best: 0.9 } });
    const record = await rec.build({ runId: 1, file: 'p.yaml', fileText: 'name: p\n', params: {}, overrides: [], goals: {}, matrix, summary: emptySummary(1) });
    expect(record.grouped?.by).toEqual(['model']);
    const full = runMetrics(record, ['model']);
    const stored = groupedMetricsOf({ ...record, metrics: undefined as never, matrix: undefined as never });
    const nonInstance = new Map([...full].filter(([, v]) => !v.instance));
    expect([...stored.keys()].sort()).toEqual([...nonInstance.keys()].sort());
    for (const [k, v] of nonInstance) expect(stored.get(k)).toMatchObject({ value: v.value, ...(v.group ? { std: v.std, n: v.n } : {}) });
    const view = { record: { ...record, matrix: undefined } } as unknown as RunView;
    expect(defaultGroupBy([view])).toEqual(['model']);
    expect(usesGrouped(view, ['model'])).toBe(true);
    expect(usesGrouped(view, ['model', 'fold'])).toBe(false);
  });
});
