/**
 * The implementation of `pipe diff` (src/cli/diff.ts registers the command and imports this on
 * use): picking the runs, the text / Markdown / JSON renderings, running the gates.
 */
import { PipeError } from '../engine/errors.js';
import { formatReasons } from '../engine/cache/reasons.js';
import type { Workspace } from '../engine/cache/workspace.js';
import { diffRuns, type DiffResult, type DiffRow, type StageDiff } from '../runs/diff.js';
import { evaluateGates, fmtSigned, parseFailIf, type GateResult } from '../runs/gate.js';
import { fmtTime, fmtValue, pipelineOf, resolveRun, runLabel, runView, withMetrics, type RunView } from '../runs/model.js';
import { dim, green, red, renderMd, renderText, useColor } from '../runs/table.js';

export interface DiffCommandOptions {
  all?: boolean;
  failIf: string[];
  atol?: number;
  rtol?: number;
  groupBy: string[];
  instances?: boolean;
  curves?: boolean;
  json?: boolean;
  md?: boolean;
}

/** Runs `pipe diff`; returns the exit code (1 when a gate failed). */
export async function diffCommand(ws: Workspace, args: string[], o: DiffCommandOptions, out: (s: string) => void, pipelineNameOf: (f: string) => string): Promise<number> {
  if (!ws.hasCache()) throw new PipeError('no cache here yet: nothing has run (pipe run <pipeline.yaml>)');
  const failIfs = o.failIf.map(parseFailIf);
  const runs = pickRuns(ws, [...args], pipelineNameOf);
  const d = await diffRuns(ws.db, (h) => ws.store.path(h), runs, { atol: o.atol, rtol: o.rtol, groupBy: o.groupBy, curves: o.curves });
  const gate = failIfs.length || o.atol !== undefined || o.rtol !== undefined ? evaluateGates(d, failIfs, { atol: o.atol, rtol: o.rtol }) : undefined;
  // with instance rows shown, a group of one instance in every run repeats its instance's row
  const single = (r: (typeof d.rows)[number]) => r.group && o.instances !== false && r.n.every((n) => n === undefined || n <= 1);
  const rows = d.rows.filter((r) => (o.all || r.changed) && (o.instances !== false || !r.instance) && !single(r));
  if (o.json) out(JSON.stringify(diffJson(d, rows, gate), null, 2));
  else if (o.md) out(diffMarkdown(d, rows));
  else out(diffText(d, rows, useColor()));
  if (!gate) return 0;
  if (gate.violations.length) {
    process.stderr.write(`pipe diff: gate failed (${gate.violations.length} of ${checks(gate.checks)}):\n${gate.violations.map((v) => `  ${v}`).join('\n')}\n`);
    return 1;
  }
  process.stderr.write(`pipe diff: gate passed (${checks(gate.checks)})\n`);
  return 0;
}

/** The runs a diff compares: the given references (a leading pipeline file or name scopes them), else the last two runs. */
export function pickRuns(ws: Workspace, args: string[], pipelineNameOf: (f: string) => string): RunView[] {
  const db = ws.db;
  let given: string | undefined;
  if (args[0] && (/\.ya?ml$/i.test(args[0]) || db.pipelines().some((p) => p.pipeline === args[0]))) given = args.shift();
  const pipeline = given || !args.length ? pipelineOf(db, given, pipelineNameOf) : undefined;
  let rows;
  if (!args.length) {
    const all = db.runRows(pipeline!).filter((r) => r.record);
    if (all.length < 2) throw new PipeError(`pipeline '${pipeline}' has ${all.length} recorded run(s); a diff needs two (run it again, e.g. with --set)`);
    rows = all.slice(-2);
  } else {
    rows = args.map((a) => resolveRun(db, a, pipeline));
    if (rows.length === 1) {
      const latest = db.runRows(rows[0]!.pipeline).filter((r) => r.record).pop();
      if (!latest || latest.id === rows[0]!.id) throw new PipeError(`run #${rows[0]!.id} is the latest run of '${rows[0]!.pipeline}'; name a second run to compare it with`);
      rows.push(latest);
    }
  }
  const pipes = new Set(rows.map((r) => r.pipeline));
  const views = rows.map((r) => withMetrics(db, runView(r)));
  for (const v of views) if (!v.record) throw new PipeError(`run ${runLabel(v)} of '${v.pipeline}' was recorded by an older pipe and has no record of params and metrics; compare runs made since`);
  if (pipes.size > 1) process.stderr.write(`pipe: note: comparing runs of different pipelines (${[...pipes].join(', ')})\n`);
  return views;
}

