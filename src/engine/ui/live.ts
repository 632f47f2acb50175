/**
 * The live display of a run on a terminal: one overall line that never scrolls away (done / to
 * run / cached / failed, elapsed, ETA from recorded durations — eta.ts), then one line per stage
 * group with the running instances' own progress, rate and time left, e.g.
 *
 *   ⠼ actmix_cv · 132/277 done (97 ran, 35 cached) · 4 running · 141 to run · 3 min 12 s · ETA 4 min 50 s
 *   ✓ data (download-uci) 3/3 · 3 ran
 *   ⠼ train (train) 57/120 · 30 ran, 27 cached
 *       adult · fold 3 · gelu   epoch 47/200 · val_accuracy 0.871 · 2.3 epoch/s · 12 s left · params changed
 *   … 9 groups waiting: xgboost, results, curves, …
 *
 * Drawn with log-update (the library listr2 itself draws with) on stderr, but the frame is
 * composed here so that it always fits the terminal: every line is truncated to the width (a
 * wrapped line is what leaves stale copies of old frames behind), and when the list is taller
 * than the terminal, finished and waiting groups collapse into one line each, then running
 * instances beyond the room into "… N more". Anything else written to stdout/stderr while the
 * display is live (a library's banner, a message) is printed above it, never through it; worker
 * processes' output goes to their stage's log (pool.ts).
 */
import cliTruncate from 'cli-truncate';
import { createLogUpdate } from 'log-update';
import type { PlannedStage } from '../front/graph.js';
import type { RunSummary, StageEnd } from '../exec/events.js';
import { formatReasons, type StaleReason } from '../cache/reasons.js';
import { EtaEstimator, formatDuration } from './eta.js';
import { endDuration, endError, EventReporter, summaryLine } from './reporters.js';
import type { Progress } from '../../sdk/stage.js';

const SPIN = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

interface Inst { id: string; label: string; started: number; reason: string; p?: Progress; resumedAt?: number }
interface Group {
  base: string; kind: string; n: number; done: number; ran: number; cached: number; failed: number; skipped: number;
  running: Map<string, Inst>;
}

export interface LiveOptions {
  pipeline: string;
  jobs: number;
  eta?: EtaEstimator;
  /** Stream with `columns`/`rows` (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** Milliseconds between redraws (default 120). */
  interval?: number;
  color?: boolean;
}

type Write = typeof process.stdout.write;

export class LiveReporter extends EventReporter {
  private readonly groups = new Map<string, Group>();
  private readonly groupOf = new Map<string, Group>();
  private readonly stream: NodeJS.WriteStream;
  private readonly draw: ReturnType<typeof createLogUpdate>;
  private timer?: NodeJS.Timeout;
  private t0 = Date.now();
  private tick = 0;
  private total = 0;
  private counts = { ran: 0, cached: 0, failed: 0, skipped: 0, remote: 0 };
  private readonly failures: string[] = [];
  private restore?: () => void;
  private readonly raw: { out: Write; err: Write };
  private readonly color: boolean;
  private readonly rawStream: Write;
  private drawing = false;

  constructor(private readonly o: LiveOptions) {
    super();
    this.stream = o.stream ?? process.stderr;
    this.raw = { out: process.stdout.write.bind(process.stdout) as Write, err: process.stderr.write.bind(process.stderr) as Write };
    // log-update writes through the (unhijacked) stream
    const target = this.stream;
    const rawWrite = target === process.stderr ? this.raw.err : target === process.stdout ? this.raw.out : target.write.bind(target) as Write;
    const proxy = new Proxy(target, { get: (t, k) => (k === 'write' ? rawWrite : Reflect.get(t, k)) });
    // the cursor is hidden/shown here, through the raw stream (cli-cursor would write through the hijacked one)
    this.draw = createLogUpdate(proxy as NodeJS.WriteStream, { showCursor: true });
    this.rawStream = rawWrite;
    this.color = o.color ?? (!process.env.NO_COLOR && process.env.TERM !== 'dumb');
  }

  private c(code: string, s: string): string {
    return this.color ? `\x1b[${code}m${s}\x1b[0m` : s;
  }

  start(stages: PlannedStage[]): void {
    this.t0 = Date.now();
    this.total = stages.length;
    for (const s of stages) {
      let g = this.groups.get(s.base);
      if (!g) this.groups.set(s.base, (g = { base: s.base, kind: s.kind.kind, n: 0, done: 0, ran: 0, cached: 0, failed: 0, skipped: 0, running: new Map() }));
      g.n++;
      this.groupOf.set(s.id, g);
    }
    this.rawStream('\x1b[?25l'); // hide the cursor while the display is live
    this.hijack();
    this.render();
    this.timer = setInterval(() => this.render(), this.o.interval ?? 120);
    this.timer.unref();
  }

