/**
 * How long a run still has to go, from the durations pipe has already recorded. Each stage
 * that will execute gets an expected duration, from the first of:
 *
 *  1. `last`     — the last recorded execution of the same stage (same pipeline and instance id),
 *                  scaled by how much faster or slower its siblings ran in this run than last time
 *                  (a run with fewer epochs corrects itself after the first instances finish);
 *  2. `siblings` — the median of its sibling instances (same stage, other matrix values: same
 *                  kind and params but for the matrix), recorded earlier or finished in this run;
 *  3. `kind`     — the median of every recorded execution of its kind (any pipeline);
 *  4. `run-mean` — the mean of the stages this run has executed so far;
 *  5. `none`     — nothing to go on yet (counted as 0 and flagged, so the ETA says "≥").
 *
 * Estimates improve while the run goes: a finished stage feeds tiers 2 and 4 of the ones left,
 * a running stage that reports progress (done/total) is extrapolated from its own rate. The
 * remaining wall time is the larger of total remaining work / jobs and the critical path (the
 * longest chain of dependent stages still to finish, a single stage included) — the usual lower
 * bounds of list scheduling on `jobs` workers.
 */
import type { PlannedStage } from '../front/graph.js';

export type EtaSource = 'last' | 'siblings' | 'kind' | 'run-mean' | 'none';

export interface DurationRecord { pipeline: string; stage_id: string; kind: string; ms: number }

export interface StageEstimate { ms: number; source: EtaSource }

