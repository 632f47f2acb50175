/**
 * The stage line protocol: how a script in any language reports to pipe. One JSON object per
 * line, written to the file descriptor named by $PIPE_PROTOCOL_FD (3):
 *
 *   {"type":"metric","name":"test_accuracy","value":0.91}        a final metric (last one wins)
 *   {"type":"curve","row":{"epoch":3,"loss":0.41}}               a row of the stage's curves table
 *   {"type":"progress","done":3,"total":20,"unit":"epoch","message":"loss 0.41"}
 *   {"type":"log","level":"info","message":"…"}                  a line of the stage's log
 *   {"type":"resumed","epoch":37,"total":100}                     the script resumed from a checkpoint
 *
 * A line that is not one of these is a warning in the stage's log naming the line, never a crash.
 */
import type { Progress } from '../../sdk/stage.js';

export type MetricValue = number | string | boolean | null;

export interface ProtocolSink {
  progress(p: Progress): void;
  log(level: 'info' | 'warn' | 'debug', message: string): void;
}

export class ProtocolReader {
  readonly metrics: Record<string, MetricValue> = {};
  readonly curveRows: Record<string, MetricValue>[] = [];
  private buf = '';
  private lineNo = 0;
  warnings = 0;

  constructor(private readonly sink: ProtocolSink) {}

  feed(chunk: Buffer | string): void {
    this.buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let i;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      this.line(line);
    }
    if (this.buf.length > 1 << 20) { const l = this.buf; this.buf = ''; this.line(l); }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    if (this.buf.trim()) this.line(this.buf);
    this.buf = '';
  }

  private warn(why: string, line: string): void {
    this.warnings++;
    this.sink.log('warn', `protocol line ${this.lineNo}: ${why}: ${line.length > 200 ? line.slice(0, 200) + '…' : line}`);
  }

  private line(raw: string): void {
    this.lineNo++;
    const line = raw.trim();
    if (!line) return;
    let m: unknown;
    try { m = JSON.parse(line); } catch { return this.warn('not JSON', line); }
    if (!m || typeof m !== 'object' || Array.isArray(m)) return this.warn('not a JSON object', line);
    const o = m as Record<string, unknown>;
    switch (o.type) {
      case 'metric': {
        if (typeof o.name !== 'string' || !o.name) return this.warn('a metric needs a "name" string', line);
        const v = o.value;
        if (!(v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')) return this.warn('a metric "value" must be a number, string, boolean or null', line);
        this.metrics[o.name] = v;
        return;
      }
      case 'curve': {
        const row = o.row;
        if (!row || typeof row !== 'object' || Array.isArray(row)) return this.warn('a curve needs a "row" object', line);
        const clean: Record<string, MetricValue> = {};
        for (const [k, v] of Object.entries(row as Record<string, unknown>)) {
          if (!(v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')) return this.warn(`curve column '${k}' is not a scalar`, line);
          clean[k] = v;
        }
        this.curveRows.push(clean);
        return;
      }
      case 'progress': {
        const p: Progress = {};
        if (o.done !== undefined) { if (typeof o.done !== 'number') return this.warn('"done" must be a number', line); p.done = o.done; }
        if (o.total !== undefined && o.total !== null) { if (typeof o.total !== 'number') return this.warn('"total" must be a number', line); p.total = o.total; }
        if (typeof o.unit === 'string') p.unit = o.unit;
        if (typeof o.message === 'string') p.message = o.message;
        this.sink.progress(p);
        return;
      }
      case 'resumed': {
        if (typeof o.epoch !== 'number') return this.warn('"epoch" must be a number', line);
        this.sink.log('info', `resumed at epoch ${o.epoch}${typeof o.total === 'number' ? `/${o.total}` : ''} from a checkpoint`);
        this.sink.progress({ resumedAt: o.epoch, done: o.epoch, ...(typeof o.total === 'number' ? { total: o.total } : {}), unit: 'epoch' });
        return;
      }
      case 'log': {
        const level = o.level === 'warn' || o.level === 'warning' ? 'warn' : o.level === 'debug' ? 'debug' : 'info';
        this.sink.log(level, typeof o.message === 'string' ? o.message : JSON.stringify(o.message));
        return;
      }
      default:
        return this.warn(`unknown type ${JSON.stringify(o.type ?? null)} (metric, curve, progress, log or resumed)`, line);
    }
  }
}
