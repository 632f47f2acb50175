/**
 * Step 4 — graph: resolve every input reference to producing stage instances, build the DAG
 * (graphology), reject cycles (printing the cycle), and order the stages topologically.
 */
import type { DirectedGraph } from '../../lib/vendor-front.js';
import { frontLibs } from '../../lib/front-libs.js';
import { PipeError, PipeErrors, didYouMean } from '../errors.js';
import type { ExpandedPipeline, InputRefDecl, StageInstance } from './expand.js';
import { resolvePorts, type OutputSpec } from '../../sdk/stage.js';

export interface Binding {
  /** Producing instance id. */
  stage: string;
  output: string;
}

export interface PlannedStage extends StageInstance {
  /** Input name → bound artifacts (in a stable order). */
  bindings: Record<string, Binding[]>;
  /** Upstream instance ids. */
  deps: string[];
  /**
   * The RFC 8785 text of `params`, when the graph came from the graph cache (which keeps it, and
   * freezes `params`): the fingerprint takes it instead of serializing the params again.
   */
  paramsText?: string;
}

export interface PipelineGraph {
  pipeline: ExpandedPipeline;
  /** Stage id → the ids of the stages that take one of its outputs (the DAG's out-edges). */
  dependents: ReadonlyMap<string, readonly string[]>;
  /** Stages in a topological order. */
  order: PlannedStage[];
  byId: Map<string, PlannedStage>;
  /** The report's headline outputs (`report: {headline}`), resolved to instances, in order. */
  headline: { text: string; bindings: Binding[] }[];
}

function matches(inst: StageInstance, where: Record<string, unknown>): boolean {
  return Object.entries(where).every(([k, v]) => String(inst.matrix[k]) === String(v));
}

/** The output ports of a producing instance (computed once per instance: a gather asks for each). */
const outputPorts = new WeakMap<StageInstance, Record<string, OutputSpec>>();
function portsOf(t: StageInstance): Record<string, OutputSpec> {
  let o = outputPorts.get(t);
  if (!o) outputPorts.set(t, (o = resolvePorts(t.kind.outputs, t.params)));
  return o;
}

function resolveRef(consumer: StageInstance, ref: InputRefDecl, byBase: Map<string, StageInstance[]>, p: ExpandedPipeline): StageInstance[] {
  const at = () => p.file.locate(ref.path);
  const targets = byBase.get(ref.stage);
  if (!targets && p.disabled.has(ref.stage)) {
    throw new PipeError(`stage '${consumer.id}': input refers to '${ref.stage}', which its \`when:\` switches off here (${p.disabled.get(ref.stage)}); switch '${consumer.base}' off under the same condition, or drop the input`, at());
  }
  if (!targets) {
    throw new PipeError(`stage '${consumer.base}': input refers to unknown stage '${ref.stage}'${didYouMean(ref.stage, byBase.keys())}`, at());
  }
  const keys = Object.keys(targets[0]!.matrix);
  for (const k of Object.keys(ref.selector.where)) {
    if (!keys.includes(k)) throw new PipeError(`'${ref.text}': stage '${ref.stage}' has no matrix key '${k}'${didYouMean(k, keys)}${keys.length ? '' : ' (it is not a matrix stage)'}`, at());
  }
  const outs = portsOf(targets[0]!);
  if (!(ref.output in outs)) {
    throw new PipeError(`'${ref.text}': stage '${ref.stage}' (${targets[0]!.kind.kind}) has no output '${ref.output}'${didYouMean(ref.output, Object.keys(outs))}; its outputs: ${Object.keys(outs).join(', ') || 'none'}`, at());
  }
  // Explicit constraints, then matrix keys shared with the consumer that are not constrained.
  const auto: Record<string, unknown> = {};
  for (const k of keys) if (!(k in ref.selector.where) && k in consumer.matrix) auto[k] = consumer.matrix[k];
  const found = targets.filter((t) => matches(t, ref.selector.where) && matches(t, auto));
  if (found.length === 0) {
    throw new PipeError(`'${ref.text}' matches no instance of '${ref.stage}' (for ${consumer.id})`, at());
  }
  if (!ref.selector.gather && found.length > 1) {
    const free = keys.filter((k) => !(k in consumer.matrix));
    throw new PipeError(`'${ref.text}' matches ${found.length} instances of '${ref.stage}' (matrix keys ${free.join(', ')} are not fixed by ${consumer.id}); pick one with ${ref.stage}[${free.map((k) => `${k}=…`).join(',')}].${ref.output} or gather all with ${ref.stage}[*].${ref.output}`, at());
  }
  return found;
}