  /** Text written by anyone else while the display is live goes above it. */
  private hijack(): void {
    const above = (raw: Write) => ((chunk: unknown, enc?: unknown, cb?: unknown): boolean => {
      const write = raw as (c: unknown, e?: unknown, f?: unknown) => boolean;
      if (this.drawing) return write(chunk, enc, cb);
      this.drawing = true;
      try {
        this.draw.clear();
        return write(chunk, enc, cb);
      } finally {
        this.drawing = false;
        this.render(true);
      }
    }) as Write;
    process.stdout.write = above(this.raw.out);
    process.stderr.write = above(this.raw.err);
    this.restore = () => { process.stdout.write = this.raw.out; process.stderr.write = this.raw.err; };
  }

  stageStart(id: string, reasons: StaleReason[]): void {
    const g = this.groupOf.get(id);
    if (!g) return;
    this.o.eta?.started(id, Date.now());
    g.running.set(id, { id, label: instanceLabel(id), started: Date.now(), reason: formatReasons(reasons) });
  }

  override stageResumed(id: string, epoch: number): void {
    const inst = this.groupOf.get(id)?.running.get(id);
    if (inst) inst.resumedAt = epoch;
  }

  stageProgress(id: string, p: Progress): void {
    const inst = this.groupOf.get(id)?.running.get(id);
    if (!inst) return;
    inst.p = p;
    this.o.eta?.progress(id, p.done, p.total, Date.now());
  }

  stageEnd(id: string, e: StageEnd): void {
    const outcome = e.outcome;
    const g = this.groupOf.get(id);
    if (!g) return;
    g.running.delete(id);
    g.done++;
    if (outcome === 'ran') { g.ran++; this.counts.ran++; }
    else if (outcome === 'cached') { g.cached++; this.counts.cached++; if (e.remote) this.counts.remote++; }
    else if (outcome === 'failed') { g.failed++; this.counts.failed++; this.failures.push(`${id}: ${(endError(e) ?? '').split('\n')[0]}`); }
    else { g.skipped++; this.counts.skipped++; }
    this.o.eta?.ended(id, outcome, endDuration(e));
  }

  message(text: string): void {
    if (this.timer === undefined) { this.raw.err(`pipe: ${text}\n`); return; }
    this.drawing = true;
    try {
      this.draw.clear();
      this.raw.err(`pipe: ${text}\n`);
    } finally {
      this.drawing = false;
    }
    this.render(true);
  }

  /** The frame for a terminal of `cols` × `rows` (exported for tests through `frame()`). */
  frame(now = Date.now(), cols = this.stream.columns || 100, rows = this.stream.rows || 30): string[] {
    const width = Math.max(20, cols - 1);
    const fit = (s: string) => cliTruncate(s, width, { position: 'end' });
    const spin = SPIN[this.tick % SPIN.length]!;
    const done = this.counts.ran + this.counts.cached + this.counts.failed + this.counts.skipped;
    const running = [...this.groups.values()].reduce((a, g) => a + g.running.size, 0);
    const eta = this.o.eta?.remaining(now);
    const toRun = eta ? eta.pending : this.total - done - running;
    const head = [
      `${this.c('1', this.o.pipeline)} · ${done}/${this.total} done (${this.counts.ran} ran, ${this.counts.cached} cached${this.counts.remote ? `, ${this.counts.remote} from remote` : ''})`,
      `${running} running`,
      `${toRun} to run`,
      this.counts.failed ? this.c('31', `${this.counts.failed} failed`) : '',
      this.counts.skipped ? `${this.counts.skipped} skipped` : '',
      formatDuration(now - this.t0),
      eta ? (eta.pending + eta.running === 0 ? '' : `ETA ${eta.lowerBound ? '≥ ' : ''}${formatDuration(eta.ms)}`) : '',
    ].filter(Boolean).join(' · ');
    const lines: string[] = [fit(`${this.c('36', spin)} ${head}`)];
    const budget = Math.max(3, rows - 2);
    const groups = [...this.groups.values()];
    const isRunning = (g: Group) => g.running.size > 0;
    const finished = groups.filter((g) => !isRunning(g) && g.done >= g.n);
    const waiting = groups.filter((g) => !isRunning(g) && g.done < g.n);
    const active = groups.filter(isRunning);
    const counts = (g: Group) => [g.ran ? `${g.ran} ran` : '', g.cached ? `${g.cached} cached` : '', g.failed ? this.c('31', `${g.failed} failed`) : '', g.skipped ? `${g.skipped} skipped` : ''].filter(Boolean).join(', ');
    const groupLine = (g: Group, mark: string) => fit(`${mark} ${g.base} ${this.c('2', `(${g.kind})`)}${g.n > 1 ? ` ${g.done}/${g.n}` : ''}${counts(g) ? ` · ${counts(g)}` : ''}`);
    const mark = (g: Group) => (g.failed ? this.c('31', '✗') : this.c('32', '✓'));
    // instance lines of running groups, newest last; trimmed when the room runs out
    const instLines = active.map((g) => [...g.running.values()].map((i) => fit(`    ${this.instanceText(g, i, now)}`)));
    // below the overall line and one line per running group: finished groups, waiting groups and
    // instance lines; the finished, then the waiting groups collapse to one line when that is too much
    const room = budget - lines.length - active.length;
    let showFinished = true, showWaiting = true;
    let need = finished.length + waiting.length + instLines.reduce((a, l) => a + l.length, 0);
    if (need > room && finished.length > 1) { showFinished = false; need -= finished.length - 1; }
    if (need > room && waiting.length > 1) { showWaiting = false; need -= waiting.length - 1; }
    const names = (l: Group[]) => l.map((g) => g.base).join(', ');
    if (showFinished) for (const g of finished) lines.push(groupLine(g, mark(g)));
    else if (finished.length) lines.push(fit(`${finished.some((g) => g.failed) ? this.c('31', '✗') : this.c('32', '✓')} ${finished.length} groups done: ${names(finished)}`));
    let instRoom = Math.max(active.length, room - (showFinished ? finished.length : 1) - (showWaiting ? waiting.length : waiting.length ? 1 : 0));
    active.forEach((g, k) => {
      lines.push(groupLine(g, this.c('36', spin)));
      const l = instLines[k]!;
      const fits = Math.max(0, Math.min(l.length, instRoom - (active.length - k - 1)));
      for (const x of l.slice(0, fits === l.length ? fits : Math.max(0, fits - 1))) lines.push(x);
      if (fits < l.length) lines.push(fit(`    … ${l.length - Math.max(0, fits - 1)} more running`));
      instRoom -= Math.min(l.length, fits);
    });
    if (showWaiting) for (const g of waiting) lines.push(groupLine(g, this.c('2', '·')));
    else if (waiting.length) lines.push(fit(`${this.c('2', '…')} ${waiting.length} groups waiting: ${names(waiting)}`));
    return lines.slice(0, budget);
  }

