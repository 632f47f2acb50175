/**
 * The one training loop of pipe (`fit`), model-agnostic: a model family supplies a `TrainStep`
 * (what one update on one batch is, how to evaluate, how to checkpoint) and the loop owns
 * everything around it — epochs over shuffled minibatches, full batch or online fresh batches;
 * schedules of any named setting (lr, temperature, entropy weight, Hebbian α, …); hooks that
 * may change settings; logging (one `EpochLog` per epoch); parameter snapshots; best-value
 * tracking with an exact checkpoint restore at the end; stopping rules; the abort signal;
 * progress. The TF.js MLP step (src/lib/ml/trainer.ts) and the native blas MLP step
 * (src/lib/ml/blas/trainer.ts) are two implementations of `TrainStep` driven by this loop.
 * How each model family of the seed-systems reference (§B–§E) plugs in: ./README.md.
 *
 * One epoch e (e = 0, 1, …, maxEpochs − 1):
 *   1. settings(e) = every schedule at e, where a hook's `set` / `schedule` overrides it;
 *      `epochStart` hooks run (their changes apply to this epoch); `step.beginEpoch(e, s)`.
 *   2. the rows: minibatch — identity permutation shuffled by `rng.fork('shuffle')` (unless
 *      `shuffle: false`), batches of `batchSize` (the last one smaller); full — one batch of
 *      all rows in order; online — `stepsPerEpoch` batches of `batchSize` fresh rows, which the
 *      step draws itself from `batch.rng` (`rng.fork('fresh')`, one stream for the whole run).
 *   3. per batch: abort check, `step.step(batch, settings)`; numbers it returns are averaged
 *      over the epoch weighted by batch size (into `train`), `steps` hooks run after it.
 *   4. `train` = `step.endEpoch()` if it returns numbers (a step that accumulates on a device),
 *      else the averages of 3. `eval` = `step.evaluate(e, settings)`.
 *   5. the record is appended; `finite` keys must be finite (else the run fails: diverged);
 *      if `best.monitor` improved, `step.checkpoint()` (the previous one released);
 *      `onEpoch`, `progress`; `epochEnd` hooks (their changes apply from epoch e + 1);
 *      snapshots; then the stop rules (first reason wins).
 * At the end the best checkpoint is restored (`step.restore`) and `bestSettings` tells the
 * settings it was trained with (e.g. the ActMix temperature to keep).
 *
 * Resume (`resume`, the stage's `ctx.checkpoint`): after an epoch that does not stop the run,
 * when `resume.due(e + 1)`, the loop saves its whole state — the step's `state()` (parameters,
 * optimizer moments and step counters, the step's own RNGs), the shuffle and fresh-batch RNG
 * states, the epoch and step counters, curves, snapshots, setting changes and the settings hooks
 * fixed, the best value with its checkpoint and settings, every stop rule's and hook's `state()`.
 * At the start, a saved state (the newest valid one) is loaded instead of initialising: the run
 * continues with epoch e + 1 and its result is bit-identical to an uninterrupted run.
 */
import type { Rng, RngState } from '../../../sdk/rng.js';
import type { Checkpointer } from '../../../sdk/stage.js';
import { Monitor, never, type Mode, type StopRule, logged } from './stopping.js';

export type Settings = Readonly<Record<string, number>>;
export type Schedule = (epoch: number) => number;
export type Values = Readonly<Record<string, number>>;

export interface Batch {
  /** Epoch, batch number within it, and the number of steps taken before this one. */
  epoch: number;
  index: number;
  step: number;
  /** minibatch / full: this epoch's row order; the batch is perm[start, start + size). null online. */
  perm: Int32Array | null;
  start: number;
  size: number;
  /** online: the stream to draw the fresh rows from (null otherwise). */
  rng: Rng | null;
}

