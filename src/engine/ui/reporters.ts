/**
 * Consumers of run events. On a terminal: the live display (live.ts). Elsewhere (CI, pipes,
 * --quiet): plain lines for stages that ran or failed, then the summary. `--progress json`:
 * one JSON event per line on stdout, for tools that wrap pipe.
 */
import type { EtaEstimator } from './eta.js';
import type { PlannedStage } from '../front/graph.js';
import { formatSkip, type RunEvent, type RunReporter, type RunSummary, type SkipReason, type StageEnd } from '../exec/events.js';
import { formatReasons, reasonJson, type StaleReason } from '../cache/reasons.js';
import type { Progress } from '../../sdk/stage.js';

/**
 * A reporter as a set of handlers, one per event type; `on` dispatches. Reasons arrive as data
 * and are put into words only where they are shown.
 */
export abstract class EventReporter implements RunReporter {
  on(e: RunEvent): void | Promise<void> {
    switch (e.type) {
      case 'run-start': return this.start(e.stages);
      case 'stage-start': return this.stageStart(e.id, e.reasons);
      case 'stage-progress': return this.stageProgress(e.id, e.progress);
      case 'stage-resumed': return this.stageResumed(e.id, e.epoch, e.total);
      case 'stage-end': return this.stageEnd(e.id, e);
      case 'message': return this.message(e.text);
      case 'run-end': return this.end(e.summary);
    }
  }
  abstract start(stages: PlannedStage[]): void;
  abstract stageStart(id: string, reasons: StaleReason[]): void;
  abstract stageProgress(id: string, p: Progress): void;
  /** The stage resumed from a checkpoint (default: nothing shown). */
  stageResumed(_id: string, _epoch: number, _total: number): void {}
  abstract stageEnd(id: string, end: StageEnd): void;
  abstract message(text: string): void;
  abstract end(s: RunSummary): void | Promise<void>;
}

/** Error text of a failed end, duration of any end (undefined when it has none). */
export const endError = (e: StageEnd) => (e.outcome === 'failed' ? e.error : undefined);
export const endDuration = (e: StageEnd) => ('durationMs' in e ? e.durationMs : undefined);

export function summaryLine(s: RunSummary): string {
  const extra = [s.skipped ? `${s.skipped} skipped` : '', s.interrupted ? `${s.interrupted} interrupted` : '', s.remote ? `${s.remote} of the cached from the remote` : ''].filter(Boolean).join(', ');
  return `${s.ran} ran, ${s.cached} cached, ${s.failed} failed${extra ? `, ${extra}` : ''} (${(s.durationMs / 1000).toFixed(1)}s)`;
}

function fmtProgress(p: Progress): string {
  const frac = p.total ? `${p.done ?? 0}/${p.total}` : p.done !== undefined ? String(p.done) : '';
  return [frac, p.message].filter(Boolean).join(' ');
}

export class PlainReporter extends EventReporter {
  constructor(private out: (s: string) => void = (s) => process.stderr.write(s + '\n'), private verbose = false, private quiet = false) { super(); }
  start(stages: PlannedStage[]): void {
    if (!this.quiet) this.out(`pipe: ${stages.length} stages`);
  }
  stageStart(id: string, reasons: StaleReason[]): void {
    if (this.verbose) this.out(`▶ ${id}${reasons.length ? ` (${formatReasons(reasons)})` : ''}`);
  }
  stageProgress(id: string, p: Progress): void {
    if (this.verbose) this.out(`  ${id}: ${fmtProgress(p)}`);
  }
  override stageResumed(id: string, epoch: number, total: number): void {
    if (!this.quiet) this.out(`↻ ${id} resumed at ${epoch}/${total}`);
  }
  stageEnd(id: string, e: StageEnd): void {
    if (e.outcome === 'failed') this.out(`✗ ${id} failed: ${e.error}`);
    else if (this.quiet) return;
    else if (e.outcome === 'ran') this.out(`✓ ${id} (${(e.durationMs / 1000).toFixed(1)}s)`);
    else if (e.outcome === 'interrupted') this.out(`■ ${id} interrupted`);
    else if (e.outcome === 'cached' && e.remote) this.out(`↓ ${id} from remote '${e.remote}'`);
    else if (this.verbose) this.out(`${e.outcome === 'cached' ? '○' : '-'} ${id} ${e.outcome}${e.outcome === 'skipped' ? ` (${formatSkip(e.skip)})` : ''}`);
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
 *   {"event":"start","id","reasons":[{"code",…fields,"text"}]}   (the codes of `pipe status --json`)
 *   {"event":"progress","id","done","total","unit","message","left_s"}
 *   {"event":"end","id","outcome":"ran|cached|failed|skipped|interrupted","remote","duration_ms","error","skip":{"code",…,"text"},"eta_s"}
 *   {"event":"resumed","id","epoch","total"}   (the stage continues from a resume checkpoint)
 *   {"event":"message","text"}
 *   {"event":"summary","run_id","ran","cached","failed","skipped","interrupted","duration_ms","failures"}
 * Every event carries `t_s`, seconds since the run started. `eta_s` is the estimated remaining
 * wall time of the run (eta.ts), `left_s` the stage's own.
 */
export class JsonReporter extends EventReporter {
  constructor(
    private readonly o: { pipeline: string; jobs: number; eta?: EtaEstimator },
    private readonly write: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  ) { super(); }

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
  stageStart(id: string, reasons: StaleReason[]): void {
    this.o.eta?.started(id, Date.now());
    this.emit({ event: 'start', id, reasons: reasons.map(reasonJson) });
  }
  stageProgress(id: string, p: Progress): void {
    this.o.eta?.progress(id, p.done, p.total, Date.now());
    const left = this.o.eta?.stageLeft(id, Date.now());
    this.emit({ event: 'progress', id, done: p.done, total: p.total, unit: p.unit, message: p.message, left_s: left === undefined ? undefined : Math.round(left / 100) / 10 });
  }
  stageEnd(id: string, e: StageEnd): void {
    this.o.eta?.ended(id, e.outcome, endDuration(e));
    const skip = e.outcome === 'skipped' ? skipJson(e.skip) : undefined;
    this.emit({ event: 'end', id, outcome: e.outcome, remote: e.outcome === 'cached' ? e.remote : undefined, duration_ms: endDuration(e), error: endError(e), skip, eta_s: this.etaS() });
  }
  override stageResumed(id: string, epoch: number, total: number): void {
    this.emit({ event: 'resumed', id, epoch, total });
  }
  message(text: string): void {
    this.emit({ event: 'message', text });
  }
  end(s: RunSummary): void {
    this.emit({ event: 'summary', run_id: s.runId, ran: s.ran, cached: s.cached, failed: s.failed, skipped: s.skipped, interrupted: s.interrupted, duration_ms: s.durationMs, failures: s.failures });
  }
}

/** The JSON form of a skip reason: `{code, …fields, text}` (like stale reasons). */
export function skipJson(r: SkipReason): SkipReason & { text: string } {
  return { ...r, text: formatSkip(r) };
}
