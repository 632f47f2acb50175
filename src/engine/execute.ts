/**
 * Steps 6–7 — execute and record. Stages run as soon as their inputs are recorded, up to
 * `jobs` at once, in reused worker processes. A finished stage's outputs are hashed (in the
 * worker), renamed into the content-addressed store, and only then recorded in SQLite.
 * Consumers are fingerprinted with the *content* of their inputs, so a re-executed stage
 * that wrote identical bytes leaves its consumers cached (early cutoff).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { prepareOutputs, type TaskSpec } from './context.js';
import { PipeError, didYouMean } from './errors.js';
import type { PipelineGraph, PlannedStage } from './graph.js';
import type { ContentHash } from './hash.js';
import { Planner } from './plan.js';
import { WorkerPool } from './pool.js';
import { resolvePorts, type Progress } from './stage.js';
import type { Workspace } from './workspace.js';
import type { OutputRow } from './db.js';

export type StageOutcome = 'ran' | 'cached' | 'failed' | 'skipped' | 'interrupted';

export interface RunReporter {
  start(stages: PlannedStage[]): void;
  stageStart(id: string): void;
  stageProgress(id: string, p: Progress): void;
  stageEnd(id: string, outcome: StageOutcome, info: { error?: string; durationMs?: number; reason?: string }): void;
  message(text: string): void;
  end(summary: RunSummary): void | Promise<void>;
}

export interface RunOptions {
  jobs: number;
  keepGoing: boolean;
  /** Run only these stages (base names or instance ids) and what they need. */
  only?: string[];
  /** Re-execute these stages even when cached. */
  force?: string[];
  /** Wait for another run of the same pipeline to finish (else fail at once). */
  wait: boolean;
  argv: string[];
  reporter: RunReporter;
  signal?: AbortSignal;
}

export interface RunSummary {
  runId: number;
  ran: number;
  cached: number;
  failed: number;
  skipped: number;
  interrupted: number;
  failures: { id: string; error: string }[];
  durationMs: number;
}

/** Stage ids matching user-given names (`train` = every instance of train). */
export function selectStages(g: PipelineGraph, names: string[]): Set<string> {
  const out = new Set<string>();
  for (const n of names) {
    const hits = g.order.filter((s) => s.id === n || s.base === n || (n.endsWith('*') && s.id.startsWith(n.slice(0, -1))));
    if (!hits.length) {
      const cands = new Set([...g.order.map((s) => s.base), ...g.order.map((s) => s.id)]);
      throw new PipeError(`no stage '${n}' in ${g.pipeline.file.file}${didYouMean(n, cands)}`);
    }
    for (const h of hits) out.add(h.id);
  }
  return out;
}

/** The stages a run considers: every stage, or with `only` the named ones and their ancestors. */
export function runSelection(g: PipelineGraph, only?: string[]): Set<string> {
  return only?.length ? ancestors(g, selectStages(g, only)) : new Set(g.order.map((s) => s.id));
}

function ancestors(g: PipelineGraph, ids: Set<string>): Set<string> {
  const out = new Set(ids);
  const stack = [...ids];
  while (stack.length) {
    const id = stack.pop()!;
    for (const d of g.byId.get(id)!.deps) if (!out.has(d)) { out.add(d); stack.push(d); }
  }
  return out;
}