/** What a model family supplies to the loop. */
export interface TrainStep<C = unknown> {
  /** One update on one batch; may return per-batch numbers (averaged into the epoch's `train`). */
  step(batch: Batch, settings: Settings): Values | void | Promise<Values | void>;
  /** Logged quantities after an epoch (validation loss, metrics, …); also the initial evaluation (epoch −1). */
  evaluate(epoch: number, settings: Settings): Values | Promise<Values>;
  /**
   * A copy of what `restore` needs to return to this point: the parameters at least (enough for
   * the loop's best restore); also optimizer state and buffers when a hook restores mid-run (§E.5).
   */
  checkpoint(): C;
  restore(c: C): void;
  release?(c: C): void;
  beginEpoch?(epoch: number, settings: Settings): void;
  /** The epoch's training numbers when the step accumulates them itself. */
  endEpoch?(epoch: number, settings: Settings): Values | void;
  /** Named tensors for the snapshot log (copies). */
  snapshot?(): Record<string, ArrayLike<number>>;
  /**
   * For resume: everything that continues the training exactly — parameters, optimizer state
   * (moments, step counter), buffers, the step's own RNG states — as plain data (objects, arrays,
   * typed arrays; structured-clone safe). `setState` puts it back into a freshly built step.
   */
  state?(): unknown;
  setState?(s: unknown): void;
  /** A checkpoint `C` that is not plain data (e.g. device tensors) as plain data, and back, for resume. */
  encodeCheckpoint?(c: C): unknown;
  decodeCheckpoint?(s: unknown): C;
}

export type DataPlan =
  | { mode: 'minibatch'; rows: number; batchSize: number; shuffle?: boolean }
  | { mode: 'full'; rows: number }
  | { mode: 'online'; batchSize: number; stepsPerEpoch: number };

export interface HookContext<C = unknown> {
  readonly epoch: number;
  readonly step: number;
  /** The settings in force now. */
  readonly settings: Settings;
  /** The records so far (the last one is the epoch that just ended, for `epochEnd`). */
  readonly curves: readonly EpochLog[];
  /** Fix setting `name` to `value` from now on (`epochStart`: this epoch; `epochEnd`: the next; `steps`: the next step). */
  set(name: string, value: number): void;
  /** Replace the schedule of `name` from now on. */
  schedule(name: string, s: Schedule): void;
  /** Stop after this epoch (`epochStart` / `steps`: after the current epoch). */
  stop(reason: string): void;
  /** The model's own checkpointing (e.g. the §E.5 meta-tuner: snapshot, try candidates, restore). */
  readonly model: TrainStep<C>;
}

export interface Hook<C = unknown> {
  /** When it runs: before an epoch's batches, after an epoch (default), or after every `every` steps. */
  at?: 'epochStart' | 'epochEnd' | 'steps';
  /** Every `every` epochs (epochStart/epochEnd: when (e + 1) mod every = 0 … for epochEnd; e mod every = 0 for epochStart) or steps. Default 1. */
  every?: number;
  run(h: HookContext<C>): void | Promise<void>;
  /** A hook that keeps state between calls gives it for resume checkpoints (plain data). */
  state?(): unknown;
  setState?(s: unknown): void;
}

export interface SettingChange { epoch: number; step: number; at: 'epochStart' | 'epochEnd' | 'steps'; name: string; from: number | null; to: number | null }

export interface EpochLog {
  epoch: number;
  /** Steps taken after this epoch. */
  step: number;
  /** The settings the epoch trained with (at its start). */
  settings: Values;
  /** Training numbers of the epoch (batch-size weighted means, or the step's own). */
  train: Values;
  /** `step.evaluate` after the epoch. */
  eval: Values;
}

export interface Snapshot { epoch: number; step: number; values: Record<string, ArrayLike<number>> }

export interface FitOptions<C = unknown> {
  data: DataPlan;
  maxEpochs: number;
  /** Shuffles (`fork('shuffle')`) and fresh online batches (`fork('fresh')`). Required unless full batch or shuffle: false. */
  rng?: Rng;
  /** Named settings: a constant or a function of the epoch. Their order is the order in the logs. */
  schedules?: Record<string, Schedule | number>;
  hooks?: Hook<C>[];
  /**
   * Track the best value of a logged quantity, checkpoint it and restore it at the end (null: keep
   * the last state). `scoreLast: false`: the state after the last epoch (maxEpochs − 1) is no
   * candidate — for a step that, like the §C seed, scores the parameters before each update.
   */
  best?: { monitor: string; mode?: Mode; minDelta?: number; scoreLast?: boolean } | null;
  stop?: StopRule | StopRule[];
  /** Evaluate once before training (result.initial; a candidate for `best` as epoch −1; passed to stop rules). */
  initialEval?: boolean;
  /** Keep `step.snapshot()` at the start, every `every` epochs (or steps) and at the end. */
  snapshots?: { every: number; unit?: 'epoch' | 'step' };
  /** `train` or `eval` keys that must stay finite; a non-finite one fails the run. */
  finite?: string[];
  signal?: AbortSignal;
  onEpoch?: (rec: EpochLog) => void | Promise<void>;
  /** Stage progress: called once per epoch. */
  progress?: (p: { done: number; total: number; unit?: string; message?: string }) => void;
  describe?: (rec: EpochLog) => string;
  /** Resume checkpoints (the stage's `ctx.checkpoint`): saved when due, the newest loaded at the start. */
  resume?: Checkpointer;
}

