/**
 * Subsets of a pipeline's stages as immutable values with graph operations — the one way every
 * command selects stages: `run --only` (named ∪ ancestors), `--force`, `--dry-run` (exactly what
 * the same run would execute), the preflight, `invalidate --downstream` (named ∪ descendants).
 * Every operation returns a new subset; iteration is in the graph's topological order.
 */
import { PipeError, didYouMean } from '../errors.js';
import type { PipelineGraph, PlannedStage } from '../front/graph.js';

export class StageSubset {
  private constructor(readonly g: PipelineGraph, private readonly set: ReadonlySet<string>) {}

  static all(g: PipelineGraph): StageSubset {
    return new StageSubset(g, new Set(g.order.map((s) => s.id)));
  }

  static none(g: PipelineGraph): StageSubset {
    return new StageSubset(g, new Set());
  }

  static of(g: PipelineGraph, ids: Iterable<string>): StageSubset {
    const s = new Set<string>();
    for (const id of ids) {
      if (!g.byId.has(id)) throw new Error(`internal: no stage ${id}`);
      s.add(id);
    }
    return new StageSubset(g, s);
  }

  /**
   * Stages matching user-given names: an instance id, a base name (every matrix instance of
   * it), or a prefix ending in '*'. An unknown name is an error with a did-you-mean.
   */
  static named(g: PipelineGraph, names: string[]): StageSubset {
    const out = new Set<string>();
    for (const n of names) {
      const hits = g.order.filter((s) => s.id === n || s.base === n || (n.endsWith('*') && s.id.startsWith(n.slice(0, -1))));
      if (!hits.length) {
        const cands = new Set([...g.order.map((s) => s.base), ...g.order.map((s) => s.id)]);
        throw new PipeError(`no stage '${n}' in ${g.pipeline.file.file}${didYouMean(n, cands)}`);
      }
      for (const h of hits) out.add(h.id);
    }
    return new StageSubset(g, out);
  }

  has(id: string): boolean {
    return this.set.has(id);
  }

  get size(): number {
    return this.set.size;
  }

  /** Ids in topological order. */
  ids(): string[] {
    return this.g.order.filter((s) => this.set.has(s.id)).map((s) => s.id);
  }

  /** Stages in topological order. */
  stages(): PlannedStage[] {
    return this.g.order.filter((s) => this.set.has(s.id));
  }

  /** This subset and everything it (transitively) depends on. */
  withAncestors(): StageSubset {
    return new StageSubset(this.g, this.walk((id) => this.g.byId.get(id)!.deps));
  }

  /** This subset and everything that (transitively) depends on it. */
  withDescendants(): StageSubset {
    return new StageSubset(this.g, this.walk((id) => this.g.dependents.get(id) ?? []));
  }

  /** Only the stages strictly downstream of this subset. */
  downstream(): StageSubset {
    return this.withDescendants().minus(this);
  }

  union(o: StageSubset): StageSubset {
    return new StageSubset(this.g, new Set([...this.set, ...o.set]));
  }

  intersect(o: StageSubset): StageSubset {
    return new StageSubset(this.g, new Set([...this.set].filter((id) => o.set.has(id))));
  }

  minus(o: StageSubset): StageSubset {
    return new StageSubset(this.g, new Set([...this.set].filter((id) => !o.set.has(id))));
  }

  filter(pred: (st: PlannedStage) => boolean): StageSubset {
    return new StageSubset(this.g, new Set([...this.set].filter((id) => pred(this.g.byId.get(id)!))));
  }

  private walk(next: (id: string) => Iterable<string>): Set<string> {
    const out = new Set(this.set);
    const stack = [...this.set];
    while (stack.length) {
      const id = stack.pop()!;
      for (const d of next(id)) if (!out.has(d)) { out.add(d); stack.push(d); }
    }
    return out;
  }
}

/** What `pipe run [--only …] [--force …]` considers and forces. */
export interface RunScope {
  /** The stages the run processes: all, or with `--only` the named ones and their ancestors. */
  selection: StageSubset;
  /** Stages `--force` re-executes (only those inside the selection are processed). */
  forced: StageSubset;
}

export function runScope(g: PipelineGraph, only: string[] = [], force: string[] = []): RunScope {
  const selection = only.length ? StageSubset.named(g, only).withAncestors() : StageSubset.all(g);
  const forced = force.length ? StageSubset.named(g, force) : StageSubset.none(g);
  return { selection, forced };
}

/**
 * The stages a run with this scope executes, from the current statuses: every selected stage
 * that is not fresh, and every selected forced one. (A stage downstream of one that reruns is
 * not fresh in the status, so it is included; the run may still find it cached by early cutoff
 * when its upstream writes identical bytes.)
 */
export function wouldRun(scope: RunScope, states: ReadonlyMap<string, string>): StageSubset {
  return scope.selection.filter((st) => scope.forced.has(st.id) || states.get(st.id) !== 'fresh');
}
