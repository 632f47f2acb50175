/**
 * Stage worker process. The coordinator forks a few of these and reuses them; each runs one
 * stage at a time: builds the context, runs the kind, hashes what it wrote, and reports back.
 * A crash or OOM here costs only the running stage; the coordinator records it as failed.
 */
import { rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { makeContext, type TaskSpec } from './context.js';
import { getKind, useProject } from './registry.js';
import { hashOutput } from './store.js';
import type { Progress } from './stage.js';

export type ToWorker = { type: 'run'; task: TaskSpec } | { type: 'abort' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; progress: Progress }
  | { type: 'log'; lines: string[] }
  | { type: 'done'; outputs: Awaited<ReturnType<typeof hashOutput>>[]; metrics?: Record<string, unknown> }
  | { type: 'error'; message: string; stack?: string };

const send = (m: FromWorker) => process.send?.(m);
let controller: AbortController | null = null;

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
        if (now - lastProgress > 100) { lastProgress = now; send({ type: 'progress', progress: p }); pendingProgress = null; }
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
    send({ type: 'error', message: err?.message ?? String(e), stack: err?.stack });
  } finally {
    clearInterval(timer);
    controller = null;
    if (existsSync(task.tmpDir)) await rm(task.tmpDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

send({ type: 'ready' });
