/**
 * Steps 6–7 — execute and record: one run of a pipeline. The lock, the run row and the temp
 * directory are handled here; the Scheduler (scheduler.ts) decides when a stage may start and
 * the StageRunner (runner.ts) takes one stage from fingerprint to record. Stages run as soon as
 * their inputs are recorded, up to `jobs` at once, in reused worker processes. Consumers are
 * fingerprinted with the *content* of their inputs, so a re-executed stage that wrote identical
 * bytes leaves its consumers cached (early cutoff).
 */
import { detectGpus, GpuPool } from './gpus.js';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PipeError } from '../errors.js';
import type { PipelineGraph } from '../front/graph.js';
import { Planner } from '../cache/plan.js';
import { StageRunner } from './runner.js';
import { Scheduler } from './scheduler.js';
import { runScope } from './subset.js';
import { artifactsMode, type Workspace } from '../cache/workspace.js';
import { describeHolder, GC_LOCK, type LockHolder } from '../cache/db.js';
import { mergeResources, type ExecutorName, type Resources, type SlurmOptions } from '../front/resources.js';
import type { SlurmExecutor } from './slurm.js';
import type { RemoteCache } from '../cache/remote.js';
import { diskFullText, isDiskFull } from '../../lib/system/disk.js';
import { emptySummary, summarize, type RunEvent, type RunFinish, type RunRecorder, type RunReporter, type RunSummary, type SkipReason } from './events.js';

export type { RunEvent, RunReporter, RunSummary, StageOutcome, SkipReason, RunRecorder, RunFinish, StageRecord } from './events.js';

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
  /** The run's name (`pipe run --name`), unique within the pipeline. */
  name?: string;
  /** The `--set` overrides the graph was built with (for the run's record). */
  overrides?: string[];
  reporter: RunReporter;
  /** Keeps the run's record (src/runs/); without one nothing is recorded beyond the cache. */
  recorder?: RunRecorder;
  signal?: AbortSignal;
  /** Where stages run (default local worker processes). */
  executor?: ExecutorName;
  /** Slurm executor options (user config under the pipeline's `slurm:`). */
  slurm?: SlurmOptions;
  /** Resource defaults below the pipeline's (from the user config). */
  resources?: Resources;
  /** Local GPUs: `--gpus N` (devices 0 … N-1); default: the devices found (exec/gpus.ts). */
  gpus?: number;
  /** The remote cache (looked up on local misses; push: auto uploads new results). */
  remote?: RemoteCache;
  /** `pipe pull`: fill the cache from the remote, execute nothing. */
  pullOnly?: boolean;
  /** On Slurm, --jobs was given (else the executor's max_queued is the cap). */
  jobsGiven?: boolean;
}

/**
 * Waits for a workspace lock: `take` tries once and returns the holder in the way (or null when
 * taken); `what` says what the holder is doing. Exits 3 at once with `wait` false.
 */
