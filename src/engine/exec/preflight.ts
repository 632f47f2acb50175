/**
 * Between plan and execute — preflight: before any stage starts, the requirements (`needs`) of
 * every stage about to run are checked once each; a missing one stops the run with exit 2 and a
 * short message per missing piece naming the fix and the stages affected. `prefers` that are
 * missing are warnings (the stage still runs, e.g. `train` on `auto` without blas runs on wasm).
 *
 * Cheap on the no-op path: requirements are checked first; only when one fails is the (lazy)
 * "which stages will really run" set asked for, so cached stages never block a run.
 */
import { checkRequirement, type CheckResult } from '../../lib/system/requirements.js';
import { PipeError } from '../errors.js';
import type { PlannedStage } from '../front/graph.js';

export interface PreflightProblem {
  requirement: string;
  result: CheckResult;
  /** Ids of the stages about to run that need (or prefer) it. */
  stages: string[];
}

export interface PreflightReport {
  /** Hard needs that are not ok: the run must not start. */
  missing: PreflightProblem[];
  /** Preferences that are not ok: the run starts, slower or degraded. */
  warnings: PreflightProblem[];
}

type Checker = (name: string) => Promise<CheckResult>;

function collect(stages: PlannedStage[], which: 'needs' | 'prefers'): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const st of stages) {
    for (const r of st.kind[which]?.(st.params) ?? []) {
      let l = by.get(r);
      if (!l) by.set(r, (l = []));
      l.push(st.id);
    }
  }
  return by;
}

/**
 * Checks the needs of `stages` (the selection of a run). `willRun` gives the ids that will
 * really execute (not cached, or forced); it is only called when some requirement fails.
 */
export async function preflight(stages: PlannedStage[], willRun: () => Promise<Set<string>>, check: Checker = checkRequirement): Promise<PreflightReport> {
  const report: PreflightReport = { missing: [], warnings: [] };
  const needs = collect(stages, 'needs');
  const prefers = collect(stages, 'prefers');
  let running: Set<string> | undefined;
  const problems = async (by: Map<string, string[]>): Promise<PreflightProblem[]> => {
    const out: PreflightProblem[] = [];
    for (const [name, ids] of by) {
      const result = await check(name);
      if (result.status === 'ok') continue;
      running ??= await willRun();
      const affected = ids.filter((id) => running!.has(id));
      if (affected.length) out.push({ requirement: name, result, stages: affected });
    }
    return out;
  };
  report.missing = await problems(needs);
  report.warnings = (await problems(prefers)).filter((w) => !report.missing.some((m) => m.requirement === w.requirement));
  return report;
}

function stageList(ids: string[], max = 3): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} and ${ids.length - max} more`;
}

/** One short paragraph per problem: `<stages> needs <req>: <fix>` + what the check found. */
export function formatProblem(p: PreflightProblem, verb = 'needs'): string {
  const n = p.stages.length;
  const who = n === 1 ? p.stages[0]! : `${n} stages (${stageList(p.stages)})`;
  const fix = p.result.fix ? `: ${p.result.fix}` : '';
  return `${who} ${n === 1 ? verb : verb.replace(/s$/, '')} ${p.requirement}${fix}\n    (${p.result.status}: ${p.result.detail})`;
}

/** Throws the exit-2 error when something the run needs is missing; returns the warning lines. */
export function enforcePreflight(report: PreflightReport): string[] {
  if (report.missing.length) {
    const lines = report.missing.map((p) => '  ' + formatProblem(p));
    throw new PipeError(
      `cannot start: ${report.missing.length === 1 ? 'a requirement is' : `${report.missing.length} requirements are`} missing; nothing was run\n` +
        `${lines.join('\n')}\n  check the whole machine with: npx pipe doctor`,
      undefined,
      2,
    );
  }
  return report.warnings.map((p) => `warning: ${formatProblem(p, 'prefers')}`);
}