/** Finds one cycle (as a list of node ids, first = last) in a graph that has one. */
function findCycle(g: DirectedGraph): string[] | null {
  const color = new Map<string, number>();
  const stack: string[] = [];
  let cycle: string[] | null = null;
  const visit = (n: string): boolean => {
    color.set(n, 1);
    stack.push(n);
    for (const m of g.outNeighbors(n)) {
      const c = color.get(m) ?? 0;
      if (c === 1) {
        cycle = [...stack.slice(stack.indexOf(m)), m];
        return true;
      }
      if (c === 0 && visit(m)) return true;
    }
    stack.pop();
    color.set(n, 2);
    return false;
  };
  for (const n of g.nodes()) if (!color.get(n) && visit(n)) break;
  return cycle;
}

/** Each stage's dependents, from the stages' `deps` (in `order`). */
export function dependentsOf(order: readonly PlannedStage[]): Map<string, string[]> {
  const m = new Map<string, string[]>(order.map((s) => [s.id, []]));
  for (const s of order) for (const d of s.deps) m.get(d)!.push(s.id);
  return m;
}

export function buildGraph(p: ExpandedPipeline): PipelineGraph {
  const { DirectedGraph, topologicalSort } = frontLibs();
  const byBase = new Map<string, StageInstance[]>();
  for (const inst of p.instances) {
    const l = byBase.get(inst.base) ?? [];
    l.push(inst);
    byBase.set(inst.base, l);
  }
  const graph = new DirectedGraph();
  const planned = new Map<string, PlannedStage>();
  for (const inst of p.instances) graph.addNode(inst.id);
  const errors: PipeError[] = [];
  for (const inst of p.instances) {
    const bindings: Record<string, Binding[]> = {};
    try {
      for (const [name, { refs, spec }] of Object.entries(inst.inputs)) {
        const list: Binding[] = [];
        for (const ref of refs) {
          for (const t of resolveRef(inst, ref, byBase, p)) {
            if (spec.convertTo) {
              const type = portsOf(t)[ref.output]?.type;
              if (type !== 'table' && type !== 'any') throw new PipeError(`stage '${inst.base}': input '${name}' asks for ${spec.convertTo}, but '${ref.text}' is a ${type} output; only tables convert (csv, npy, npz, parquet)`, p.file.locate(ref.path));
            }
            list.push({ stage: t.id, output: ref.output });
          }
        }
        if (!spec.multiple && list.length !== 1) {
          throw new PipeError(`stage '${inst.id}': input '${name}' takes one artifact, but its reference gives ${list.length}`, p.file.locate(refs[0]!.path));
        }
        bindings[name] = list;
        for (const b of list) if (!graph.hasEdge(b.stage, inst.id)) graph.addEdge(b.stage, inst.id);
      }
    } catch (e) {
      if (e instanceof PipeError) errors.push(e);
      else throw e;
    }
    planned.set(inst.id, { ...inst, bindings, deps: [] });
  }
  // the report's headline: checked here, so a typo fails before the run rather than after it
  const headline: PipelineGraph['headline'] = [];
  const reportConsumer = { id: 'report.headline', base: 'report.headline', matrix: {} } as unknown as StageInstance;
  for (const ref of p.headline) {
    if (p.disabled.has(ref.stage)) continue; // switched off by its `when:` in this configuration
    try {
      headline.push({ text: ref.text, bindings: resolveRef(reportConsumer, ref, byBase, p).map((t) => ({ stage: t.id, output: ref.output })) });
    } catch (e) {
      if (e instanceof PipeError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length) {
    const seen = new Set<string>();
    throw new PipeErrors(errors.filter((e) => { const k = e.format().replace(/\(for [^)]*\)/, ''); if (seen.has(k)) return false; seen.add(k); return true; }));
  }
  // the order exists exactly when there is no cycle; only then is one searched, to print it
  let ids: string[];
  try {
    ids = topologicalSort(graph);
  } catch (e) {
    const cycle = findCycle(graph);
    if (!cycle) throw e;
    const first = planned.get(cycle[1] ?? cycle[0]!)!;
    throw new PipeError(`dependency cycle: ${cycle.join(' → ')}`, p.file.locate(['stages', first.base, 'inputs'], { key: true }));
  }
  for (const st of planned.values()) st.deps = graph.inNeighbors(st.id);
  const order = ids.map((id) => planned.get(id)!);
  return { pipeline: p, dependents: dependentsOf(order), order, byId: planned, headline };
}
