/**
 * Which predicted AGF plateaus (seed-systems §D.6) a loss curve rested on, and which it only passed
 * through.
 *
 * A level L_m > 0 is *rested on* when at least `minEvals` consecutive evaluations of the loss lie
 * within ±`tol` (relative) of it; it is *passed* at the first evaluation below the midpoint to the
 * next level (the rule `train-group` uses for `steps_to_L…`). A level passed without such a stay
 * was passed through (e.g. two modes learned together); a level never reached is neither.
 */

export interface PlateauVisit {
  /** Index m of the level L_m. */
  m: number;
  level: number;
  /** The loss stayed within ±tol of the level for at least minEvals consecutive evaluations. */
  rested: boolean;
  /** Longest such stay: first and last step (null if the loss never came within ±tol). */
  restFrom: number | null;
  restTo: number | null;
  /** Evaluations in that longest stay. */
  restEvals: number;
  /** First step with the loss below the midpoint to the next level (null: not passed). */
  passedAt: number | null;
  status: 'rested' | 'passed through' | 'not reached';
}

export function plateauVisits(steps: ArrayLike<number>, loss: ArrayLike<number>, levels: readonly number[], o: { tol?: number; minEvals?: number } = {}): PlateauVisit[] {
  const tol = o.tol ?? 0.1, minEvals = o.minEvals ?? 5;
  if (steps.length !== loss.length) throw new Error(`plateauVisits: ${steps.length} steps but ${loss.length} losses`);
  const out: PlateauVisit[] = [];
  levels.forEach((lv, m) => {
    if (!(lv > 0)) return;
    let best = { from: -1, to: -1, n: 0 }, cur = { from: -1, n: 0 };
    for (let i = 0; i < loss.length; i++) {
      const inBand = Math.abs(loss[i]! / lv - 1) <= tol;
      if (inBand) {
        if (cur.n === 0) cur.from = i;
        cur.n++;
        if (cur.n > best.n) best = { from: cur.from, to: i, n: cur.n };
      } else cur = { from: -1, n: 0 };
    }
    const next = levels[m + 1] ?? 0;
    const mid = (lv + next) / 2;
    let passedAt: number | null = null;
    for (let i = 0; i < loss.length; i++) if (loss[i]! < mid) { passedAt = steps[i]!; break; }
    const rested = best.n >= minEvals;
    out.push({
      m, level: lv, rested,
      restFrom: best.n ? steps[best.from]! : null, restTo: best.n ? steps[best.to]! : null, restEvals: best.n,
      passedAt,
      status: rested ? 'rested' : passedAt !== null ? 'passed through' : 'not reached',
    });
  });
  return out;
}
