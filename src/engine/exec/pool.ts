/**
 * A pool of reusable worker processes (child_process.fork of worker.js). Reuse matters: a
 * fresh Node process per stage costs ~50 ms, which dominates pipelines of many small stages.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { builtPath } from '../../lib/package-root.js';
import type { TaskSpec } from './context.js';
import type { Progress } from '../../sdk/stage.js';
import type { FromWorker, ToWorker } from './worker.js';
import type { ExecMeta, StageExecutor, TaskHandlers, TaskOutcome } from './executor.js';
export type { TaskHandlers, TaskOutcome } from './executor.js';

/** dist/engine/exec/worker.js, also when this module runs from src/ (tests) or from the coordinator's bundle. */
export const workerEntry = builtPath('engine', 'exec', 'worker.js');

// child_process (with net and dgram) is loaded when the first worker starts: a no-op run starts none
const childProcess = () => createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');

interface Worker {
  proc: ChildProcess;
  busy: boolean;
  /** Where the worker's stdout/stderr lines go while it runs a task (its stage's log). */
  sink?: (lines: string[]) => void;
}

export class WorkerPool implements StageExecutor {
  private idle: Worker[] = [];
  private all = new Set<Worker>();
  private closed = false;

  /**
   * @param onStray lines a worker prints while it runs no task (default: stderr). While it runs
   *   one, its stdout/stderr (a library's banner, a stray console.log) go to that stage's log,
   *   never straight to the terminal, where they would tear the live display.
   */
  constructor(private graceMs = 5000, private readonly onStray: (line: string) => void = (l) => process.stderr.write(l + '\n')) {
    if (!existsSync(workerEntry)) throw new Error(`worker entry ${workerEntry} is missing: run \`npm run build\``);
  }

  private spawn(): Worker {
    const proc = childProcess().fork(workerEntry, [], { serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    const w: Worker = { proc, busy: false };
    // a failed spawn or a send to a worker that just died is an 'error' event: without a
    // listener it would be thrown into the coordinator; `run` sees the death through 'exit'
    proc.on('error', () => undefined);
    for (const [stream, tag] of [[proc.stdout, ''], [proc.stderr, '[stderr] ']] as const) {
      let rest = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop()!;
        const lines = parts.map((l) => tag + l.replace(/\r$/, ''));
        if (w.sink) w.sink(lines);
        else for (const l of lines) this.onStray(l);
      });
      stream?.on('end', () => { if (rest) (w.sink ? w.sink([tag + rest]) : this.onStray(tag + rest)); rest = ''; });
    }
    this.all.add(w);
    proc.on('exit', () => {
      this.all.delete(w);
      this.idle = this.idle.filter((x) => x !== w);
    });
    return w;
  }

  run(task: TaskSpec, h: TaskHandlers, signal: AbortSignal, meta?: Pick<ExecMeta, 'freshProcess'>): Promise<TaskOutcome> {
    return this.runOn(task, h, signal, !!meta?.freshProcess, 1);
  }

  /** Runs the task on an idle (or new) worker; a worker found dead before it took the task is replaced (the task never started). */
  private runOn(task: TaskSpec, h: TaskHandlers, signal: AbortSignal, fresh: boolean, retries: number): Promise<TaskOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'pool closed', crashed: false });
    let w = (!fresh && this.idle.pop()) || this.spawn();
    while (!w.proc.connected || w.proc.exitCode !== null || w.proc.signalCode !== null) {
      this.all.delete(w);
      w = (!fresh && this.idle.pop()) || this.spawn();
    }
    w.busy = true;
    w.sink = (lines) => h.onLog?.(lines);
    return new Promise<TaskOutcome>((resolve) => {
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const finish = (o: TaskOutcome, reusable: boolean) => {
        if (settled) return;
        settled = true;
        w.proc.off('message', onMsg);
        w.proc.off('exit', onExit);
        signal.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        w.busy = false;
        w.sink = undefined;
        if (reusable && !fresh && !this.closed && w.proc.connected) this.idle.push(w);
        else if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
        resolve(o);
      };
      const onMsg = (m: FromWorker) => {
        if (m.type === 'progress') h.onProgress?.(m.progress);
        else if (m.type === 'log') h.onLog?.(m.lines);
        else if (m.type === 'done') finish({ ok: true, outputs: m.outputs, metrics: m.metrics }, true);
        else if (m.type === 'error') finish({ ok: false, error: m.message, crashed: false }, !signal.aborted);
      };
      const onExit = (code: number | null, sig: NodeJS.Signals | null) => {
        const why = sig ? `killed by ${sig}${sig === 'SIGKILL' && !signal.aborted ? ' (out of memory?)' : ''}` : `exited with code ${code}`;
        finish({ ok: false, error: `stage process ${why}`, crashed: true }, false);
      };
      const onAbort = () => {
        if (w.proc.connected) w.proc.send({ type: 'abort' } satisfies ToWorker, () => undefined);
        killTimer = setTimeout(() => w.proc.kill('SIGKILL'), this.graceMs);
      };
      w.proc.on('message', onMsg);
      w.proc.on('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        w.proc.send({ type: 'run', task } satisfies ToWorker, (err) => {
          if (!err || settled) return;
          // the worker died before it received the task: the task never started, run it on another
          settled = true;
          w.proc.off('message', onMsg);
          w.proc.off('exit', onExit);
          signal.removeEventListener('abort', onAbort);
          w.busy = false;
          w.sink = undefined;
          if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
          resolve(retries > 0 ? this.runOn(task, h, signal, fresh, retries - 1) : { ok: false, error: `could not hand the task to a worker process: ${err.message}`, crashed: true });
        });
      } catch (e) {
        finish({ ok: false, error: `could not hand the task to a worker process: ${(e as Error).message}`, crashed: true }, false);
        return;
      }
      if (signal.aborted) onAbort();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const waits = [...this.all].map((w) => new Promise<void>((res) => {
      if (w.proc.exitCode !== null || w.proc.signalCode !== null) return res();
      w.proc.once('exit', () => res());
      if (w.proc.connected) w.proc.disconnect();
      setTimeout(() => w.proc.kill('SIGKILL'), 2000).unref();
    }));
    await Promise.all(waits);
  }
}