// ---------------------------------------------------------------- rendering

const checks = (n: number) => `${n} check${n === 1 ? '' : 's'}`;

const arrow = (r: DiffRow) => (r.goal === 'max' ? ' ↑' : r.goal === 'min' ? ' ↓' : '');
const rowLabel = (r: DiffRow) => `${r.id}${arrow(r)}${r.group && r.n.every((n) => n === r.n.find((x) => x !== undefined)) && r.n[0] !== undefined ? ` (mean ± std, n=${r.n[0]})` : ''}`;
const pctText = (p: number | undefined) => (p === undefined ? '' : `${fmtSigned(Number(p.toPrecision(3)))}%`);

/** Whether any row has paired statistics (matrix groups in both runs): then a paired column per later run. */
const hasPaired = (d: DiffResult) => d.rows.some((r) => r.paired?.some((c) => c));

export function diffHeader(d: DiffResult): string[] {
  const h = ['', ...d.runs.map(runLabel)];
  const paired = hasPaired(d);
  for (let i = 1; i < d.runs.length; i++) {
    const tag = d.runs.length > 2 ? ` ${runLabel(d.runs[i]!).split(' ')[0]}` : '';
    h.push(`Δ${tag}`, `%Δ${tag}`, ...(paired ? [`paired Δ [95% CI], p (Holm)${tag}`] : []));
  }
  return h;
}

const fmtP = (p: number | null) => (p === null ? '—' : p < 0.001 ? '<0.001' : p.toFixed(3));

/** A group's paired cell: interval of the mean difference over the instances matched by id, and the Holm-adjusted paired t p. */
export function pairedText(c: NonNullable<DiffRow['paired']>[number]): string {
  if (!c) return '';
  return `${c.ci ? `[${fmtSigned(Number(c.ci[0].toPrecision(3)))}, ${fmtSigned(Number(c.ci[1].toPrecision(3)))}]` : `${fmtSigned(Number(c.mean.toPrecision(3)))} (no spread)`} p=${fmtP(c.p_adj)} n=${c.n}`;
}

export function diffCells(d: DiffResult, r: DiffRow): string[] {
  const cells = [rowLabel(r), ...r.values.map((v, i) => fmtValue(v, { std: r.std[i] }))];
  const paired = hasPaired(d);
  for (let i = 1; i < d.runs.length; i++) {
    cells.push(r.delta[i] === undefined || r.delta[i] === 0 ? '' : fmtSigned(r.delta[i]!), r.delta[i] ? pctText(r.pct[i]) : '');
    if (paired) cells.push(r.paired?.[i] ? pairedText(r.paired[i]) : '');
  }
  return cells;
}

function stageLines(s: DiffResult['stages'][number]): string[] {
  // instances of one matrix stage with the same story are one line
  const groups = new Map<string, StageDiff[]>();
  for (const x of s.differ) {
    const k = `${x.base}\u0000${x.change}\u0000${x.outcome}\u0000${x.computedIn}\u0000${formatReasons(x.reasons)}`;
    groups.set(k, [...(groups.get(k) ?? []), x]);
  }
  const lines: string[] = [];
  for (const g of groups.values()) {
    const x = g[0]!;
    const who = g.length === 1 ? x.stage : `${x.base} (${g.length} instances: ${g.slice(0, 3).map((y) => y.stage).join(', ')}${g.length > 3 ? ` and ${g.length - 3} more` : ''})`;
    const how = x.change === 'removed' ? `only in #${s.from}`
      : x.outcome === 'ran' ? `ran in #${s.to}${g.length === 1 && x.durationMs !== undefined ? ` (${(x.durationMs / 1000).toFixed(1)}s)` : ''}`
      : x.outcome === 'cached' ? `cached (computed in #${x.computedIn ?? '?'})`
      : `${x.outcome} in #${s.to}`;
    const why = x.change === 'added' ? `not in #${s.from} (new in the pipeline, or left out by --only)` : x.change === 'removed' ? `not in #${s.to} (removed from the pipeline, or left out by --only)` : formatReasons(x.reasons);
    lines.push(`  ${who}  ${how}${why ? `: ${why}` : ''}`);
  }
  return lines;
}