/** What a resume checkpoint of the loop holds (see the header). */
export interface LoopState<C = unknown> {
  v: 1;
  /** Epochs completed (the run continues with this epoch). */
  epoch: number;
  maxEpochs: number;
  steps: number;
  curves: EpochLog[];
  snapshots: Snapshot[];
  events: SettingChange[];
  initial: Values | null;
  /** Settings fixed by hooks (`set`), replacing their schedules. */
  fixed: Record<string, number>;
  /** `ckpt`: the best checkpoint (through the step's `encodeCheckpoint` when it has one). */
  best: { best: number; bestEpoch: number; ckpt: unknown; settings: Values | null } | null;
  rules: unknown[];
  hooks: unknown[];
  hookStop: string | null;
  shuffle: RngState | null;
  fresh: RngState | null;
  model: unknown;
}

export interface FitResult {
  curves: EpochLog[];
  initial: Values | null;
  /** Epoch of the restored checkpoint: −1 = the initial state (initialEval), or none kept (bestSettings null). */
  bestEpoch: number;
  bestValue: number;
  /** Settings at the start of the best epoch (null if none was kept). */
  bestSettings: Values | null;
  epochsRun: number;
  steps: number;
  stoppedEarly: boolean;
  stopReason: string | null;
  snapshots: Snapshot[];
  events: SettingChange[];
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export async function fit<C>(model: TrainStep<C>, o: FitOptions<C>): Promise<FitResult> {
  const plan = o.data;
  const schedules = new Map<string, Schedule | number>(Object.entries(o.schedules ?? {}));
  const hooks = o.hooks ?? [];
  const rules = o.stop === undefined ? [never()] : Array.isArray(o.stop) ? o.stop : [o.stop];
  const best = o.best ? new Monitor(o.best.monitor, o.best.mode ?? 'min', o.best.minDelta ?? 0) : null;
  const needRng = plan.mode === 'online' || (plan.mode === 'minibatch' && plan.shuffle !== false);
  if (needRng && !o.rng) throw new Error(`fit: ${plan.mode} batches need an rng`);
  const shuffleRng = plan.mode === 'minibatch' && plan.shuffle !== false ? o.rng!.fork('shuffle') : null;
  const freshRng = plan.mode === 'online' ? o.rng!.fork('fresh') : null;
  const rows = plan.mode === 'online' ? 0 : plan.rows;
  const perm = new Int32Array(rows);
  for (let i = 0; i < rows; i++) perm[i] = i;
  const curves: EpochLog[] = [];
  const snapshots: Snapshot[] = [];
  const events: SettingChange[] = [];
  let steps = 0;
  let bestCkpt: { c: C } | null = null;
  let bestSettings: Values | null = null;
  let stopReason: string | null = null;
  let hookStop: string | null = null;

  const valueOf = (s: Schedule | number, epoch: number) => (typeof s === 'number' ? s : s(epoch));
  const settingsAt = (epoch: number): Record<string, number> => {
    const s: Record<string, number> = {};
    for (const [k, v] of schedules) s[k] = valueOf(v, epoch);
    return s;
  };
  const snap = (epoch: number) => { if (model.snapshot) snapshots.push({ epoch, step: steps, values: model.snapshot() }); };
  const keep = (settings: Values) => {
    if (bestCkpt) model.release?.(bestCkpt.c);
    bestCkpt = { c: model.checkpoint() };
    bestSettings = settings;
  };

  const fixed: Record<string, number> = {};
  let unresumable: string | null = null;
  let live: Record<string, number> = settingsAt(0);
  let epochNow = 0;
  const runHooks = async (at: 'epochStart' | 'epochEnd' | 'steps', count: number) => {
    for (const h of hooks) {
      if ((h.at ?? 'epochEnd') !== at) continue;
      const every = Math.max(1, h.every ?? 1);
      if (at === 'epochStart' ? count % every !== 0 : (count + 1) % every !== 0) continue;
      const ctx: HookContext<C> = {
        epoch: epochNow, step: steps, settings: { ...live }, curves, model,
        set: (name, value) => {
          events.push({ epoch: epochNow, step: steps, at, name, from: live[name] ?? null, to: value });
          schedules.set(name, value);
          fixed[name] = value;
          live = { ...live, [name]: value };
        },
        schedule: (name, s) => {
          schedules.set(name, s);
          unresumable = `a hook replaced the schedule of '${name}' by a function`;
          const to = s(at === 'epochEnd' ? epochNow + 1 : epochNow);
          events.push({ epoch: epochNow, step: steps, at, name, from: live[name] ?? null, to });
          live = { ...live, [name]: to };
        },
        stop: (reason) => { hookStop ??= reason; },
      };
      await h.run(ctx);
    }
  };

  // resume: a hook or stop rule that remembers anything between calls must give state()/setState();
  // a hook that replaced a schedule by a function makes the run unresumable (no more saves)
  const resume = o.resume;
  if (resume && (!model.state || !model.setState)) throw new Error('fit: resume needs a step with state() and setState()');
  for (const h of hooks) if (resume && !h.state !== !h.setState) throw new Error('fit: a hook has state() without setState() (or the reverse)');
  const saved = resume?.load<LoopState<C>>() ?? null;
  if (saved && saved.state.maxEpochs !== o.maxEpochs) throw new Error(`resume checkpoint is for ${saved.state.maxEpochs} epochs, this run has ${o.maxEpochs}`);
  let first = 0;
  let initial: Values | null = null;
  const snapEvery = o.snapshots ? Math.max(1, o.snapshots.every) : 0;
  const snapBySteps = o.snapshots?.unit === 'step';
  if (saved) {
    const st = saved.state;
    model.setState!(st.model);
    first = st.epoch; steps = st.steps; initial = st.initial; hookStop = st.hookStop;
    curves.push(...st.curves); snapshots.push(...st.snapshots); events.push(...st.events);
    for (const [k, v] of Object.entries(st.fixed)) { schedules.set(k, v); fixed[k] = v; }
    if (best && st.best) {
      best.best = st.best.best; best.bestEpoch = st.best.bestEpoch;
      bestCkpt = st.best.ckpt === null ? null : { c: model.decodeCheckpoint ? model.decodeCheckpoint(st.best.ckpt) : st.best.ckpt as C };
      bestSettings = st.best.settings;
    }
    rules.forEach((r, i) => r.setState?.(st.rules[i]));
    hooks.forEach((h, i) => h.setState?.(st.hooks[i]));
    if (shuffleRng && st.shuffle) shuffleRng.setState(st.shuffle);
    if (freshRng && st.fresh) freshRng.setState(st.fresh);
    resume!.resumed({ epoch: first, total: o.maxEpochs });
  } else {
    if (o.initialEval) {
      initial = await model.evaluate(-1, live);
      if (best) {
        const init = initial[best.key];
        if (init !== undefined && best.update(-1, init)) keep(live);
      }
    }
    for (const r of rules) r.start?.(initial);
    if (snapEvery) snap(-1);
  }
  const saveState = (epochsDone: number) => {
    const kept = bestCkpt as { c: C } | null;
    const state: LoopState<C> = {
      v: 1, epoch: epochsDone, maxEpochs: o.maxEpochs, steps, curves, snapshots, events, initial, fixed,
      best: best ? { best: best.best, bestEpoch: best.bestEpoch, ckpt: kept ? (model.encodeCheckpoint ? model.encodeCheckpoint(kept.c) : kept.c) : null, settings: bestSettings } : null,
      rules: rules.map((r) => r.state?.() ?? null),
      hooks: hooks.map((h) => h.state?.() ?? null),
      hookStop, shuffle: shuffleRng?.getState() ?? null, fresh: freshRng?.getState() ?? null,
      model: model.state!(),
    };
    resume!.save(state, { epoch: epochsDone, total: o.maxEpochs });
  };

  const nBatches = plan.mode === 'online' ? plan.stepsPerEpoch : plan.mode === 'full' ? 1 : Math.ceil(rows / plan.batchSize);
  const batchSize = plan.mode === 'online' ? plan.batchSize : plan.mode === 'full' ? rows : plan.batchSize;
  const stepHooks = hooks.some((h) => h.at === 'steps');
  const batch: Batch = { epoch: 0, index: 0, step: 0, perm: plan.mode === 'online' ? null : perm, start: 0, size: 0, rng: freshRng };
  let sums: Map<string, number> = new Map();

  for (let epoch = first; epoch < o.maxEpochs; epoch++) {
    epochNow = epoch;
    live = settingsAt(epoch);
    await runHooks('epochStart', epoch);
    const settings: Values = { ...live };
    model.beginEpoch?.(epoch, settings);
    if (shuffleRng) {
      for (let i = 0; i < rows; i++) perm[i] = i;
      shuffleRng.shuffle(perm);
    }
    sums = new Map();
    let weight = 0;
    for (let b = 0; b < nBatches; b++) {
      if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
      const start = plan.mode === 'online' ? 0 : b * batchSize;
      const size = plan.mode === 'online' ? batchSize : Math.min(batchSize, rows - start);
      batch.epoch = epoch; batch.index = b; batch.step = steps; batch.start = start; batch.size = size;
      const out = await model.step(batch, live);
      steps++;
      if (out) {
        for (const k in out) sums.set(k, (sums.get(k) ?? 0) + out[k]! * size);
        weight += size;
      }
      if (stepHooks) await runHooks('steps', steps - 1);
      if (snapBySteps && steps % snapEvery === 0) snap(epoch);
    }
    const own = model.endEpoch?.(epoch, settings);
    const train: Values = own ?? Object.fromEntries([...sums].map(([k, v]) => [k, v / weight]));
    const ev = await model.evaluate(epoch, settings);
    const rec: EpochLog = { epoch, step: steps, settings, train, eval: ev };
    curves.push(rec);
    const flat = flatten(rec);
    for (const k of o.finite ?? []) {
      const v = logged(flat, k);
      if (!Number.isFinite(v)) throw new Error(`training diverged at epoch ${epoch} (${k.replace(/_/g, ' ')} ${v})`);
    }
    const candidate = o.best?.scoreLast !== false || epoch < o.maxEpochs - 1;
    if (best && candidate && best.update(epoch, logged(flat, best.key))) keep(settings);
    await o.onEpoch?.(rec);
    o.progress?.({ done: epoch + 1, total: o.maxEpochs, unit: 'epoch', message: o.describe?.(rec) });
    await runHooks('epochEnd', epoch);
    if (snapEvery && !snapBySteps && (epoch + 1) % snapEvery === 0) snap(epoch);
    await yieldToEventLoop();
    for (const r of rules) {
      stopReason = r.update(epoch, flat);
      if (stopReason) break;
    }
    stopReason ??= hookStop;
    if (stopReason) break;
    if (resume && !unresumable && epoch + 1 < o.maxEpochs && resume.due(epoch + 1)) saveState(epoch + 1);
  }
  const last = curves.at(-1);
  if (snapEvery && last && snapshots.at(-1)?.step !== steps) snap(last.epoch);
  const kept = bestCkpt as { c: C } | null;
  if (kept) {
    model.restore(kept.c);
    model.release?.(kept.c);
  }
  return {
    curves, initial,
    bestEpoch: best?.bestEpoch ?? -1, bestValue: best?.best ?? NaN, bestSettings,
    epochsRun: curves.length, steps, stoppedEarly: stopReason !== null, stopReason, snapshots, events,
  };
}

/** One flat row per epoch: epoch, the settings, train_<k> (`loss` → train_loss), then the eval keys. */
export function flatten(rec: EpochLog): Record<string, number> {
  const row: Record<string, number> = { epoch: rec.epoch, ...rec.settings };
  for (const [k, v] of Object.entries(rec.train)) row[`train_${k}`] = v;
  return Object.assign(row, rec.eval);
}
