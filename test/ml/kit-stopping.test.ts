/** Stopping rules and best tracking of the kit (src/lib/ml/kit/stopping.ts) on hand-made sequences. */
import { describe, it, expect } from 'vitest';
import { Monitor, patience, lossReduction, never, type StopRule } from '../../src/lib/ml/kit/stopping.js';

/** Epoch at which the rule stops on `values` of `key` (null: never). */
function stopsAt(rule: StopRule, key: string, values: number[], initial: Record<string, number> | null = null): number | null {
  rule.start?.(initial);
  for (let e = 0; e < values.length; e++) if (rule.update(e, { [key]: values[e]! })) return e;
  return null;
}

describe('patience', () => {
  it('min: stops after `patience` epochs in a row without a new best', () => {
    // best at 0 (1.0), 1 (0.9); 0.95 and 0.91 do not beat 0.9 → wait 1, 2 → stop at epoch 3
    expect(stopsAt(patience({ monitor: 'val_loss', patience: 2 }), 'val_loss', [1, 0.9, 0.95, 0.91, 0.89])).toBe(3);
    // a new best resets the count: 0.89 at epoch 3 → wait 0; then 0.9, 0.95 → stop at 5
    expect(stopsAt(patience({ monitor: 'val_loss', patience: 2 }), 'val_loss', [1, 0.9, 0.95, 0.89, 0.9, 0.95, 0.1])).toBe(5);
  });

  it('min_delta: an improvement must exceed it', () => {
    // 0.97 and 0.96 are not below 1 − 0.05 → stop at epoch 2; without min_delta both improve
    expect(stopsAt(patience({ monitor: 'l', patience: 2, minDelta: 0.05 }), 'l', [1, 0.97, 0.96, 0.5])).toBe(2);
    expect(stopsAt(patience({ monitor: 'l', patience: 2 }), 'l', [1, 0.97, 0.96, 0.5])).toBeNull();
  });

  it('max mode on accuracy; the best epoch is tracked', () => {
    const r = patience({ monitor: 'val_accuracy', patience: 2, mode: 'max' });
    expect(stopsAt(r, 'val_accuracy', [0.5, 0.6, 0.55, 0.58, 0.9])).toBe(3);
    expect(r.monitor.bestEpoch).toBe(1);
    expect(r.monitor.best).toBe(0.6);
  });

  it('patience 0 never stops; NaN never improves', () => {
    expect(stopsAt(patience({ monitor: 'l', patience: 0 }), 'l', [1, 2, 3, 4, 5, 6])).toBeNull();
    const m = new Monitor('l');
    expect(m.update(0, NaN)).toBe(false);
    expect(m.update(1, 3)).toBe(true);
    expect(m.update(2, NaN)).toBe(false);
    expect(m.bestEpoch).toBe(1);
  });

  it('a monitor that is not logged is an error, not a rule that never fires', () => {
    expect(() => patience({ monitor: 'val_loss', patience: 2 }).update(0, { val_los: 1 })).toThrow(/'val_loss' is not logged/);
  });
});

describe('loss reduction (§D.5)', () => {
  it('stops when 1 − loss/initial ≥ threshold, initial from the step-0 evaluation', () => {
    // initial 2: reductions 0.25, 0.95, 0.985, 0.9905 → the first ≥ 0.99 is epoch 3
    expect(stopsAt(lossReduction({ monitor: 'loss', threshold: 0.99 }), 'loss', [1.5, 0.1, 0.03, 0.019, 0.001], { loss: 2 })).toBe(3);
    // exactly at the threshold stops: 1 − 0.02/2 = 0.99
    expect(stopsAt(lossReduction({ monitor: 'loss', threshold: 0.99 }), 'loss', [1, 0.02], { loss: 2 })).toBe(1);
  });

  it('explicit initial, or the first value seen', () => {
    expect(stopsAt(lossReduction({ monitor: 'loss', threshold: 0.5, initial: 10 }), 'loss', [6, 5.5, 5, 1])).toBe(2);
    // first value 4 is the reference: 1 − 2.1/4 < 0.5, 1 − 2/4 = 0.5 → epoch 2
    expect(stopsAt(lossReduction({ monitor: 'loss', threshold: 0.5 }), 'loss', [4, 2.1, 2])).toBe(2);
  });
});

describe('never', () => {
  it('does not stop', () => {
    expect(stopsAt(never(), 'l', [5, 4, 3, 2, 1, 0])).toBeNull();
  });
});
