/**
 * The stage runner: one stage from inputs to record. Fingerprint (inputs are the recorded
 * content hashes of its upstream outputs), cache check, and on a miss: prepare temp outputs,
 * take a worker slot, run the kind in a pooled worker process, move the hashed outputs into the
 * store, and only then record the execution in SQLite. Scheduling is the Scheduler's job.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskSpec } from './context.js';
import type { OutputRow } from '../cache/db.js';
import type { PipelineGraph, PlannedStage } from '../front/graph.js';
import type { ContentHash } from '../../lib/hash.js';
import type { HitCheck, Planner } from '../cache/plan.js';
import type { FingerprintData } from '../cache/fingerprint.js';
import { WorkerPool } from './pool.js';
import { gpuCount, type GpuPool } from './gpus.js';
import type { StaleReason } from '../cache/reasons.js';
import type { Disposition } from './scheduler.js';
import { resolvePorts, type PortType, type Progress } from '../../sdk/stage.js';
import type { StageSubset } from './subset.js';
import type { Workspace } from '../cache/workspace.js';
import { writeManifest, type ResultManifest } from '../cache/manifests.js';
import type { RemoteCache } from '../cache/remote.js';
import type { RunEvent, RunRecorder } from './events.js';
import type { Resources } from '../front/resources.js';
import type { StageExecutor } from './executor.js';

const curvesOf = (rows: OutputRow[]) => rows.find((o) => o.name === 'curves' && o.type === 'table')?.hash;

export class StageRunner {
  private pool?: WorkerPool;
  private seq = 0;
  private executing = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly outputsOf = new Map<string, OutputRow[]>();
  private readonly viewWork = new Set<Promise<void>>();
  private readonly pushes = new Set<Promise<void>>();
  /** Bytes downloaded from / uploaded to the remote in this run. */
  readonly transfer = { pulled: 0, pushed: 0, pushedResults: 0 };

  constructor(
    private readonly g: PipelineGraph,
    private readonly ws: Workspace,
    private readonly planner: Planner,
    private readonly ctx: {
      runId: number;
      runTmp: string;
      jobs: number;
      forced: StageSubset;
      /** Reports run events (the run's summary is folded from them). */
      emit: (e: RunEvent) => void | Promise<void>;
      signal: AbortSignal;
      /** Is the run stopping? (checked before a stage takes a worker) */
      stopping: () => boolean;
      /** Collects per-stage outcomes and metrics for the run's record (src/runs/). */
      recorder?: RunRecorder;
      /** Where tasks run (default: a WorkerPool of local processes, made on first use). */
      executor?: StageExecutor;
      /** A stage's resources (stage over pipeline over user config), for cluster executors. */
      resources?: (st: PlannedStage) => Resources;
      /** The GPUs of a local run (resources: {gpus: N}); absent on Slurm. */
      gpus?: GpuPool;
      /** The remote cache: looked up on a local miss, and (push: auto) given every new result. */
      remote?: RemoteCache;
      /** `pipe pull`: take results from the local cache or the remote, execute nothing. */
      pullOnly?: boolean;
    },
  ) {}

  private async acquireSlot(): Promise<void> {
    while (this.executing >= this.ctx.jobs) await new Promise<void>((r) => this.slotWaiters.push(r));
    this.executing++;
  }

  private releaseSlot(): void {
    this.executing--;
    this.slotWaiters.shift()?.();
  }

  /** Where a task reads its inputs (store paths, producers), made only for a stage that executes. */
  private inputRefs(st: PlannedStage, bound: Record<string, OutputRow[]>): TaskSpec['inputs'] {
    const refs: TaskSpec['inputs'] = {};
    for (const [inName, bs] of Object.entries(st.bindings)) {
      refs[inName] = bs.map((b, i) => {
        const o = bound[inName]![i]!;
        return { path: this.ws.store.path(o.hash), hash: o.hash, from: b.stage, output: b.output, matrix: this.g.byId.get(b.stage)!.matrix, type: o.type as PortType };
      });
    }
    return refs;
  }

  /** The content hashes of a stage's inputs (for its key) and their output rows (for its task). */
  private bindInputs(st: PlannedStage): { inputs: Record<string, ContentHash[]>; bound: Record<string, OutputRow[]> } {
    const inputs: Record<string, ContentHash[]> = {};
    const bound: Record<string, OutputRow[]> = {};
    for (const [inName, bs] of Object.entries(st.bindings)) {
      const hashes: ContentHash[] = (inputs[inName] = []);
      const rows: OutputRow[] = (bound[inName] = []);
      for (const b of bs) {
        const o = this.outputsOf.get(b.stage)?.find((x) => x.name === b.output);
        if (!o) throw new Error(`internal: ${b.stage}.${b.output} not recorded before ${st.id}`);
        hashes.push(o.hash as ContentHash);
        rows.push(o);
      }
    }
    return { inputs, bound };
  }

  /** A stage satisfied by a cached execution: recorded (when not its own last), shown in artifacts/, reported. */
  private takeHit(st: PlannedStage, fp: string, data: FingerprintData, hit: HitCheck): void {
    const row = hit.row!;
    const prev = this.planner.lastDone(st.id);
    if (!prev || prev.fingerprint !== fp || prev.invalidated) {
      this.ws.db.recordCached({ runId: this.ctx.runId, pipeline: this.g.pipeline.name, stageId: st.id, kind: st.kind.kind, fp, fpData: JSON.stringify(data), deps: st.deps, from: row });
    }
    this.outputsOf.set(st.id, hit.outputs!);
    this.updateViews(st, hit.outputs!);
    this.ctx.recorder?.stage({ id: st.id, outcome: 'cached', execution: row.cached_from ?? row.id, fingerprint: fp, ...(row.ended ? { durationMs: row.ended - row.started } : {}), curves: curvesOf(hit.outputs!), metrics: row.metrics });
    void this.ctx.emit({ type: 'stage-end', id: st.id, outcome: 'cached' });
  }

  /**
   * Settles a stage whose result is in the local cache without waiting for anything — the whole
   * of a no-op rerun — or returns undefined, and `run` takes the stage (a miss, a forced stage,
   * a key with asynchronous parts).
   */
  runCached(st: PlannedStage): 'ok' | undefined {
    if (this.ctx.forced.has(st.id)) return undefined;
    const bound = this.bindInputs(st);
    const key = this.planner.fingerprintNow(st, bound.inputs);
    if (!key) return undefined;
    const hit = this.planner.checkHit(key.fp, st.id);
    if (!hit.row || hit.problems.length) {
      // a miss: `run` takes the stage next, with what was found here
      this.checked.set(st.id, { ...bound, ...key, hit });
      return undefined;
    }
    this.takeHit(st, key.fp, key.data, hit);
    return 'ok';
  }

  /** A miss `runCached` found, for the `run` of the same stage that follows it. */
  private readonly checked = new Map<string, ReturnType<StageRunner['bindInputs']> & { fp: string; data: FingerprintData; hit: HitCheck }>();

  async run(st: PlannedStage): Promise<Disposition> {
    const { g, ws, planner } = this;
    const { emit, runId } = this.ctx;
    const name = g.pipeline.name;
    const db = ws.db;
    const forced = this.ctx.forced.has(st.id);
    const known = this.checked.get(st.id);
    this.checked.delete(st.id);
    const { inputs, bound } = known ?? this.bindInputs(st);
    const { fp, data } = known ?? (await planner.fingerprintOf(st, inputs));
    const hit = forced ? undefined : known?.hit ?? planner.checkHit(fp, st.id);
    if (hit?.row && !hit.problems.length) {
      this.takeHit(st, fp, data, hit);
      return 'ok';
    }
    // ---- the remote cache, on a local miss (never for --force: that asks for a recomputation)
    if (!forced && this.ctx.remote) {
      const got = await this.fromRemote(st, fp, data, runId);
      if (got) return 'ok';
    }
    if (this.ctx.pullOnly) {
      void emit({ type: 'stage-end', id: st.id, outcome: 'skipped', skip: { code: 'not-on-remote', remote: this.ctx.remote?.name ?? '(none)' } });
      return 'unavailable';
    }
    // ---- execute
    const reasons: StaleReason[] = hit ? planner.explainMiss(st, data, hit).reasons : [{ code: 'forced' }];
    // Outputs are flat files in the run's temp dir (no directory per stage: creating and
    // removing thousands of directories is measurably slow); scratch space is made on demand.
    const n = this.seq++;
    const ex = this.ctx.executor;
    // On Slurm, a task lives in its own directory under cache/slurm/tasks/ (it outlives this
    // coordinator: a later run adopts it); a job of a killed run computing this fingerprint is
    // adopted instead of submitting another.
    const adopted = ex?.adoptable?.(fp);
    const taskDir = adopted?.taskDir ?? ex?.newTaskDir?.(st.id);
    // loaded by the first stage that executes (a no-op rerun needs neither)
    const { prepareOutputs, resumeSpec } = await import('./context.js');
    const { resumeDir } = await import('../cache/resume.js');
    const outputs = adopted ? adopted.task.outputs : await prepareOutputs(st.kind, st.params, taskDir ? join(taskDir, 'out') : join(this.ctx.runTmp, 'out'), taskDir ? '' : `${n}-`);
    const dropOutputs = () => {
      if (taskDir) rmSync(taskDir, { recursive: true, force: true });
      else for (const o of Object.values(outputs)) rmSync(o.path, { recursive: true, force: true });
    };
    const task: TaskSpec = adopted?.task ?? {
      id: st.id, kind: st.kind.kind, params: st.params, matrix: st.matrix, seed: st.seed,
      runtime: data.runtime, inputs: this.inputRefs(st, bound), outputs,
      gathered: Object.entries(st.inputs).filter(([, d]) => d.refs.length > 1 || d.refs.some((r) => r.selector.gather)).map(([n]) => n),
      attempt: 1 + db.failedAttempts(fp),
      tmpDir: taskDir ? join(taskDir, 'scratch') : join(this.ctx.runTmp, `scratch-${n}`), projectDir: ws.root,
      resume: resumeSpec(ws.cacheDir, fp, st.decl.checkpoint),
    };
    // GPUs (local executor): devices first, then a worker slot, so CPU stages run while this waits
    const wantGpus = ex ? 0 : gpuCount(this.ctx.resources?.(st)?.gpus);
    let gpus: string[] | undefined;
    let gpuError: string | undefined;
    if (wantGpus > 0 && this.ctx.gpus) {
      try { gpus = await this.ctx.gpus.acquire(wantGpus); } catch (e) { gpuError = (e as Error).message; }
    } else if (wantGpus > 0) gpuError = `asks for ${wantGpus} GPU(s), and this run has none (pipe run --gpus N sets the count)`;
    if (!adopted) task.gpus = gpus ?? (this.ctx.gpus?.total ? [] : undefined);
    await this.acquireSlot();
    if (this.ctx.stopping()) {
      this.releaseSlot();
      if (gpus) this.ctx.gpus!.release(gpus);
      if (!adopted) dropOutputs(); // an adopted job keeps its directory for the next run
      return 'not-started';
    }
    const execId = db.beginExecution({ runId, pipeline: name, stageId: st.id, kind: st.kind.kind, fp, fpData: data, deps: st.deps });
    void emit({ type: 'stage-start', id: st.id, reasons });
    const log: string[] = [];
    const started = Date.now();
    const handlers = {
      onProgress: (p: Progress) => {
        if (p.resumedAt !== undefined) void emit({ type: 'stage-resumed', id: st.id, epoch: p.resumedAt, total: p.total ?? 0 });
        void emit({ type: 'stage-progress', id: st.id, progress: p });
      },
      onLog: (lines: string[]) => { log.push(...lines); if (log.length > 2000) log.splice(0, log.length - 2000); },
    };
    const executor = ex ?? (this.pool ??= new WorkerPool());
    const res = gpuError ? (this.releaseSlot(), { ok: false as const, error: gpuError }) : await executor.run(task, handlers, this.ctx.signal, {
      pipeline: name, stageId: st.id, base: st.base, fingerprint: fp, runId, resources: this.ctx.resources?.(st) ?? {},
      freshProcess: st.kind.freshProcess, taskDir, adopt: adopted,
    }).finally(() => { this.releaseSlot(); if (gpus) this.ctx.gpus!.release(gpus); });
    const durationMs = Date.now() - started;
    const logText = log.join('\n').slice(-200_000);
    let error = res.ok ? '' : res.error;
    if (res.ok) {
      // only storing and recording can fail the stage; once it is recorded done it stays done
      // (what observers do with the news — views, the run record, reporters — cannot undo it)
      let rows: OutputRow[] | undefined;
      try {
        const specs = resolvePorts(st.kind.outputs, st.params);
        const out: OutputRow[] = res.outputs.map((o) => ({ execution_id: execId, name: o.name, hash: o.hash, type: specs[o.name]?.type ?? 'file', is_dir: o.isDir ? 1 : 0, size: o.size }));
        for (const o of res.outputs) ws.store.put(o);
        // the store is the truth: its manifest of this result first, then the index
        const manifest: ResultManifest = {
          v: 1, fingerprint: fp, fpData: data, pipeline: name, stageId: st.id, kind: st.kind.kind,
          outputs: out.map(({ execution_id: _, ...o }) => o), metrics: res.metrics ?? null, started, ended: Date.now(),
        };
        writeManifest(ws.cacheDir, manifest);
        db.finishExecution(execId, 'done', { metrics: res.metrics, log: logText, outputs: out });
        rows = out;
        if (this.ctx.remote?.pushMode === 'auto' && !this.ctx.pullOnly) this.push(manifest);
      } catch (e) {
        error = `recording outputs failed: ${(e as Error).message}`;
      }
      if (rows) {
        if (taskDir) rmSync(taskDir, { recursive: true, force: true });
        rmSync(resumeDir(ws.cacheDir, fp), { recursive: true, force: true }); // the stage completed: its checkpoints are done with
        this.outputsOf.set(st.id, rows);
        this.updateViews(st, rows);
        this.ctx.recorder?.stage({ id: st.id, outcome: 'ran', execution: execId, fingerprint: fp, durationMs, reasons, curves: curvesOf(rows), metrics: res.metrics });
        void emit({ type: 'stage-end', id: st.id, outcome: 'ran', durationMs });
        return 'ok';
      }
    }
    dropOutputs();
    if (this.ctx.signal.aborted) {
      db.finishExecution(execId, 'interrupted', { error: 'interrupted', log: logText });
      this.ctx.recorder?.stage({ id: st.id, outcome: 'interrupted', execution: execId, fingerprint: fp, durationMs, reasons });
      void emit({ type: 'stage-end', id: st.id, outcome: 'interrupted', durationMs });
      return 'interrupted';
    }
    db.finishExecution(execId, 'failed', { error, log: logText });
    this.ctx.recorder?.stage({ id: st.id, outcome: 'failed', execution: execId, fingerprint: fp, durationMs, reasons, error: error.slice(0, 500) });
    void emit({ type: 'stage-end', id: st.id, outcome: 'failed', error, durationMs });
    return 'failed';
  }

  /**
   * Looks the fingerprint up on the remote; downloads and verifies every output into the store
   * and records the stage as a hit from the remote. A remote copy that cannot be used is a miss
   * with a warning (the stage runs, and its push repairs the remote).
   */
  private async fromRemote(st: PlannedStage, fp: string, data: unknown, runId: number): Promise<boolean> {
    const remote = this.ctx.remote!;
    const name = this.g.pipeline.name;
    const warn = (text: string) => { void this.ctx.emit({ type: 'message', text }); };
    try {
      const l = await remote.lookup(fp);
      if (!l.found) {
        if (l.problem) warn(`${st.id}: the remote '${remote.name}' has a result for this fingerprint, but ${l.problem}; computing it here`);
        return false;
      }
      const got = await remote.fetch(l.manifest, this.ws.store);
      if (!got.ok) {
        remote.markBroken(fp);
        warn(`${st.id}: the remote '${remote.name}' result cannot be used — ${got.problem}; computing it here`);
        return false;
      }
      this.transfer.pulled += got.bytes;
      const { resumeDir } = await import('../cache/resume.js');
      rmSync(resumeDir(this.ws.cacheDir, fp), { recursive: true, force: true }); // a checkpoint of a local attempt is not needed any more
      const m = l.manifest;
      writeManifest(this.ws.cacheDir, { v: 1, fingerprint: fp, fpData: m.fpData, pipeline: name, stageId: st.id, kind: st.kind.kind, outputs: m.outputs, metrics: m.metrics, started: m.started, ended: m.ended });
      const rec = this.ws.db.recordPulled({ runId, pipeline: name, stageId: st.id, kind: st.kind.kind, fp, fpData: JSON.stringify(data), deps: st.deps, m, note: `pulled from remote '${remote.name}' (${remote.where}); computed by ${m.stageId} of '${m.pipeline}' with pipe ${m.pipe}` });
      this.outputsOf.set(st.id, rec.outputs);
      this.updateViews(st, rec.outputs);
      this.ctx.recorder?.stage({ id: st.id, outcome: 'cached', execution: rec.id, fingerprint: fp, durationMs: Math.max(0, m.ended - m.started), curves: curvesOf(rec.outputs), metrics: m.metrics ?? undefined });
      void this.ctx.emit({ type: 'stage-end', id: st.id, outcome: 'cached', remote: remote.name });
      return true;
    } catch (e) {
      // the remote went away mid-run: local work goes on
      warn(`${st.id}: the remote '${remote.name}' could not be read (${(e as Error).message}); computing it here`);
      return false;
    }
  }

  /** Uploads a new result in the background (the run waits for uploads before it ends). */
  private push(m: ResultManifest): void {
    const remote = this.ctx.remote!;
    const p = remote.push(m, this.ws.store, this.ws.db)
      .then((r) => { if (!r.skipped) { this.transfer.pushed += r.bytes; this.transfer.pushedResults++; } })
      .catch((e: Error) => { void this.ctx.emit({ type: 'message', text: `${m.stageId}: pushing the result to remote '${remote.name}' failed (${e.message}); \`pipe push\` retries` }); })
      .finally(() => this.pushes.delete(p));
    this.pushes.add(p);
  }

  private updateViews(st: PlannedStage, rows: OutputRow[]): void {
    const specs = resolvePorts(st.kind.outputs, st.params);
    const name = this.g.pipeline.name;
    for (const r of rows) {
      if (this.ws.viewCurrent(name, st.id, r.name, r.type, r.hash, specs[r.name]?.ext)) continue; // the usual case: nothing to wait for
      const p = this.ws.updateView(name, st.id, r.name, r.type, r.hash, !!r.is_dir, specs[r.name]?.ext)
        .catch((e: Error) => this.ctx.emit({ type: 'message', text: `could not update artifacts view of ${st.id}.${r.name}: ${e.message}` }))
        .finally(() => this.viewWork.delete(p));
      this.viewWork.add(p);
    }
  }

  /** Waits for the artifacts/ copies and stops the worker processes. */
  async close(): Promise<void> {
    await Promise.all([...this.viewWork]);
    while (this.pushes.size) await Promise.all([...this.pushes]);
    await this.pool?.close();
  }
}
