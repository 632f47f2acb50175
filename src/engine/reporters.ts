/**
 * Consumers of run events. On a terminal: the live display (live.ts). Elsewhere (CI, pipes,
 * --quiet): plain lines for stages that ran or failed, then the summary. `--progress json`:
 * one JSON event per line on stdout, for tools that wrap pipe.
 */
import type { EtaEstimator } from './eta.js';
import type { PlannedStage } from './graph.js';
import type { RunReporter, RunSummary, StageOutcome } from './execute.js';
import type { Progress } from './stage.js';

export function summaryLine(s: RunSummary): string {
  const extra = [s.skipped ? `${s.skipped} skipped` : '', s.interrupted ? `${s.interrupted} interrupted` : ''].filter(Boolean).join(', ');
  return `${s.ran} ran, ${s.cached} cached, ${s.failed} failed${extra ? `, ${extra}` : ''} (${(s.durationMs / 1000).toFixed(1)}s)`;
}

function fmtProgress(p: Progress): string {
  const frac = p.total ? `${p.done ?? 0}/${p.total}` : p.done !== undefined ? String(p.done) : '';
  return [frac, p.message].filter(Boolean).join(' ');
}

export class PlainReporter implements RunReporter {
  constructor(private out: (s: string) => void = (s) => process.stderr.write(s + '\n'), private verbose = false, private quiet = false) {}
  start(stages: PlannedStage[]): void {
    if (!this.quiet) this.out(`pipe: ${stages.length} stages`);
  }
  stageStart(id: string, info?: { reason?: string }): void {
    if (this.verbose) this.out(`▶ ${id}${info?.reason ? ` (${info.reason})` : ''}`);
  }
  stageProgress(id: string, p: Progress): void {
    if (this.verbose) this.out(`  ${id}: ${fmtProgress(p)}`);
  }
  stageEnd(id: string, outcome: StageOutcome, info: { error?: string; durationMs?: number; reason?: string }): void {
    if (outcome === 'failed') this.out(`✗ ${id} failed: ${info.error}`);
    else if (this.quiet) return;
    else if (outcome === 'ran') this.out(`✓ ${id} (${((info.durationMs ?? 0) / 1000).toFixed(1)}s)`);
    else if (outcome === 'interrupted') this.out(`■ ${id} interrupted`);
    else if (this.verbose) this.out(`${outcome === 'cached' ? '○' : '-'} ${id} ${outcome}${info.reason ? ` (${info.reason})` : ''}`);
  }
  message(text: string): void {
    this.out(`pipe: ${text}`);
  }
  end(s: RunSummary): void {
    for (const f of s.failures) this.out(`failed: ${f.id}: ${f.error.split('\n')[0]}   (details: pipe show ${f.id})`);
    process.stdout.write(summaryLine(s) + '\n');
  }
}

/**
 * `--progress json`: one event per line on stdout —
 *   {"event":"run","pipeline","stages","to_run","jobs","eta_s"}
 *   {"event":"start","id","reason"}
 *   {"event":"progress","id","done","total","unit","message","left_s"}
 *   {"event":"end","id","outcome":"ran|cached|failed|skipped|interrupted","duration_ms","error","reason","eta_s"}
 *   {"event":"message","text"}
 *   {"event":"summary","run_id","ran","cached","failed","skipped","interrupted","duration_ms","failures"}
 * Every event carries `t_s`, seconds since the run started. `eta_s` is the estimated remaining
 * wall time of the run (eta.ts), `left_s` the stage's own.
 */
export class JsonReporter implements RunReporter {
  constructor(
    private readonly o: { pipeline: string; jobs: number; eta?: EtaEstimator },
    private readonly write: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  ) {}

  private t0 = Date.now();

  private emit(e: Record<string, unknown>): void {
    for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
    this.write(JSON.stringify({ ...e, t_s: Math.round((Date.now() - this.t0) / 10) / 100 }));
  }

  private etaS(): number | undefined {
    const r = this.o.eta?.remaining(Date.now());
    return r ? Math.round(r.ms / 100) / 10 : undefined;
  }

  start(stages: PlannedStage[]): void {
    this.t0 = Date.now();
    this.emit({ event: 'run', pipeline: this.o.pipeline, stages: stages.length, to_run: this.o.eta?.pendingCount, jobs: this.o.jobs, eta_s: this.etaS() });
  }
  stageStart(id: string, info?: { reason?: string }): void {
    this.o.eta?.started(id, Date.now());
    this.emit({ event: 'start', id, reason: info?.reason });
  }
  stageProgress(id: string, p: Progress): void {
    this.o.eta?.progress(id, p.done, p.total, Date.now());
    const left = this.o.eta?.stageLeft(id, Date.now());
    this.emit({ event: 'progress', id, done: p.done, total: p.total, unit: p.unit, message: p.message, left_s: left === undefined ? undefined : Math.round(left / 100) / 10 });
  }
  stageEnd(id: string, outcome: StageOutcome, info: { error?: string; durationMs?: number; reason?: string }): void {
    this.o.eta?.ended(id, outcome, info.durationMs);
    this.emit({ event: 'end', id, outcome, duration_ms: info.durationMs, error: info.error, reason: info.reason, eta_s: this.etaS() });
  }
  message(text: string): void {
    this.emit({ event: 'message', text });
  }
  end(s: RunSummary): void {
    this.emit({ event: 'summary', run_id: s.runId, ran: s.ran, cached: s.cached, failed: s.failed, skipped: s.skipped, interrupted: s.interrupted, duration_ms: s.durationMs, failures: s.failures });
  }
}
