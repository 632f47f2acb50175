/**
 * The scheduler: walks a subset of the DAG, starting a stage as soon as every selected
 * upstream stage finished successfully, with up to `lookahead` stages in flight (fingerprinting
 * and cache checks run ahead of the worker slots, which the stage runner holds). It knows
 * nothing about caching or processes: `process(st)` says how a stage ended.
 */
import type { PlannedStage } from '../front/graph.js';
import type { StageSubset } from './subset.js';
import type { SkipReason } from './events.js';

/** How processing a stage ended, as far as scheduling goes. */
export type Disposition =
  /** ran or was cached: its dependents may start */
  | 'ok'
  /** failed: its dependents are skipped; the run stops unless keepGoing */
  | 'failed'
  /** aborted while running: counts as finished, dependents do not start */
  | 'interrupted'
  /** not started because the run is stopping: left for the "not run" list */
  | 'not-started'
  /** (`pipe pull`) neither local nor on the remote: done with, its dependents are skipped */
  | 'unavailable';

export interface SchedulerHooks {
  process(st: PlannedStage): Promise<Disposition>;
  /**
   * Settles a stage at once when that needs no waiting (a cache hit), or returns undefined and
   * the stage goes to `process`. A no-op rerun then passes no stage through a promise.
   */
  now?(st: PlannedStage): 'ok' | undefined;
  /** A dependent of a failed stage will not run. */
  skipped(id: string, why: SkipReason): void;
  /** `process` threw: the stage failed with this error. */
  crashed(id: string, error: Error): void;
}

export class Scheduler {
  private stopped = false;
  private readonly finished = new Set<string>();

  constructor(private readonly subset: StageSubset, private readonly opts: { lookahead: number; keepGoing: boolean }) {}

  /** Start nothing new (Ctrl-C, or a failure without keepGoing). */
  stop(): void {
    this.stopped = true;
  }

  get stopping(): boolean {
    return this.stopped;
  }

  /** Runs to completion; returns the stages that never finished (not started, in order). */
  async run(h: SchedulerHooks): Promise<PlannedStage[]> {
    const stages = this.subset.stages();
    const waiting = new Map<string, number>();
    const dependents = new Map<string, string[]>();
    for (const s of stages) {
      const deps = s.deps.filter((d) => this.subset.has(d));
      waiting.set(s.id, deps.length);
      for (const d of deps) {
        let l = dependents.get(d);
        if (!l) dependents.set(d, (l = []));
        l.push(s.id);
      }
    }
    // a queue: `head` is its front (shift() of a thousand-element array copies it)
    const ready = stages.filter((s) => waiting.get(s.id) === 0);
    let head = 0;
    let wake: () => void = () => undefined;
    const release = (id: string) => {
      for (const c of dependents.get(id) ?? []) {
        const n = waiting.get(c)! - 1;
        waiting.set(c, n);
        if (n === 0) ready.push(this.subset.g.byId.get(c)!);
      }
    };
    const skipDownstream = (id: string, why: SkipReason) => {
      for (const c of dependents.get(id) ?? []) {
        if (this.finished.has(c)) continue;
        this.finished.add(c);
        h.skipped(c, why);
        skipDownstream(c, why);
      }
    };
    const failed = (id: string) => {
      this.finished.add(id);
      skipDownstream(id, { code: 'upstream-failed', upstream: id });
      if (!this.opts.keepGoing) this.stopped = true;
    };
    const inflight = new Set<Promise<void>>();
    let settled = 0;
    for (;;) {
      while (!this.stopped && head < ready.length && inflight.size < this.opts.lookahead) {
        const st = ready[head++]!;
        if (head > 1024 && head * 2 > ready.length) { ready.splice(0, head); head = 0; }
        if (h.now) {
          let d: 'ok' | undefined;
          try {
            d = h.now(st);
          } catch (e) {
            h.crashed(st.id, e as Error);
            failed(st.id);
            continue;
          }
          if (d === 'ok') {
            this.finished.add(st.id);
            release(st.id);
            // let signals, timers and the display in now and then (10,001 hits take a second)
            if (++settled % 256 === 0) await new Promise<void>((r) => setImmediate(r));
            continue;
          }
        }
        const p = h.process(st).then(
          (d) => {
            if (d === 'ok') { this.finished.add(st.id); release(st.id); }
            else if (d === 'failed') failed(st.id);
            else if (d === 'interrupted') this.finished.add(st.id);
            else if (d === 'unavailable') { this.finished.add(st.id); skipDownstream(st.id, { code: 'upstream-not-pulled', upstream: st.id }); }
          },
          (e: Error) => { h.crashed(st.id, e); failed(st.id); },
        ).finally(() => { inflight.delete(p); wake(); });
        inflight.add(p);
      }
      if (!inflight.size) break;
      await new Promise<void>((r) => { wake = r; });
    }
    return stages.filter((s) => !this.finished.has(s.id));
  }
}