  /** `adult · fold 3 · gelu   epoch 47/200 · val_accuracy 0.871 · 2.3 epoch/s · 12 s left · params changed` */
  private instanceText(g: Group, i: Inst, now: number): string {
    const p = i.p;
    const parts: string[] = [];
    if (p?.total) parts.push(`${p.unit ?? ''}${p.unit ? ' ' : ''}${p.done ?? 0}/${p.total}`);
    else if (p?.done !== undefined) parts.push(`${p.unit ?? ''}${p.unit ? ' ' : ''}${p.done}`);
    if (i.resumedAt !== undefined) parts.push(this.c('33', `resumed at ${i.resumedAt}`));
    if (p?.message) parts.push(p.message);
    const elapsed = now - i.started;
    const doneHere = (p?.done ?? 0) - (i.resumedAt ?? 0);
    if (doneHere > 0 && elapsed > 0) {
      const rate = (doneHere / elapsed) * 1000;
      parts.push(`${rate >= 10 ? rate.toFixed(0) : rate.toPrecision(2)} ${p?.unit ?? 'units'}/s`);
    }
    const left = this.o.eta?.stageLeft(i.id, now);
    parts.push(left !== undefined ? `${formatDuration(left)} left` : formatDuration(elapsed));
    if (i.reason) parts.push(this.c('2', i.reason));
    const label = g.n > 1 || i.label !== g.base ? i.label : '';
    return `${label ? `${label}   ` : ''}${parts.join(' · ')}`;
  }

  private render(force = false): void {
    if (this.drawing) return;
    if (!force) this.tick++;
    this.drawing = true;
    try {
      this.draw(this.frame().join('\n'));
    } finally {
      this.drawing = false;
    }
  }

  async end(s: RunSummary): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.draw.clear();
    this.draw.done();
    this.restore?.();
    this.rawStream('\x1b[?25h');
    // what stays on screen: the groups that executed or failed, then the failures and the summary
    const err = this.raw.err;
    const shown = [...this.groups.values()].filter((g) => g.ran || g.failed);
    for (const g of shown.slice(0, 30)) err(`${g.failed ? '✗' : '✓'} ${g.base} (${g.kind})${g.n > 1 ? ` ${g.n}` : ''}: ${[g.ran ? `${g.ran} ran` : '', g.cached ? `${g.cached} cached` : '', g.failed ? `${g.failed} failed` : '', g.skipped ? `${g.skipped} skipped` : ''].filter(Boolean).join(', ')}\n`);
    if (shown.length > 30) err(`… and ${shown.length - 30} more groups\n`);
    for (const f of s.failures) err(`failed: ${f.id}: ${f.error.split('\n')[0]}   (details: pipe show ${f.id})\n`);
    this.raw.out(summaryLine(s) + '\n');
  }
}

/** `train[dataset=adult,fold=3,model=gelu]` → `adult · fold 3 · gelu` (a key whose value is a number keeps its name). */
export function instanceLabel(id: string): string {
  const m = /\[(.*)\]$/.exec(id);
  if (!m) return id;
  return m[1]!.split(',').map((kv) => {
    const [k, v] = kv.split('=');
    return v !== undefined && /^-?\d+(\.\d+)?$/.test(v) ? `${k} ${v}` : (v ?? k);
  }).join(' · ');
}
