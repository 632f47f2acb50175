/**
 * CI gates on a diff: `--fail-if '<metric> <op> <number>[%]'` compares the change of a metric
 * (Δ = later − first run, or %Δ with a trailing %) with a threshold; `--rtol` / `--atol` fail
 * when a metric got worse by its goal beyond the tolerance (|Δ| > atol + rtol·|first|), or —
 * when the pipeline declares no goals at all — changed beyond it either way. Gates look at plain
 * stages' metrics and matrix groups (mean), not single instances unless named
 * (`train[fold=0].test_accuracy`).
 */
import { didYouMean, PipeError } from '../engine/errors.js';
import type { DiffResult, DiffRow } from './diff.js';
import { fmtNum, runLabel } from './model.js';

export interface FailIf {
  text: string;
  metric: string;
  op: '<' | '<=' | '>' | '>=' | '==' | '!=';
  threshold: number;
  percent: boolean;
}

const EXPR = /^\s*(?:m:)?([A-Za-z_][\w-]*(?:\[[^\]]*\])?(?:\.[\w-]+)*)\s*(<=|>=|==|!=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*(%?)\s*$/i;

export function parseFailIf(text: string): FailIf {
  const m = EXPR.exec(text);
  if (!m) throw new PipeError(`--fail-if '${text}': expected '<metric> <op> <number>' with op one of < <= > >= == != and an optional % (the change against the first run, e.g. 'test_accuracy < -0.005' or 'rmse > 2%')`);
  return { text, metric: m[1]!.trim(), op: m[2] as FailIf['op'], threshold: Number(m[3]), percent: m[4] === '%' };
}

const cmp = (x: number, op: FailIf['op'], t: number) => (op === '<' ? x < t : op === '<=' ? x <= t : op === '>' ? x > t : op === '>=' ? x >= t : op === '==' ? x === t : x !== t);

/** The metric rows an expression's name refers to. */
export function rowsFor(name: string, rows: DiffRow[]): DiffRow[] {
  const metrics = rows.filter((r) => r.kind === 'metric');
  const exact = metrics.filter((r) => r.key === name || r.id === `m:${name}`);
  if (exact.length) return exact;
  return metrics.filter((r) => !r.instance && (r.metric === name || `${r.base}.${r.metric}` === name));
}

export interface GateResult {
  checks: number;
  violations: string[];
}

export function evaluateGates(d: DiffResult, failIfs: FailIf[], tol: { atol?: number; rtol?: number }): GateResult {
  const violations: string[] = [];
  let checks = 0;
  const first = d.runs[0]!;
  for (const f of failIfs) {
    const rows = rowsFor(f.metric, d.rows);
    if (!rows.length) {
      const names = [...new Set(d.rows.filter((r) => r.kind === 'metric' && !r.instance).map((r) => r.id.slice(2)))];
      throw new PipeError(`--fail-if '${f.text}': no metric '${f.metric}' in these runs${didYouMean(f.metric, names)}${names.length ? ` (metrics: ${names.join(', ')})` : ' (the runs recorded no metrics)'}`);
    }
    for (const r of rows) {
      for (let i = 1; i < d.runs.length; i++) {
        checks++;
        const run = d.runs[i]!;
        const v = r.values[i];
        if (v === undefined) { violations.push(`${r.key}: missing in ${runLabel(run)} (${f.text})`); continue; }
        const x = f.percent ? r.pct[i] : r.delta[i];
        if (x === undefined) throw new PipeError(`--fail-if '${f.text}': ${r.key} is not a number in ${runLabel(first)} and ${runLabel(run)}${f.percent ? ' (or is 0 in the first run: no %Δ)' : ''}`);
        if (cmp(x, f.op, f.threshold)) violations.push(`${r.key}: ${f.percent ? '%Δ' : 'Δ'} ${fmtSigned(x)}${f.percent ? '%' : ''} ${f.op} ${f.threshold}${f.percent ? '%' : ''} (${runLabel(first)} → ${runLabel(run)}: ${fmtNum(r.values[0] as number)} → ${fmtNum(v as number)})`);
      }
    }
  }
  if (tol.atol !== undefined || tol.rtol !== undefined) {
    const atol = tol.atol ?? 0;
    const rtol = tol.rtol ?? 0;
    const anyGoal = Object.keys(d.goals).length > 0;
    for (const r of d.rows) {
      if (r.kind !== 'metric' || r.instance || typeof r.values[0] !== 'number') continue;
      if (anyGoal && !r.goal) continue;
      for (let i = 1; i < d.runs.length; i++) {
        checks++;
        const v = r.values[i];
        const a = r.values[0] as number;
        if (typeof v !== 'number') { violations.push(`${r.key}: missing in ${runLabel(d.runs[i]!)}`); continue; }
        const delta = v - a;
        if (Math.abs(delta) <= atol + rtol * Math.abs(a)) continue;
        const worse = r.goal === 'max' ? delta < 0 : r.goal === 'min' ? delta > 0 : true;
        if (worse) violations.push(`${r.key}: ${fmtNum(a)} → ${fmtNum(v)} (Δ ${fmtSigned(delta)}${r.goal ? `, goal ${r.goal}` : ''}) beyond atol ${atol} + rtol ${rtol}·|${fmtNum(a)}| (${runLabel(first)} → ${runLabel(d.runs[i]!)})`);
      }
    }
  }
  return { checks, violations };
}

export const fmtSigned = (x: number) => (x > 0 ? '+' : '') + fmtNum(x);
