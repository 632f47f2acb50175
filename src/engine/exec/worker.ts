/**
 * Stage worker process. The coordinator forks a few of these and reuses them; each runs one
 * stage at a time: builds the context, runs the kind, hashes what it wrote, and reports back.
 * A crash or OOM here costs only the running stage; the coordinator records it as failed.
 */
import { dirname } from 'node:path';
import { fmtBytes, freeBytes, isDiskFull } from '../../lib/system/disk.js';
import { rm } from 'node:fs/promises';
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeContext, type TaskSpec } from './context.js';
import { getKind, useProject } from '../front/registry.js';
import { hashOutput } from '../cache/store.js';
import type { Progress } from '../../sdk/stage.js';

export type ToWorker = { type: 'run'; task: TaskSpec } | { type: 'abort' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; progress: Progress }
  | { type: 'log'; lines: string[] }
  | { type: 'done'; outputs: Awaited<ReturnType<typeof hashOutput>>[]; metrics?: Record<string, unknown> }
  | { type: 'error'; message: string; stack?: string };

/**
 * What a job on a Slurm compute node leaves beside each task (`<task dir>/result.json`, written
 * to a temp name and renamed, so the coordinator never reads half of one): the hashed outputs
 * on success, the error otherwise. The coordinator re-verifies the hashes before recording.
 */
export type TaskResultFile =
  | { ok: true; outputs: Awaited<ReturnType<typeof hashOutput>>[]; metrics?: Record<string, unknown>; host: string; ms: number }
  | { ok: false; error: string; host: string; ms: number };

const batchMode = process.argv.includes('--slurm-element');
let send = (m: FromWorker) => { process.send?.(m); };
let controller: AbortController | null = null;

if (!batchMode) {
  // The coordinator is gone (finished, or killed): stop the running stage (a command stage
  // kills its process group on abort), then leave.
  process.on('disconnect', () => {
    controller?.abort();
    setTimeout(() => process.exit(0), controller ? 300 : 0).unref();
  });
  process.on('message', (m: ToWorker) => {
    if (m.type === 'abort') controller?.abort();
    else if (m.type === 'run') void run(m.task);
  });
}

async function run(task: TaskSpec): Promise<void> {
  controller = new AbortController();
  let logBuf: string[] = [];
  let lastProgress = 0;
  let pendingProgress: Progress | null = null;
  const flush = () => {
    if (logBuf.length) { send({ type: 'log', lines: logBuf }); logBuf = []; }
    if (pendingProgress) { send({ type: 'progress', progress: pendingProgress }); pendingProgress = null; }
  };
  const timer = setInterval(flush, 200);
  try {
    useProject(task.projectDir);
    const kind = await getKind(task.kind);
    if (!kind) throw new Error(`unknown stage kind '${task.kind}'`);
    const ctx = makeContext(task, controller.signal, {
      progress: (p) => {
        const now = Date.now();
        // a resume notice is never coalesced away by the next progress report
        if (now - lastProgress > 100 || p.resumedAt !== undefined) { lastProgress = now; send({ type: 'progress', progress: p }); pendingProgress = null; }
        else pendingProgress = p;
      },
      log: (level, msg) => logBuf.push(level === 'info' ? msg : `[${level}] ${msg}`),
    });
    const result = await kind.run(ctx);
    if (controller.signal.aborted) throw new Error('aborted');
    const outputs = [];
    for (const [name, o] of Object.entries(task.outputs)) outputs.push(await hashOutput(name, o.path));
    flush();
    send({ type: 'done', outputs, metrics: result?.metrics ?? undefined });
  } catch (e) {
    flush();
    const err = e as Error;
    let message = err?.message ?? String(e);
    if (isDiskFull(e)) {
      // ENOSPC from a write names no file: say where the stage was writing and what is left
      const dir = dirname(Object.values(task.outputs)[0]?.path ?? task.tmpDir);
      const free = freeBytes(dir);
      message = `disk full writing the stage's outputs in ${dir}${free !== undefined ? ` (${fmtBytes(free)} free)` : ''}: ${message}`;
    }
    send({ type: 'error', message, stack: err?.stack });
  } finally {
    clearInterval(timer);
    controller = null;
    if (existsSync(task.tmpDir)) await rm(task.tmpDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Slurm mode: `node worker.js --slurm-element <file.json>` runs the tasks listed in the file
 * (task directories, each holding task.json) one after the other, in this process, and writes
 * each one's log.txt and result.json. SIGTERM (scancel, time limit) aborts the running task.
 */
async function runElement(file: string): Promise<void> {
  const dirs = JSON.parse(readFileSync(file, 'utf8')) as string[];
  let stopping = false;
  process.on('SIGTERM', () => { stopping = true; controller?.abort(); });
  process.on('SIGINT', () => { stopping = true; controller?.abort(); });
  const host = (await import('node:os')).hostname();
  let failures = 0;
  for (const dir of dirs) {
    const resultPath = join(dir, 'result.json');
    if (existsSync(resultPath)) continue; // already done (a requeued job)
    if (stopping) break;
    const task = JSON.parse(readFileSync(join(dir, 'task.json'), 'utf8')) as TaskSpec;
    const logPath = join(dir, 'log.txt');
    writeFileSync(logPath, '');
    const t0 = Date.now();
    let outcome: FromWorker | undefined;
    send = (m) => {
      if (m.type === 'log') {
        appendFileSync(logPath, m.lines.join('\n') + '\n');
        process.stdout.write(m.lines.map((l) => `[${task.id}] ${l}\n`).join(''));
      } else if (m.type === 'done' || m.type === 'error') outcome = m;
    };
    process.stdout.write(`pipe: ${task.id} starting on ${host}\n`);
    await run(task);
    const ms = Date.now() - t0;
    const res: TaskResultFile = outcome?.type === 'done'
      ? { ok: true, outputs: outcome.outputs, metrics: outcome.metrics, host, ms }
      : { ok: false, error: outcome?.type === 'error' ? outcome.message : 'the task ended without a result', host, ms };
    if (!res.ok) { failures++; process.stdout.write(`pipe: ${task.id} failed: ${res.error}\n`); }
    else process.stdout.write(`pipe: ${task.id} done in ${ms} ms\n`);
    const tmp = `${resultPath}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(res));
    renameSync(tmp, resultPath);
  }
  process.exitCode = stopping ? 143 : failures ? 1 : 0;
}

if (batchMode) {
  const file = process.argv[process.argv.indexOf('--slurm-element') + 1];
  if (!file) { process.stderr.write('worker: --slurm-element needs a file\n'); process.exit(2); }
  runElement(file).catch((e: Error) => { process.stderr.write(`worker: ${e.stack ?? e}\n`); process.exit(1); });
} else send({ type: 'ready' });