export async function acquireLock(ws: Workspace, pipeline: string, wait: boolean, say: (m: string) => void, signal?: AbortSignal): Promise<void> {
  let told = false;
  for (;;) {
    const holder = ws.db.tryLock(pipeline);
    if (!holder) return;
    const msg = `another \`pipe run\` of '${pipeline}' is in progress (pid ${holder.pid} on ${holder.host}, since ${new Date(holder.since).toISOString()})`;
    if (!wait) throw new PipeError(`${msg}; not waiting (--no-wait)`, undefined, 3);
    if (!told) { say(`${msg}; waiting for it to finish…`); told = true; }
    if (signal?.aborted) throw new PipeError('interrupted while waiting for the lock', undefined, 130);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function executePipeline(g: PipelineGraph, ws: Workspace, opts: RunOptions): Promise<RunSummary> {
  const t0 = Date.now();
  const name = g.pipeline.name;
  const rep = opts.reporter;
  const selected = runSelection(g, opts.only);
  const forced = opts.force?.length ? selectStages(g, opts.force) : new Set<string>();
  const stages = g.order.filter((s) => selected.has(s.id));

  await acquireLock(ws, name, opts.wait, (m) => rep.message(m), opts.signal);
  const db = ws.db;
  const summary: RunSummary = { runId: 0, ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0, failures: [], durationMs: 0 };
  let pool: WorkerPool | undefined;
  try {
    const reaped = db.reapInterrupted(name);
    if (reaped) rep.message(`${reaped} stage(s) of an earlier run were interrupted; they will run again`);
    ws.cleanTmp();
    const runId = db.startRun(name, g.pipeline.file.absPath, opts.argv);
    summary.runId = runId;
    const planner = new Planner(g, db, ws.store, ws.root);
    const runTmp = join(ws.tmpDir, `${process.pid}-${runId}`);
    const runOut = join(runTmp, 'out');
    mkdirSync(runOut, { recursive: true });
    let seq = 0;
    rep.start(stages);

    // ---- scheduling state
    const outputsOf = new Map<string, OutputRow[]>();
    const waiting = new Map<string, number>();
    const dependents = new Map<string, string[]>();
    for (const s of stages) {
      const deps = s.deps.filter((d) => selected.has(d));
      waiting.set(s.id, deps.length);
      for (const d of deps) dependents.set(d, [...(dependents.get(d) ?? []), s.id]);
    }
    const ready: PlannedStage[] = stages.filter((s) => waiting.get(s.id) === 0);
    const finished = new Set<string>();
    let running = 0; // stages being processed (fingerprint, cache check, execution)
    let executing = 0; // stages holding a worker slot
    const slotWaiters: (() => void)[] = [];
    const acquireSlot = async () => {
      while (executing >= opts.jobs) await new Promise<void>((r) => slotWaiters.push(r));
      executing++;
    };
    const releaseSlot = () => {
      executing--;
      slotWaiters.shift()?.();
    };
    let stopScheduling = false;
    const abort = new AbortController();
    const onExternalAbort = () => { stopScheduling = true; abort.abort(); };
    opts.signal?.addEventListener('abort', onExternalAbort, { once: true });
    if (opts.signal?.aborted) onExternalAbort();

    let wake: () => void = () => undefined;
    const release = (id: string) => {
      finished.add(id);
      for (const c of dependents.get(id) ?? []) {
        const n = waiting.get(c)! - 1;
        waiting.set(c, n);
        if (n === 0) ready.push(g.byId.get(c)!);
      }
      wake();
    };
    const skipDownstream = (id: string, why: string) => {
      for (const c of dependents.get(id) ?? []) {
        if (finished.has(c)) continue;
        finished.add(c);
        summary.skipped++;
        rep.stageEnd(c, 'skipped', { reason: why });
        skipDownstream(c, why);
      }
    };

    const process1 = async (st: PlannedStage): Promise<void> => {
      const inputs: Record<string, ContentHash[]> = {};
      const inputRefs: TaskSpec['inputs'] = {};
      for (const [inName, bs] of Object.entries(st.bindings)) {
        inputs[inName] = [];
        inputRefs[inName] = [];
        for (const b of bs) {
          const o = outputsOf.get(b.stage)?.find((x) => x.name === b.output);
          if (!o) throw new Error(`internal: ${b.stage}.${b.output} not recorded before ${st.id}`);
          inputs[inName]!.push(o.hash as ContentHash);
          inputRefs[inName]!.push({ path: ws.store.path(o.hash), hash: o.hash, from: b.stage, output: b.output, matrix: g.byId.get(b.stage)!.matrix });
        }
      }
      const { fp, data } = await planner.fingerprintOf(st, inputs);
      const hit = forced.has(st.id) ? undefined : planner.checkHit(fp);
      if (hit) {
        if (hit.row && !hit.problems.length) {
          const prev = db.latest(name, st.id, 'done');
          if (!prev || prev.fingerprint !== fp || prev.invalidated) {
            db.recordCached({ runId, pipeline: name, stageId: st.id, kind: st.kind.kind, fp, fpData: JSON.stringify(data), deps: st.deps, from: hit.row });
          }
          outputsOf.set(st.id, hit.outputs!);
          updateViews(st, hit.outputs!);
          summary.cached++;
          rep.stageEnd(st.id, 'cached', {});
          release(st.id);
          return;
        }
      }
      // ---- execute
      const why = hit ? planner.explainMiss(st, data, hit).reasons.join('; ') : 'forced';
      // Outputs are flat files in the run's temp dir (no directory per stage: creating and
      // removing thousands of directories is measurably slow); scratch space is made on demand.
      const n = seq++;
      const outputs = await prepareOutputs(st.kind, st.params, runOut, `${n}-`);
      const dropOutputs = () => { for (const o of Object.values(outputs)) rmSync(o.path, { recursive: true, force: true }); };
      const task: TaskSpec = {
        id: st.id, kind: st.kind.kind, params: st.params, matrix: st.matrix, seed: st.seed,
        runtime: data.runtime, inputs: inputRefs, outputs, tmpDir: join(runTmp, `scratch-${n}`), projectDir: ws.root,
      };
      await acquireSlot();
      if (stopScheduling) {
        releaseSlot();
        return;
      }
      const execId = db.beginExecution({ runId, pipeline: name, stageId: st.id, kind: st.kind.kind, fp, fpData: data, deps: st.deps });
      rep.stageStart(st.id);
      rep.stageProgress(st.id, { message: `running (${why.length > 80 ? why.slice(0, 77) + '…' : why})` });
      const log: string[] = [];
      const started = Date.now();
      pool ??= new WorkerPool();
      const res = await pool.run(task, {
        onProgress: (p) => rep.stageProgress(st.id, p),
        onLog: (lines) => { log.push(...lines); if (log.length > 2000) log.splice(0, log.length - 2000); },
      }, abort.signal, st.kind.freshProcess).finally(releaseSlot);
      const durationMs = Date.now() - started;
      const logText = log.join('\n').slice(-200_000);
      if (res.ok) {
        try {
          const specs = resolvePorts(st.kind.outputs, st.params);
          const rows: OutputRow[] = res.outputs.map((o) => ({ execution_id: execId, name: o.name, hash: o.hash, type: specs[o.name]?.type ?? 'file', is_dir: o.isDir ? 1 : 0, size: o.size }));
          for (const o of res.outputs) ws.store.put(o);
          db.finishExecution(execId, 'done', { metrics: res.metrics, log: logText, outputs: rows });
          outputsOf.set(st.id, rows);
          updateViews(st, rows);
          summary.ran++;
          rep.stageEnd(st.id, 'ran', { durationMs });
          release(st.id);
          return;
        } catch (e) {
          res.ok = false as true;
          (res as unknown as { error: string }).error = `recording outputs failed: ${(e as Error).message}`;
        }
      }
      const error = (res as { error: string }).error;
      dropOutputs();
      if (abort.signal.aborted) {
        db.finishExecution(execId, 'interrupted', { error: 'interrupted', log: logText });
        summary.interrupted++;
        rep.stageEnd(st.id, 'interrupted', { durationMs });
        finished.add(st.id);
        return;
      }
      db.finishExecution(execId, 'failed', { error, log: logText });
      summary.failed++;
      summary.failures.push({ id: st.id, error });
      rep.stageEnd(st.id, 'failed', { error, durationMs });
      finished.add(st.id);
      skipDownstream(st.id, `upstream ${st.id} failed`);
      if (!opts.keepGoing) stopScheduling = true;
      wake();
    };

    const viewWork = new Set<Promise<void>>();
    const updateViews = (st: PlannedStage, rows: OutputRow[]) => {
      const specs = resolvePorts(st.kind.outputs, st.params);
      for (const r of rows) {
        const p = ws.updateView(name, st.id, r.name, r.type, r.hash, !!r.is_dir, specs[r.name]?.ext)
          .catch((e: Error) => rep.message(`could not update artifacts view of ${st.id}.${r.name}: ${e.message}`))
          .finally(() => viewWork.delete(p));
        viewWork.add(p);
      }
    };

    // ---- main loop
    const inflight = new Set<Promise<void>>();
    for (;;) {
      // Fingerprinting and cache checks run ahead of the workers (up to 4×jobs stages in
      // flight); only execution holds one of the `jobs` worker slots.
      while (!stopScheduling && ready.length && running < opts.jobs * 4) {
        const st = ready.shift()!;
        running++;
        const p = process1(st).catch((e: Error) => {
          summary.failed++;
          summary.failures.push({ id: st.id, error: e.message });
          rep.stageEnd(st.id, 'failed', { error: e.message });
          finished.add(st.id);
          skipDownstream(st.id, `upstream ${st.id} failed`);
          if (!opts.keepGoing) stopScheduling = true;
        }).finally(() => { running--; inflight.delete(p); wake(); });
        inflight.add(p);
      }
      if (!inflight.size) break;
      await new Promise<void>((r) => { wake = r; });
    }
    await Promise.all([...viewWork]);
    opts.signal?.removeEventListener('abort', onExternalAbort);
    const notRun = stages.filter((s) => !finished.has(s.id));
    for (const s of notRun) rep.stageEnd(s.id, 'skipped', { reason: abort.signal.aborted ? 'interrupted' : 'run stopped after a failure' });
    summary.skipped += notRun.length;
    summary.durationMs = Date.now() - t0;
    const state = abort.signal.aborted ? 'interrupted' : summary.failed ? 'failed' : 'done';
    db.endRun(runId, state, summary);
    rmSync(runTmp, { recursive: true, force: true });
  } finally {
    await pool?.close();
    db.unlock(name);
  }
  await rep.end(summary);
  return summary;
}
