/** `pipe report --compare --group-by K`: per run and K value, the mean curve over the instances with a ±1 std band. */
import { describe, expect, it } from 'vitest';
import { curveSpecs, matrixOfId } from '../../src/runs/compare-html.js';
import type { CurveTable } from '../../src/runs/diff.js';
import type { RunView } from '../../src/runs/model.js';

const run = (id: number, name: string): RunView => ({ id, pipeline: 'p', name, started: 0, ended: 0, state: 'done', overrides: [], record: null });

describe('compare page curves grouped by a matrix key', () => {
  it('one mean line and band per run × group, over the folds', () => {
    const curves: CurveTable[] = [];
    for (const r of [1, 2]) for (const act of ['relu', 'tanh']) for (let fold = 0; fold < 3; fold++) {
      curves.push({ run: r, stage: `train[act=${act},fold=${fold}]`, x: 'epoch', columns: { epoch: [1, 2, 3], val_loss: [1, 0.8, 0.7].map((v) => v + 0.1 * fold + (act === 'tanh' ? 0.2 : 0) - 0.05 * (r - 1)) } });
    }
    expect(matrixOfId('train[act=relu,fold=2]')).toEqual({ act: 'relu', fold: '2' });
    const [plain] = curveSpecs([run(1, 'a'), run(2, 'b')], curves);
    expect((plain!.spec as any).data.values).toHaveLength(2 * 2 * 3 * 3); // every instance its own line
    const [grouped] = curveSpecs([run(1, 'a'), run(2, 'b')], curves, {}, ['act']) as { spec: any }[];
    const rows = grouped!.spec.data.values as Record<string, any>[];
    expect(new Set(rows.map((r) => r.series))).toEqual(new Set(['#1 a · act=relu', '#1 a · act=tanh', '#2 b · act=relu', '#2 b · act=tanh']));
    expect(rows).toHaveLength(4 * 3);
    const r = rows.find((x) => x.series === '#2 b · act=tanh' && x.epoch === 2)!;
    // folds add 0, 0.1, 0.2: mean +0.1, sample std 0.1
    expect(r.mean).toBeCloseTo(0.8 + 0.1 + 0.2 - 0.05, 12);
    expect(r.hi - r.mean).toBeCloseTo(0.1, 12);
    expect(r.n).toBe(3);
    expect(grouped!.spec.layer.map((l: any) => l.mark.type)).toEqual(['area', 'line']);
  });
});