export async function waitForLock(take: () => LockHolder | null, what: (h: LockHolder) => string, wait: boolean, say: (m: string) => void, signal?: AbortSignal): Promise<void> {
  let told = false;
  for (;;) {
    const holder = take();
    if (!holder) return;
    const msg = what(holder);
    if (!wait) throw new PipeError(`${msg}; not waiting (--no-wait)`, undefined, 3);
    if (!told) { say(`${msg}; waiting for it to finish…`); told = true; }
    if (signal?.aborted) throw new PipeError('interrupted while waiting for the lock', undefined, 130);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function acquireLock(ws: Workspace, pipeline: string, wait: boolean, say: (m: string) => void, signal?: AbortSignal): Promise<void> {
  return waitForLock(() => ws.db.tryLock(pipeline), (holder) => (holder.pipeline === GC_LOCK
    ? `${describeHolder(holder)} is cleaning the cache`
    : `another \`pipe run\` of '${pipeline}' is in progress (pid ${holder.pid} on ${holder.host}, since ${new Date(holder.since).toISOString()})`), wait, say, signal);
}

export async function executePipeline(g: PipelineGraph, ws: Workspace, opts: RunOptions): Promise<RunSummary> {
  const t0 = Date.now();
  const name = g.pipeline.name;
  const summary = emptySummary();
  // every event goes through here: the summary is the fold of the events the reporter saw
  // a reporter that throws must not change what the engine does or records: it is told once
  let reporterBroken = false;
  const report = (err: unknown) => {
    if (reporterBroken) return;
    reporterBroken = true;
    process.stderr.write(`pipe: the progress display failed (${(err as Error)?.message ?? String(err)}); the run goes on\n`);
  };
  const emit = (e: RunEvent): void | Promise<void> => {
    summarize(summary, e);
    try {
      const r = opts.reporter.on(e);
      return r instanceof Promise ? r.catch(report) : r;
    } catch (err) {
      report(err);
    }
  };
  const say = (text: string) => { void emit({ type: 'message', text }); };
  const scope = runScope(g, opts.only, opts.force);
  artifactsMode(); // a bad PIPE_ARTIFACTS is an error before anything runs

  await acquireLock(ws, name, opts.wait, say, opts.signal);
  const db = ws.db;
  let runner: StageRunner | undefined;
  try {
    const reaped = db.reapInterrupted(name);
    if (reaped) say(`${reaped} stage(s) of an earlier run were interrupted; they will run again`);
    ws.cleanTmp();
    const runId = db.startRun(name, g.pipeline.file.absPath, opts.argv);
    const runTmp = join(ws.tmpDir, `${process.pid}-${runId}`);
    mkdirSync(join(runTmp, 'out'), { recursive: true });
    void emit({ type: 'run-start', runId, stages: scope.selection.stages() });

    // Fingerprinting and cache checks run ahead of the workers (up to 4×jobs stages in
    // flight); only execution holds one of the `jobs` worker slots.
    let slurm: SlurmExecutor | undefined;
    let jobs = opts.jobs;
    const doc = g.pipeline.doc;
    if (opts.executor === 'slurm') {
      const { SlurmExecutor } = await import('./slurm.js'); // loaded only for Slurm runs
      slurm = new SlurmExecutor(db, ws.cacheDir, say, { ...opts.slurm, ...doc.slurm }, undefined, mergeResources(opts.resources, doc.resources));
      if (!opts.jobsGiven) jobs = slurm.maxQueued;
    }
    const scheduler = new Scheduler(scope.selection, { lookahead: jobs * 4, keepGoing: opts.keepGoing });
    const abort = new AbortController();
    const onExternalAbort = () => { scheduler.stop(); abort.abort(); };
    opts.signal?.addEventListener('abort', onExternalAbort, { once: true });
    if (opts.signal?.aborted) onExternalAbort();
    const r = (runner = new StageRunner(g, ws, new Planner(g, db, ws.store, ws.root), {
      runId, runTmp, jobs, forced: scope.forced, emit, signal: abort.signal, stopping: () => scheduler.stopping, recorder: opts.recorder,
      // a kind that needs a fresh process per execution is never batched with others
      remote: opts.remote, pullOnly: opts.pullOnly,
      executor: slurm, gpus: slurm ? undefined : gpuPool(opts.gpus), resources: (st) => mergeResources(opts.resources, doc.resources, st.decl.resources, st.kind.freshProcess ? { batch: 1 } : undefined),
    }));
    const notRun = await scheduler.run({
      process: (st) => r.run(st),
      now: (st) => r.runCached(st),
      skipped: (id, skip) => { void emit({ type: 'stage-end', id, outcome: 'skipped', skip }); },
      crashed: (id, e) => { void emit({ type: 'stage-end', id, outcome: 'failed', error: isDiskFull(e) ? diskFullText(e, join(ws.cacheDir, 'pipe.db')) : e.message }); },
    });
    await r.close();
    await slurm?.close();
    if (opts.remote && (r.transfer.pulled || r.transfer.pushedResults)) {
      const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
      say(`remote '${opts.remote.name}': ${summary.remote} result(s) pulled (${mb(r.transfer.pulled)} downloaded)${r.transfer.pushedResults ? `, ${r.transfer.pushedResults} pushed (${mb(r.transfer.pushed)} uploaded)` : ''}`);
    }
    opts.signal?.removeEventListener('abort', onExternalAbort);
    const skip: SkipReason = abort.signal.aborted ? { code: 'interrupted' } : { code: 'run-stopped' };
    for (const s of notRun) void emit({ type: 'stage-end', id: s.id, outcome: 'skipped', skip });
    summary.durationMs = Date.now() - t0;
    const state = abort.signal.aborted ? 'interrupted' : summary.failed ? 'failed' : 'done';
    db.endRun(runId, state, summary);
    await opts.recorder?.finish(finishInfo(g, opts, summary));
    rmSync(runTmp, { recursive: true, force: true });
  } finally {
    await runner?.close();
    try {
      db.unlock(name);
    } catch {
      // a full or damaged index cannot take the write: the lock row names this process, and a
      // lock of a dead process is taken over by the next run
    }
  }
  await emit({ type: 'run-end', summary });
  return summary;
}

function finishInfo(g: PipelineGraph, opts: RunOptions, summary: RunSummary): RunFinish {
  const matrix: RunFinish['matrix'] = {};
  for (const st of g.order) if (Object.keys(st.matrix).length) matrix[st.id] = { base: st.base, values: st.matrix };
  const goals = Object.fromEntries(Object.entries(g.pipeline.doc.metrics ?? {}).map(([k, v]) => [k, v.goal]));
  return {
    runId: summary.runId, name: opts.name, file: g.pipeline.file.absPath, fileText: g.pipeline.file.text, params: g.pipeline.params,
    overrides: opts.overrides ?? [], goals, matrix, summary,
  };
}

function gpuPool(n: number | undefined): GpuPool {
  if (n !== undefined) return new GpuPool(Array.from({ length: n }, (_, i) => String(i)), `--gpus ${n}`);
  const found = detectGpus();
  return new GpuPool(found.ids, found.source);
}