export function diffText(d: DiffResult, rows: DiffRow[], color: boolean): string {
  const lines: string[] = [];
  lines.push(d.runs.map((r) => `${runLabel(r)} (${fmtTime(r.started)}${r.overrides.length ? `, ${r.overrides.join(' ')}` : ''})`).join(' → '));
  if (rows.length) {
    const n = d.runs.length;
    const per = hasPaired(d) ? 3 : 2;
    const paint = color ? (ri: number, c: number, s: string) => {
      const r = rows[ri]!;
      // value columns of later runs (2..n) and their Δ / %Δ columns
      const run = c >= 2 && c <= n ? c - 1 : c > n ? 1 + Math.floor((c - n - 1) / per) : -1;
      const b = run > 0 ? r.better[run] : null;
      return b === true ? green(s) : b === false ? red(s) : r.kind === 'param' && c > 0 && s ? s : s;
    } : undefined;
    const right = new Set(Array.from({ length: n + per * (n - 1) }, (_, i) => i + 1));
    lines.push('', renderText({ header: diffHeader(d), rows: rows.map((r) => diffCells(d, r)), paint, right }));
  } else lines.push('', 'no param or metric differs');
  for (const s of d.stages) {
    lines.push('', s.differ.length ? `stages that differ, #${s.from} → #${s.to} (${s.differ.length} of ${s.differ.length + s.same}):` : `stages: all ${s.same} the same in #${s.from} and #${s.to}`);
    lines.push(...stageLines(s));
  }
  if (d.curvesMissing.length) lines.push('', (color ? dim : (x: string) => x)(`curves no longer in the cache (pipe gc): ${d.curvesMissing.join(', ')}`));
  return lines.join('\n');
}

export function diffMarkdown(d: DiffResult, rows: DiffRow[]): string {
  const parts = [renderMd(diffHeader(d).map((h, i) => (i === 0 ? 'param / metric' : h)), rows.map((r) => diffCells(d, r).map((c, i) => (i > 0 && i <= d.runs.length && r.better[i - 1] !== undefined && r.better[i - 1] !== null ? (r.better[i - 1] ? `**${c}**` : c) : c))))];
  for (const s of d.stages) parts.push('', s.differ.length ? `Stages that differ, #${s.from} → #${s.to}:` : `All ${s.same} stages the same in #${s.from} and #${s.to}.`, ...stageLines(s).map((l) => `- ${l.trim()}`));
  return parts.join('\n');
}

export function diffJson(d: DiffResult, rows: DiffRow[], gate?: GateResult): unknown {
  return {
    runs: d.runs.map((r) => ({ id: r.id, name: r.name, pipeline: r.pipeline, started: new Date(r.started).toISOString(), state: r.state, overrides: r.overrides, git: r.record?.git ?? null })),
    goals: d.goals,
    rows: rows.map((r) => ({ id: r.id, kind: r.kind, key: r.key, goal: r.goal ?? null, instance: r.instance, group: r.group, values: r.values.map((v) => v ?? null), std: r.group ? r.std.map((v) => v ?? null) : undefined, n: r.group ? r.n.map((v) => v ?? null) : undefined, delta: r.delta.slice(1).map((v) => v ?? null), pct: r.pct.slice(1).map((v) => v ?? null), better: r.better.slice(1), changed: r.changed, ...(r.paired ? { paired: r.paired.slice(1).map((c) => c ?? null) } : {}) })),
    stages: d.stages.map((s) => ({ from: s.from, to: s.to, same: s.same, differ: s.differ.map((x) => ({ ...x, reasons: x.reasons.map((r) => ({ ...r, text: formatReasons([r]) })) })) })),
    curvesMissing: d.curvesMissing,
    ...(gate ? { gate: { passed: gate.violations.length === 0, checks: gate.checks, violations: gate.violations } } : {}),
  };
}

