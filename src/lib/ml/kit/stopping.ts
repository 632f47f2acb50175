/**
 * Best-value tracking and stopping rules of the training loop (src/lib/ml/kit/loop.ts).
 *
 *  - `Monitor`: the best value of one logged quantity (mode min or max, `minDelta`), as
 *    Lightning's ModelCheckpoint/EarlyStopping compare it: an epoch improves when
 *    v < best − minDelta (min) or v > best + minDelta (max). NaN never improves.
 *  - `patience({monitor, patience})`: stop after `patience` epochs in a row without an
 *    improvement of the monitored quantity (0 = never stop; the best is still tracked).
 *  - `lossReduction({monitor, threshold})` (§D.5): stop as soon as 1 − v / v₀ ≥ threshold, where
 *    v₀ is the initial value (the loop's step-0 evaluation, an explicit `initial`, or else the
 *    first value seen).
 *  - `never()`: no stopping (full `maxEpochs`).
 * Rules are plain objects; the loop calls `start` once with the initial evaluation (if any) and
 * `update` after every epoch's evaluation; the first rule that returns a reason stops the run.
 */

export type Mode = 'min' | 'max';
export type Logged = Readonly<Record<string, number>>;

export class Monitor {
  best: number;
  bestEpoch = -1;
  constructor(readonly key: string, readonly mode: Mode = 'min', readonly minDelta = 0) {
    this.best = mode === 'min' ? Infinity : -Infinity;
  }
  /** Would `v` be a new best? */
  improves(v: number): boolean {
    return this.mode === 'min' ? v < this.best - this.minDelta : v > this.best + this.minDelta;
  }
  /** Records epoch `epoch` with value `v`; true when it is the new best. */
  update(epoch: number, v: number): boolean {
    if (!this.improves(v)) return false;
    this.best = v;
    this.bestEpoch = epoch;
    return true;
  }
}

/** Value of `key` in a logged record; a missing key is an error (a misspelt monitor must not silently never fire). */
export function logged(rec: Logged, key: string): number {
  const v = rec[key];
  if (v === undefined) throw new Error(`monitored quantity '${key}' is not logged (have: ${Object.keys(rec).join(', ')})`);
  return v;
}

export interface StopRule {
  readonly name: string;
  /** Called once before the first epoch with the initial evaluation (null without one). */
  start?(initial: Logged | null): void;
  /** Called after each epoch; returns a reason to stop, or null. */
  update(epoch: number, rec: Logged): string | null;
  /** A rule with memory gives it for resume checkpoints (plain data) and takes it back. */
  state?(): unknown;
  setState?(s: unknown): void;
}

export function patience(o: { monitor: string; patience: number; mode?: Mode; minDelta?: number }): StopRule & { wait: number; monitor: Monitor } {
  const m = new Monitor(o.monitor, o.mode ?? 'min', o.minDelta ?? 0);
  return {
    name: 'patience',
    monitor: m,
    wait: 0,
    update(epoch, rec) {
      if (m.update(epoch, logged(rec, o.monitor))) this.wait = 0;
      else this.wait++;
      return o.patience > 0 && this.wait >= o.patience ? `no improvement of ${o.monitor} for ${this.wait} epochs` : null;
    },
    state() { return { wait: this.wait, best: m.best, bestEpoch: m.bestEpoch }; },
    setState(s) { const v = s as { wait: number; best: number; bestEpoch: number }; this.wait = v.wait; m.best = v.best; m.bestEpoch = v.bestEpoch; },
  };
}

export function lossReduction(o: { monitor: string; threshold: number; initial?: number }): StopRule & { initial: number | null } {
  return {
    name: 'loss-reduction',
    initial: o.initial ?? null,
    start(init) {
      if (this.initial === null && init && init[o.monitor] !== undefined) this.initial = init[o.monitor]!;
    },
    update(_epoch, rec) {
      const v = logged(rec, o.monitor);
      if (this.initial === null) { this.initial = v; return null; }
      const red = 1 - v / this.initial;
      return red >= o.threshold ? `${o.monitor} reduced by ${red.toPrecision(4)} ≥ ${o.threshold} of its initial value` : null;
    },
    state() { return { initial: this.initial }; },
    setState(s) { this.initial = (s as { initial: number | null }).initial; },
  };
}

export function never(): StopRule {
  return { name: 'none', update: () => null };
}
