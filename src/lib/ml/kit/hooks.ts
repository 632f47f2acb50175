/**
 * Ready-made hooks for `fit` (loop.ts).
 *
 * `plateauHalving` — the §C.2 learning-rate rule of the seed playground: after every `every`-th
 * epoch (epochs e with e mod P = P − 1), if the mean of the logged `key` over the last `window`
 * epochs is larger than its mean over the `window` epochs before, the setting `name` becomes
 * max(value · factor, min) from the next epoch on. With fewer than 2·window epochs logged the
 * earlier mean is the recent one (no change), as in the seed. The seed logs the loss computed
 * before each update, which is the step's `train_loss` here.
 */
import type { Hook } from './loop.js';
import { flatten } from './loop.js';

export interface PlateauHalving {
  every: number;
  /** Logged quantity (flat key, default 'train_loss'). */
  key?: string;
  window?: number;
  factor?: number;
  min?: number;
  /** The setting changed (default 'lr'). */
  name?: string;
}

export function plateauHalving<C>(o: PlateauHalving): Hook<C> {
  const key = o.key ?? 'train_loss', win = o.window ?? 50, factor = o.factor ?? 0.5, min = o.min ?? 1e-5, name = o.name ?? 'lr';
  if (!(o.every >= 1) || !(win >= 1)) throw new Error(`plateauHalving: every and window must be ≥ 1 (got ${o.every}, ${win})`);
  return {
    at: 'epochEnd',
    every: o.every,
    run(h) {
      const vals = h.curves.map((r) => {
        const v = flatten(r)[key];
        if (v === undefined) throw new Error(`plateauHalving: '${key}' is not logged`);
        return v;
      });
      if (vals.length <= win) return;
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      const recent = mean(vals.slice(-win));
      const prev = vals.length >= 2 * win ? mean(vals.slice(-2 * win, -win)) : recent;
      const cur = h.settings[name];
      if (cur === undefined) throw new Error(`plateauHalving: no setting '${name}'`);
      if (recent > prev) h.set(name, Math.max(cur * factor, min));
    },
  };
}
