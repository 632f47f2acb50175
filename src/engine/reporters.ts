/**
 * Consumers of run events. On a terminal: listr2, one line per stage group (a matrix stage's
 * instances share a line with counts) with the running instances' progress (e.g. epochs).
 * Elsewhere (CI, pipes): plain lines for stages that ran or failed, then the summary.
 */
import { Listr, type ListrTaskWrapper } from 'listr2';
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
  stageStart(id: string): void {
    if (this.verbose) this.out(`▶ ${id}`);
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

interface Group {
  base: string;
  kind: string;
  ids: Set<string>;
  done: number;
  ran: number;
  cached: number;
  failed: number;
  skipped: number;
  running: Map<string, string>;
  task?: ListrTaskWrapper<unknown, never, never>;
  resolve?: () => void;
  error?: string;
  closed?: boolean;
}

/** listr2 view: one task per stage group, concurrent, with sub-progress. */
export class ListrReporter implements RunReporter {
  private groups = new Map<string, Group>();
  private byId = new Map<string, Group>();
  private listr?: Promise<unknown>;
  private messages: string[] = [];

  start(stages: PlannedStage[]): void {
    for (const s of stages) {
      let g = this.groups.get(s.base);
      if (!g) {
        g = { base: s.base, kind: s.kind.kind, ids: new Set(), done: 0, ran: 0, cached: 0, failed: 0, skipped: 0, running: new Map() };
        this.groups.set(s.base, g);
      }
      g.ids.add(s.id);
      this.byId.set(s.id, g);
    }
    const list = new Listr(
      [...this.groups.values()].map((g) => ({
        title: this.title(g),
        task: (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => new Promise<void>((resolve, reject) => {
          g.task = task;
          g.resolve = () => (g.failed ? reject(new Error(g.error ?? 'failed')) : resolve());
          this.refresh(g);
        }),
      })),
      { concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseErrors: false } } as never,
    );
    this.listr = list.run().catch(() => undefined);
  }

  private title(g: Group): string {
    const n = g.ids.size;
    const counts = [g.ran ? `${g.ran} ran` : '', g.cached ? `${g.cached} cached` : '', g.failed ? `${g.failed} failed` : '', g.skipped ? `${g.skipped} skipped` : ''].filter(Boolean).join(', ');
    return `${g.base} (${g.kind})${n > 1 ? ` ${g.done}/${n}` : ''}${counts ? ` — ${counts}` : ''}`;
  }

  private refresh(g: Group): void {
    if (!g.task || g.closed) return;
    g.task.title = this.title(g);
    if (g.done >= g.ids.size) {
      g.closed = true;
      g.resolve?.();
      return;
    }
    const lines = [...g.running.entries()].slice(0, 4).map(([id, p]) => (g.ids.size > 1 ? `${id}: ${p}` : p));
    g.task.output = lines.join('\n');
  }

  stageStart(id: string): void {
    const g = this.byId.get(id)!;
    g.running.set(id, 'running');
    this.refresh(g);
  }
  stageProgress(id: string, p: Progress): void {
    const g = this.byId.get(id)!;
    g.running.set(id, fmtProgress(p));
    this.refresh(g);
  }
  stageEnd(id: string, outcome: StageOutcome, info: { error?: string }): void {
    const g = this.byId.get(id);
    if (!g) return;
    g.running.delete(id);
    g.done++;
    if (outcome === 'ran') g.ran++;
    else if (outcome === 'cached') g.cached++;
    else if (outcome === 'failed') { g.failed++; g.error = `${id}: ${info.error}`; }
    else g.skipped++;
    this.refresh(g);
  }
  message(text: string): void {
    this.messages.push(text);
  }
  async end(s: RunSummary): Promise<void> {
    for (const g of this.groups.values()) { g.done = g.ids.size; this.refresh(g); }
    await this.listr;
    for (const m of this.messages) process.stderr.write(`pipe: ${m}\n`);
    for (const f of s.failures) process.stderr.write(`failed: ${f.id}: ${f.error.split('\n')[0]}   (details: pipe show ${f.id})\n`);
    process.stdout.write(summaryLine(s) + '\n');
  }
}