const median = (xs: number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Running { started: number; done?: number; total?: number; firstAt?: { t: number; done: number } }

export class EtaEstimator {
  private readonly last = new Map<string, number>();
  private readonly byBase = new Map<string, number[]>();
  private readonly byKind = new Map<string, number[]>();
  private readonly runBase = new Map<string, number[]>();
  private readonly runAll: number[] = [];
  /** Per stage: this run's duration / the last recorded one, of the instances finished so far. */
  private readonly ratios = new Map<string, number[]>();
  private readonly pending = new Map<string, PlannedStage>();
  private readonly running = new Map<string, Running & { st: PlannedStage }>();
  private readonly all = new Map<string, PlannedStage>();
  private readonly memo = new Map<string, StageEstimate>();

  /**
   * @param history recorded executions (newest first; `EtaEstimator` keeps the newest per stage)
   * @param pipeline the pipeline being run (tiers 1–2 use only its records)
   * @param stages every stage of the run; `toRun` the ids expected to execute (cache misses)
   */
  constructor(history: DurationRecord[], private readonly pipeline: string, stages: PlannedStage[], toRun: Set<string>, private readonly jobs: number) {
    for (const r of history) {
      if (!(r.ms >= 0)) continue;
      if (r.pipeline === pipeline && !this.last.has(r.stage_id)) {
        // siblings: the newest record of each instance of the same stage
        this.last.set(r.stage_id, r.ms);
        const base = r.stage_id.replace(/\[.*$/, '');
        const l = this.byBase.get(base) ?? [];
        l.push(r.ms);
        this.byBase.set(base, l);
      }
      const k = this.byKind.get(r.kind) ?? [];
      if (k.length < 500) k.push(r.ms);
      this.byKind.set(r.kind, k);
    }
    for (const st of stages) {
      this.all.set(st.id, st);
      if (toRun.has(st.id)) this.pending.set(st.id, st);
    }
  }

  /** The expected duration of one stage, and where it comes from. */
  estimate(st: Pick<PlannedStage, 'id' | 'base' | 'kind'>): StageEstimate {
    // estimates change only when a stage finishes: remembered until then (the display asks every frame)
    let e = this.memo.get(st.id);
    if (!e) this.memo.set(st.id, (e = this.compute(st)));
    return e;
  }

  private compute(st: Pick<PlannedStage, 'id' | 'base' | 'kind'>): StageEstimate {
    const last = this.last.get(st.id);
    if (last !== undefined) {
      // siblings that finished in this run took r× their own last time (e.g. fewer epochs now): so will this one
      const r = this.ratios.get(st.base);
      return { ms: r?.length ? last * median(r) : last, source: 'last' };
    }
    const sib = [...(this.runBase.get(st.base) ?? []), ...(this.byBase.get(st.base) ?? [])];
    if (sib.length) return { ms: median(sib), source: 'siblings' };
    const kind = this.byKind.get(st.kind.kind);
    if (kind?.length) return { ms: median(kind), source: 'kind' };
    if (this.runAll.length) return { ms: this.runAll.reduce((a, b) => a + b, 0) / this.runAll.length, source: 'run-mean' };
    return { ms: 0, source: 'none' };
  }

  /** A stage found to be a cache hit after all: nothing to wait for. */
  cached(id: string): void {
    this.pending.delete(id);
  }

  /** A stage that was expected cached but executes (e.g. its upstream changed its bytes). */
  started(id: string, now: number): void {
    const st = this.all.get(id);
    if (!st) return;
    this.pending.delete(id);
    this.running.set(id, { st, started: now });
  }

  progress(id: string, done: number | undefined, total: number | undefined, now: number): void {
    const r = this.running.get(id);
    if (!r || done === undefined || !total) return;
    r.firstAt ??= { t: now, done };
    r.done = done;
    r.total = total;
  }

  /** A stage's end as a reporter sees it: cache hits and skips leave the queue, executions teach the estimates. */
  ended(id: string, outcome: 'ran' | 'cached' | 'failed' | 'skipped' | 'interrupted', durationMs?: number): void {
    if (outcome === 'cached' || outcome === 'skipped') this.cached(id);
    else this.finished(id, outcome === 'ran' ? durationMs : undefined);
  }

  finished(id: string, ms: number | undefined): void {
    const r = this.running.get(id);
    this.running.delete(id);
    this.pending.delete(id);
    if (!r || ms === undefined) return;
    const before = this.last.get(id);
    if (before !== undefined && before > 0) {
      const q = this.ratios.get(r.st.base) ?? [];
      q.push(ms / before);
      this.ratios.set(r.st.base, q);
    }
    const l = this.runBase.get(r.st.base) ?? [];
    l.unshift(ms);
    this.runBase.set(r.st.base, l);
    this.runAll.push(ms);
    this.memo.clear();
  }

  /** Remaining time of a running stage: its own rate once it reports progress, else estimate − elapsed. */
  stageLeft(id: string, now: number): number | undefined {
    const r = this.running.get(id);
    if (!r) return undefined;
    const elapsed = now - r.started;
    if (r.done !== undefined && r.total && r.firstAt && r.done > r.firstAt.done && now > r.firstAt.t) {
      // rate from the first report on (the first epoch also pays for setup)
      const rate = (r.done - r.firstAt.done) / (now - r.firstAt.t);
      return Math.max(0, (r.total - r.done) / rate);
    }
    const e = this.estimate(r.st);
    return e.source === 'none' ? undefined : Math.max(0, e.ms - elapsed);
  }

  /** Remaining wall time of the run; `lowerBound` when some stage has no estimate. */
  remaining(now: number): { ms: number; lowerBound: boolean; pending: number; running: number } {
    let work = 0, lowerBound = false;
    for (const id of this.running.keys()) {
      const left = this.stageLeft(id, now);
      if (left === undefined) lowerBound = true;
      else work += left;
    }
    for (const st of this.pending.values()) {
      const e = this.estimate(st);
      if (e.source === 'none') lowerBound = true;
      work += e.ms;
    }
    return { ms: Math.max(work / Math.max(1, this.jobs), this.criticalPath(now)), lowerBound, pending: this.pending.size, running: this.running.size };
  }

  /** The longest chain of dependent stages still to finish (running ones count their time left; a single stage is a chain too). */
  private criticalPath(now: number): number {
    const memo = new Map<string, number>();
    const finish = (id: string): number => {
      const m = memo.get(id);
      if (m !== undefined) return m;
      let v = 0;
      if (this.running.has(id)) v = this.stageLeft(id, now) ?? 0;
      else {
        const st = this.pending.get(id);
        if (st) {
          let before = 0;
          for (const d of st.deps ?? []) if (this.pending.has(d) || this.running.has(d)) before = Math.max(before, finish(d));
          v = before + this.estimate(st).ms;
        }
      }
      memo.set(id, v);
      return v;
    };
    let longest = 0;
    for (const id of [...this.running.keys(), ...this.pending.keys()]) longest = Math.max(longest, finish(id));
    return longest;
  }

  get pendingCount(): number {
    return this.pending.size;
  }
}

/** 12 s, 3 min 05 s, 1 h 02 min. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}
