/**
 * `pipe graph`: the DAG as ASCII, Graphviz DOT or Mermaid. Matrix stages are drawn as one
 * group (with per-state counts) unless `expand` is set, so a 40-instance sweep stays readable.
 */
import type { PipelineGraph } from '../front/graph.js';
import type { StageState } from '../cache/plan.js';

export type GraphFormat = 'ascii' | 'dot' | 'mermaid' | 'html';

const MARK: Record<StageState, string> = { fresh: '●', stale: '◐', 'never-run': '○', failed: '✗' };
const COLOR: Record<StageState, string> = { fresh: '#2e7d32', stale: '#f9a825', 'never-run': '#9e9e9e', failed: '#c62828' };

interface GroupInfo {
  base: string;
  kind: string;
  ids: string[];
  keys: string[];
  deps: Set<string>;
  counts: Partial<Record<StageState, number>>;
}

function groups(g: PipelineGraph, states: Map<string, StageState>): GroupInfo[] {
  const out = new Map<string, GroupInfo>();
  for (const s of g.order) {
    let gi = out.get(s.base);
    if (!gi) {
      gi = { base: s.base, kind: s.kind.kind, ids: [], keys: Object.keys(s.matrix), deps: new Set(), counts: {} };
      out.set(s.base, gi);
    }
    gi.ids.push(s.id);
    for (const d of s.deps) gi.deps.add(g.byId.get(d)!.base);
    const st = states.get(s.id) ?? 'never-run';
    gi.counts[st] = (gi.counts[st] ?? 0) + 1;
  }
  return [...out.values()];
}

const ANSI: Record<StageState, string> = { fresh: '\x1b[32m', stale: '\x1b[33m', 'never-run': '\x1b[90m', failed: '\x1b[31m' };
let useColor = false;
/** Colour the ASCII graph's state marks (for terminals). */
export function setGraphColor(on: boolean): void {
  useColor = on;
}
const paint = (k: StageState, s: string) => (useColor ? `${ANSI[k]}${s}\x1b[0m` : s);

function countText(c: Partial<Record<StageState, number>>): string {
  return (Object.keys(MARK) as StageState[]).filter((k) => c[k]).map((k) => paint(k, `${MARK[k]} ${c[k]} ${k}`)).join('  ');
}

function layers(gs: GroupInfo[]): Map<string, number> {
  const depth = new Map<string, number>();
  for (const gi of gs) depth.set(gi.base, Math.max(0, ...[...gi.deps].map((d) => (depth.get(d) ?? 0) + 1)));
  return depth;
}

export function renderAscii(g: PipelineGraph, states: Map<string, StageState>, expand = false): string {
  const gs = groups(g, states);
  const depth = layers(gs);
  const total = g.order.length;
  const all: Partial<Record<StageState, number>> = {};
  for (const st of states.values()) all[st] = (all[st] ?? 0) + 1;
  const lines = [`${g.pipeline.name}: ${total} stages in ${gs.length} groups   ${countText(all)}`, ''];
  const w = Math.max(...gs.map((x) => x.base.length + 2 * (depth.get(x.base) ?? 0) + (x.keys.length ? x.keys.join('×').length + 2 : 0))) + 2;
  for (const gi of gs) {
    const d = depth.get(gi.base) ?? 0;
    const label = `${'  '.repeat(d)}${d ? '└▶ ' : ''}${gi.base}${gi.keys.length ? `[${gi.keys.join('×')}]` : ''}`;
    const from = gi.deps.size ? `  ← ${[...gi.deps].join(', ')}` : '';
    lines.push(`${label.padEnd(w + 3)} ${gi.kind.padEnd(18)} ×${String(gi.ids.length).padEnd(4)} ${countText(gi.counts)}${from}`);
    if (expand && gi.keys.length) {
      for (const id of gi.ids) {
        const st = states.get(id) ?? 'never-run';
        lines.push(`${' '.repeat(2 * d + 6)}${paint(st, MARK[st])} ${id}`);
      }
    }
  }
  lines.push('', `legend: ${(Object.keys(MARK) as StageState[]).map((k) => paint(k, `${MARK[k]} ${k}`)).join('  ')}`);
  return lines.join('\n');
}

const dotId = (s: string) => JSON.stringify(s);

export function renderDot(g: PipelineGraph, states: Map<string, StageState>, expand = false): string {
  const gs = groups(g, states);
  const out = [`digraph ${dotId(g.pipeline.name)} {`, '  rankdir=LR;', '  node [shape=box, style="rounded,filled", fontname="DejaVu Sans", fillcolor=white];'];
  if (!expand) {
    for (const gi of gs) {
      const worst = (['failed', 'stale', 'never-run', 'fresh'] as StageState[]).find((k) => gi.counts[k]) ?? 'never-run';
      const label = `${gi.base}${gi.keys.length ? `[${gi.keys.join('×')}] ×${gi.ids.length}` : ''}\\n${gi.kind}\\n${countText(gi.counts)}`;
      out.push(`  ${dotId(gi.base)} [label=${dotId(label).replace(/\\\\n/g, '\\n')}, color=${dotId(COLOR[worst])}, penwidth=2];`);
    }
    for (const gi of gs) for (const d of gi.deps) out.push(`  ${dotId(d)} -> ${dotId(gi.base)};`);
  } else {
    for (const gi of gs) {
      out.push(`  subgraph ${dotId('cluster_' + gi.base)} {`, `    label=${dotId(`${gi.base} (${gi.kind})`)};`);
      for (const id of gi.ids) out.push(`    ${dotId(id)} [color=${dotId(COLOR[states.get(id) ?? 'never-run'])}, penwidth=2];`);
      out.push('  }');
    }
    for (const s of g.order) for (const d of s.deps) out.push(`  ${dotId(d)} -> ${dotId(s.id)};`);
  }
  out.push('}');
  return out.join('\n');
}

export function renderMermaid(g: PipelineGraph, states: Map<string, StageState>, expand = false): string {
  const gs = groups(g, states);
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
  const out = ['flowchart LR'];
  for (const k of Object.keys(COLOR) as StageState[]) out.push(`  classDef ${safe(k)} stroke:${COLOR[k]},stroke-width:2px;`);
  if (!expand) {
    for (const gi of gs) {
      const worst = (['failed', 'stale', 'never-run', 'fresh'] as StageState[]).find((k) => gi.counts[k]) ?? 'never-run';
      out.push(`  ${safe(gi.base)}["${gi.base}${gi.keys.length ? ` [${gi.keys.join('×')}] ×${gi.ids.length}` : ''}<br/>${gi.kind}<br/>${countText(gi.counts)}"]:::${safe(worst)}`);
    }
    for (const gi of gs) for (const d of gi.deps) out.push(`  ${safe(d)} --> ${safe(gi.base)}`);
  } else {
    for (const gi of gs) {
      out.push(`  subgraph ${safe(gi.base)}_group["${gi.base} (${gi.kind})"]`);
      for (const id of gi.ids) out.push(`    ${safe(id)}["${id}"]:::${safe(states.get(id) ?? 'never-run')}`);
      out.push('  end');
    }
    for (const s of g.order) for (const d of s.deps) out.push(`  ${safe(d)} --> ${safe(s.id)}`);
  }
  return out.join('\n');
}
