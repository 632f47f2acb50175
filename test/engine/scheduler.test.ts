/**
 * The scheduler's synchronous path (src/engine/exec/scheduler.ts `now`) and the planner's key
 * without waiting (src/engine/cache/plan.ts `fingerprintNow`): a no-op rerun settles every stage
 * without a promise, in dependency order, and gives the event loop a turn now and then; the key
 * computed at once is the key `fingerprintOf` computes.
 */
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/engine/exec/scheduler.js';
import { StageSubset } from '../../src/engine/exec/subset.js';
import { Planner } from '../../src/engine/cache/plan.js';
import { dependentsOf, type PipelineGraph, type PlannedStage } from '../../src/engine/front/graph.js';
import type { StageKind } from '../../src/sdk/stage.js';
import type { ContentHash } from '../../src/lib/hash.js';

const kind = (over: Partial<StageKind> = {}) => ({ kind: 'k', version: '1', params: {}, inputs: {}, outputs: {}, run: async () => undefined, ...over }) as unknown as StageKind;

/** A graph of stages with the given deps (ids in topological order). */
function graph(deps: Record<string, string[]>, k: StageKind = kind()): PipelineGraph {
  const order = Object.entries(deps).map(([id, d]) => ({ id, base: id, kind: k, params: { id }, seed: 0, matrix: {}, inputs: {}, bindings: {}, deps: d }) as unknown as PlannedStage);
  return { pipeline: { name: 'p' } as never, order, byId: new Map(order.map((s) => [s.id, s])), dependents: dependentsOf(order), headline: [] };
}

const all = (g: PipelineGraph) => new StageSubset(g, new Set(g.order.map((s) => s.id)));

describe('scheduler: stages settled at once', () => {
  it('settles hits without process(), in dependency order; misses go to process(); a throwing now() fails the stage and skips its dependents', async () => {
    const g = graph({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'], e: [], f: ['e'], x: [], y: ['x'] });
    const done: string[] = [];
    const processed: string[] = [];
    const skipped: string[] = [];
    const crashed: string[] = [];
    const check = (id: string) => { for (const dep of g.byId.get(id)!.deps) expect(done, `${id} after ${dep}`).toContain(dep); done.push(id); };
    const notRun = await new Scheduler(all(g), { lookahead: 2, keepGoing: true }).run({
      now: (st) => {
        if (st.id === 'x') throw new Error('boom');
        if (st.id === 'c' || st.id === 'f') return undefined; // a miss
        check(st.id);
        return 'ok';
      },
      process: async (st) => {
        await new Promise((r) => setTimeout(r, 5));
        check(st.id);
        processed.push(st.id);
        return 'ok';
      },
      skipped: (id) => skipped.push(id),
      crashed: (id, e) => { expect(e.message).toBe('boom'); crashed.push(id); },
    });
    expect(processed.sort()).toEqual(['c', 'f']);
    expect(done.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(crashed).toEqual(['x']);
    expect(skipped).toEqual(['y']);
    expect(notRun.map((s) => s.id)).toEqual([]);
  });

  it('a long run of hits lets the event loop in (a timer set before the run fires during it)', async () => {
    const deps: Record<string, string[]> = { s0: [] };
    for (let i = 1; i < 2000; i++) deps[`s${i}`] = [`s${i - 1}`];
    const g = graph(deps);
    let settled = 0;
    let firedAt = -1;
    setImmediate(() => { firedAt = settled; });
    await new Scheduler(all(g), { lookahead: 8, keepGoing: false }).run({
      now: () => { settled++; return 'ok'; },
      process: async () => { throw new Error('not reached'); },
      skipped: () => undefined,
      crashed: () => undefined,
    });
    expect(settled).toBe(2000);
    expect(firedAt).toBeGreaterThan(0);
    expect(firedAt).toBeLessThan(2000);
  });

  it('a stopped run settles nothing more', async () => {
    const g = graph({ a: [], b: ['a'], c: ['b'] });
    const s = new Scheduler(all(g), { lookahead: 4, keepGoing: false });
    const seen: string[] = [];
    const notRun = await s.run({
      now: (st) => { seen.push(st.id); if (st.id === 'a') s.stop(); return 'ok'; },
      process: async () => 'ok',
      skipped: () => undefined,
      crashed: () => undefined,
    });
    expect(seen).toEqual(['a']);
    expect(notRun.map((x) => x.id)).toEqual(['b', 'c']);
  });
});

describe('planner: the key without waiting', () => {
  const inputs = { x: ['9a271f2a916b0b6ee6cecb2426f0b3206ef074578be55d9bc94f6f3fe3ab86aa' as ContentHash] };

  it('equals fingerprintOf for a kind with nothing asynchronous in its key', async () => {
    const g = graph({ a: [] });
    const p = new Planner(g, undefined as never, undefined as never, '/nonexistent');
    const st = g.order[0]!;
    const now = p.fingerprintNow(st, inputs);
    expect(now).toBeDefined();
    expect(now).toEqual(await p.fingerprintOf(st, inputs));
  });

  it('waits for runtime facts it does not know yet, then equals fingerprintOf; gives nothing for kinds naming project files', async () => {
    const withRuntime = graph({ a: [] }, kind({ runtime: async () => ({ lib: '1.2.3' }) } as Partial<StageKind>));
    const p = new Planner(withRuntime, undefined as never, undefined as never, '/nonexistent');
    const st = withRuntime.order[0]!;
    expect(p.fingerprintNow(st, inputs)).toBeUndefined();
    const later = await p.fingerprintOf(st, inputs);
    expect(later.data.runtime).toMatchObject({ lib: '1.2.3' });
    expect(p.fingerprintNow(st, inputs)).toEqual(later);

    for (const over of [{ codeFiles: async () => ['x.py'] }, { fileDeps: () => ['data.csv'] }] as Partial<StageKind>[]) {
      const gg = graph({ a: [] }, kind(over));
      expect(new Planner(gg, undefined as never, undefined as never, '/nonexistent').fingerprintNow(gg.order[0]!, inputs)).toBeUndefined();
    }
    // a kind whose fileDeps names nothing for these params keys at once
    const none = graph({ a: [] }, kind({ fileDeps: () => [] } as Partial<StageKind>));
    const pn = new Planner(none, undefined as never, undefined as never, '/nonexistent');
    expect(pn.fingerprintNow(none.order[0]!, inputs)).toEqual(await pn.fingerprintOf(none.order[0]!, inputs));
  });
});
