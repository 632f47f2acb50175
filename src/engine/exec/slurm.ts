/**
 * The Slurm executor: runs stage tasks as jobs on a Slurm cluster, with the same worker code
 * as locally (`node dist/engine/exec/worker.js --slurm-element <file>` on the compute node). The
 * coordinator stays on the submit host and alone writes SQLite; the project directory and its
 * cache/ must be on a filesystem the compute nodes share (checked once per run by a probe job).
 *
 * Per task, a directory under cache/slurm/tasks/ holds task.json, the outputs (written there by
 * the job), log.txt and the exit marker result.json (hashes, written atomically by the job). A
 * task is a success only when its marker says so AND every output exists and re-hashes to the
 * recorded hash here on the coordinator: a Slurm state alone (COMPLETED, or a vanished job, or
 * UNKNOWN) never makes a success.
 *
 * - Submission: `sbatch --parsable` through execFile with an argument array and a fixed job
 *   script (no shell ever sees a user value); `--no-requeue` unless `requeue: true`. Ready
 *   siblings of one matrix stage with equal resources are gathered for `array_window_ms` and go
 *   out as one job array (at most `max_array` tasks); `batch: N` puts N tasks in one job (or
 *   array task), run one after another. Submissions are paced (`submit_rate`), transient sbatch
 *   errors are retried with exponential backoff and jitter, other sbatch errors fail only the
 *   stages of that submission.
 * - Status: one `squeue` call per poll cycle for every job of the run; the interval grows from
 *   `poll_min` to `poll_max` while nothing changes. Jobs that left squeue are looked up with
 *   `sacct` only when accounting works (probed once); otherwise their markers and job log decide.
 * - Failures (TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, CANCELLED, FAILED, …) fail the stage
 *   with the tail of its job log; `retries:` resubmits after TIMEOUT (time × retry_time_factor),
 *   OUT_OF_MEMORY (mem × retry_mem_factor), NODE_FAIL (with --exclude=<node>) or PREEMPTED.
 * - Resume: a PREEMPTED or TIMEOUT job whose stage wrote a resume checkpoint newer than where the
 *   job started (cache/resume/<fingerprint>/, src/lib/checkpoint.ts) is resubmitted and says so:
 *   within `retries:` as a retry (TIMEOUT with more time) `…, resuming from epoch 37/100`, beyond
 *   it with the same resources (`resubmitting to resume from epoch 37/100`, at most MAX_RESUMES
 *   times); the next job continues from that checkpoint. A job that made no progress gets only
 *   what `retries:` allows.
 * - Crash safety: every submitted task is a row of slurm_jobs; a later run that needs the same
 *   fingerprint adopts the row (polls the job, or records its finished result) instead of
 *   submitting again. Abort (Ctrl-C) cancels every job of the run with one scancel.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { TaskSpec } from './context.js';
import { pidAlive, type CacheDb, type SlurmJobRow } from '../cache/db.js';
import { workerEntry, type TaskHandlers, type TaskOutcome } from './pool.js';
import { parseMem, sbatchArgs, type Resources, type SlurmOptions } from '../front/resources.js';
import { hashOutput } from '../cache/store.js';
import type { TaskResultFile } from './worker.js';
import { newestCheckpointMeta } from '../../lib/checkpoint.js';
import type { Adoption, ExecMeta, StageExecutor } from './executor.js';

/** Slurm job states after which a job does no more work. */
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'CANCELLED', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'SPECIAL_EXIT', 'REVOKED']);
/** States worth a retry with other resources (when `retries:` allows). */
const RETRYABLE = new Set(['TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL']);
/** Resubmissions of a PREEMPTED / TIMEOUT job to resume from a newer checkpoint, per stage. */
const MAX_RESUMES = 20;
const TRANSIENT = /socket timed out|unable to contact slurm controller|resource temporarily unavailable|try again|transport endpoint|connection refused|zero bytes were transmitted|slurm_persist_conn|temporarily unable|job submit limit|MaxSubmitJob|Slurm temporarily unable/i;

/** ExecMeta with the task directory a Slurm task always has. */
type SlurmTaskMeta = ExecMeta & { taskDir: string };

interface Item {
  task: TaskSpec;
  meta: SlurmTaskMeta;
  h: TaskHandlers;
  signal: AbortSignal;
  attempt: number;
  scale: { time: number; mem: number; exclude: string[] };
  /** Resubmissions to resume from a checkpoint, and the epoch the last one resumed from. */
  resumes?: number;
  resumedFrom?: number;
  rowId?: number;
  succeeded?: boolean;
  resolve(o: TaskOutcome): void;
  settled: boolean;
}

/** One job, or one task of a job array: the items it runs, one after another. */
interface Element {
  key: string; // "123" or "123_4"
  items: Item[];
  logPath: string;
  submitted: number;
  state?: string;
  reason?: string;
  node?: string;
  /** When it was first missing from squeue. */
  missingSince?: number;
  /** When it was first seen ended without every marker. */
  endedAt?: number;
}

const MARKER_GRACE_MS = 2000;

export interface ExecResult { stdout: string; stderr: string; code: number }

/** How Slurm's commands are run (execFile: arguments are never seen by a shell). */
export type Runner = (cmd: string, args: string[], timeoutMs?: number) => Promise<ExecResult>;

export const execRunner: Runner = (cmd, args, timeoutMs = 60_000) => new Promise((res) => {
  execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
    const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 127) : 0;
    res({ stdout: stdout ?? '', stderr: (stderr ?? '') || (err && code === 127 ? String(err.message) : ''), code });
  });
});

/** `squeue -o '%i|%T|%r|%N'` lines → id → {state, reason, node}. */
export function parseSqueue(text: string): Map<string, { state: string; reason: string; node: string }> {
  const m = new Map<string, { state: string; reason: string; node: string }>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const [id, state, reason, node] = t.split('|');
    if (!id || !state) continue;
    m.set(id, { state: state.split(' ')[0]!, reason: reason ?? '', node: node ?? '' });
  }
  return m;
}

/** The job id of `sbatch --parsable` output ("123" or "123;cluster"). */
export function parseSbatch(stdout: string): string | undefined {
  const line = stdout.trim().split('\n').pop()?.trim() ?? '';
  const id = line.split(';')[0]!;
  return /^\d+$/.test(id) ? id : undefined;
}

function tail(path: string, lines = 40): string {
  try {
    const t = readFileSync(path, 'utf8');
    return t.split('\n').filter((l) => l.length).slice(-lines).join('\n');
  } catch {
    return '';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const JOB_SCRIPT = `#!/bin/sh
# pipe's Slurm job: runs the tasks of one element with pipe's own worker.
#   $1 = node, $2 = worker.js, $3 = directory of element files (element-<array index>.json)
# Every value arrives as an argument; nothing here is interpolated into a command string.
i="\${SLURM_ARRAY_TASK_ID:-0}"
exec "$1" "$2" --slurm-element "$3/element-$i.json"
`;

export class SlurmExecutor implements StageExecutor {
  readonly base: string;
  private readonly opts: Required<SlurmOptions>;
  private readonly groups = new Map<string, { items: Item[]; timer: NodeJS.Timeout }>();
  private readonly elements = new Map<string, Element>();
  private polling = false;
  private wakePoll: () => void = () => undefined;
  private pollDelay: number;
  private lastSubmit = 0;
  private submitChain: Promise<void> = Promise.resolve();
  private accounting?: Promise<boolean>;
  private probe?: Promise<string | undefined>;
  private closed = false;
  /** Job directories (element files, job logs) of this run's submissions → their items. */
  private readonly jobDirs = new Map<string, Item[]>();
  /** Counters, reported at the end of a run that used Slurm. */
  readonly stats = { sbatch: 0, squeue: 0, submittedTasks: 0, adopted: 0 };

  constructor(
    private readonly db: CacheDb,
    cacheDir: string,
    private readonly say: (m: string) => void,
    opts: SlurmOptions = {},
    private readonly cmd: Runner = execRunner,
    private readonly probeResources: Resources = {},
  ) {
    this.base = join(cacheDir, 'slurm');
    this.opts = {
      max_queued: opts.max_queued ?? 100,
      submit_rate: opts.submit_rate ?? 5,
      max_array: opts.max_array ?? 500,
      array_window_ms: opts.array_window_ms ?? 200,
      poll_min: opts.poll_min ?? 0.25,
      poll_max: opts.poll_max ?? 5,
      probe_timeout: opts.probe_timeout ?? 120,
      submit_tries: opts.submit_tries ?? 5,
    };
    this.pollDelay = this.opts.poll_min * 1000;
    mkdirSync(join(this.base, 'tasks'), { recursive: true });
    mkdirSync(join(this.base, 'jobs'), { recursive: true });
  }

  /** How many tasks may be queued or running at once (the runner's slot count). */
  get maxQueued(): number {
    return this.opts.max_queued;
  }

  /** A fresh task directory (its outputs go in `<dir>/out`). */
  newTaskDir(stageId: string): string {
    const safe = stageId.replace(/[^A-Za-z0-9_.=-]+/g, '_').slice(0, 80);
    const dir = join(this.base, 'tasks', `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}-${safe}`);
    mkdirSync(join(dir, 'out'), { recursive: true });
    return dir;
  }

  /** The active row of an earlier run that computes this fingerprint, if its task is still there. */
  adoptable(fp: string): Adoption | undefined {
    const row = this.db.slurmJobActive(fp);
    if (!row) return undefined;
    // a job that a live coordinator (another pipeline with the same stage) is polling is its own
    const owner = row.run_id ? this.db.runOwner(row.run_id) : undefined;
    if (owner && owner.state === 'running' && owner.pid !== process.pid && (owner.host !== hostname() || pidAlive(owner.pid))) return undefined;
    try {
      const task = JSON.parse(readFileSync(join(row.task_dir, 'task.json'), 'utf8')) as TaskSpec;
      return { taskDir: row.task_dir, task, token: row };
    } catch {
      this.db.slurmJobSet(row.id, { state: 'superseded' });
      return undefined;
    }
  }

  /** Runs one task as (part of) a Slurm job; resolves when it is verified, failed or aborted. */
  run(task: TaskSpec, h: TaskHandlers, signal: AbortSignal, m: ExecMeta): Promise<TaskOutcome> {
    if (!m.taskDir) throw new Error(`internal: Slurm task ${m.stageId} has no task directory`);
    const meta = m as SlurmTaskMeta;
    return new Promise<TaskOutcome>((resolve) => {
      const item: Item = { task, meta, h, signal, attempt: 1, scale: { time: 1, mem: 1, exclude: [] }, resolve, settled: false };
      const onAbort = () => this.abortItem(item);
      signal.addEventListener('abort', onAbort, { once: true });
      item.resolve = (o) => {
        if (item.settled) return;
        item.settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(o);
      };
      if (signal.aborted) return this.abortItem(item);
      if (meta.adopt) {
        const r = meta.adopt.token as SlurmJobRow;
        item.rowId = r.id;
        item.attempt = r.attempt;
        this.db.slurmJobSet(r.id, { run_id: meta.runId });
        this.stats.adopted++;
        h.onProgress?.({ message: `adopted Slurm job ${r.job_id} (${r.slurm_state ?? 'submitted'}) of an earlier run` });
        const el: Element = this.elements.get(r.job_id) ?? { key: r.job_id, items: [], logPath: r.log_path, submitted: r.submitted };
        el.items.push(item);
        this.elements.set(r.job_id, el);
        this.startPolling();
        return;
      }
      writeFileSync(join(meta.taskDir, 'task.json'), JSON.stringify(task));
      this.enqueue(item);
    });
  }

  private groupKey(it: Item): string {
    return JSON.stringify([it.meta.base, it.attempt, sbatchArgs(it.meta.resources, it.scale), it.meta.resources.batch ?? 1]);
  }

  private enqueue(it: Item): void {
    const key = this.groupKey(it);
    let g = this.groups.get(key);
    if (!g) {
      g = { items: [], timer: setTimeout(() => this.flush(key), this.opts.array_window_ms) };
      this.groups.set(key, g);
    }
    g.items.push(it);
    const per = Math.max(1, it.meta.resources.batch ?? 1);
    // a stage without a matrix has no siblings to wait for; a retry goes out alone
    const alone = !Object.keys(it.task.matrix).length || it.attempt > 1;
    if (alone || g.items.length >= this.opts.max_array * per) { clearTimeout(g.timer); this.flush(key); }
  }

  private flush(key: string): void {
    const g = this.groups.get(key);
    if (!g) return;
    this.groups.delete(key);
    const items = g.items.filter((i) => !i.settled);
    if (!items.length) return;
    this.submitChain = this.submitChain.then(() => this.submit(items)).catch((e: Error) => {
      for (const i of items) this.fail(i, `submitting to Slurm failed: ${e.message}`);
    });
  }

  private async ensureProbe(): Promise<string | undefined> {
    this.probe ??= this.doProbe();
    return this.probe;
  }

  /** A tiny job that must read a token from the cache and write it back: proves the shared filesystem. */
  private async doProbe(): Promise<string | undefined> {
    const dir = join(this.base, 'jobs', `probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    const token = randomBytes(16).toString('hex');
    writeFileSync(join(dir, 'token'), token);
    writeFileSync(join(dir, 'element-0.json'), JSON.stringify([]));
    const script = join(dir, 'probe.sh');
    writeFileSync(script, `#!/bin/sh\n# pipe's probe job: can the compute node read the cache and run pipe's worker?\n# $1 = probe dir, $2 = node, $3 = worker.js\ncat "$1/token" > "$1/seen.tmp" && echo >> "$1/seen.tmp" && "$2" "$3" --slurm-element "$1/element-0.json" && hostname >> "$1/seen.tmp" && mv "$1/seen.tmp" "$1/seen"\n`, { mode: 0o755 });
    const r = await this.sbatch(['--parsable', '--job-name=pipe-probe', `--output=${join(dir, 'probe.log')}`, '--no-requeue', '--time=1', ...probeArgs(this.probeResources), script, dir, process.execPath, workerEntry]);
    if ('error' in r) return `the probe job could not be submitted: ${r.error}`;
    const id = r.id;
    const t0 = Date.now();
    let last = '';
    let gone = 0;
    while (Date.now() - t0 < this.opts.probe_timeout * 1000) {
      if (existsSync(join(dir, 'seen'))) {
        const seen = readFileSync(join(dir, 'seen'), 'utf8').split('\n');
        rmSync(dir, { recursive: true, force: true });
        if (seen[0] !== token) return `the probe job ${id} read a different token from the cache: is ${this.base} the same directory on the compute nodes?`;
        return undefined;
      }
      const q = await this.cmd('squeue', ['-h', '-t', 'all', '-j', id, '-o', '%i|%T|%r|%N']);
      this.stats.squeue++;
      const s = parseSqueue(q.stdout).get(id);
      if (s) last = `${s.state}${s.reason && s.reason !== 'None' ? ` (${s.reason})` : ''}`;
      if ((s && TERMINAL.has(s.state)) || (!s && ++gone > 3)) {
        await sleep(500); // the marker may still be on its way over a network filesystem
        if (existsSync(join(dir, 'seen'))) continue;
        return `the probe job ${id} ended (${last || 'vanished'}) without writing ${join(dir, 'seen')}: the compute node cannot read or write the project's cache (${this.base}) or run ${workerEntry}; the project directory must be on a filesystem the compute nodes share${tail(join(dir, 'probe.log'), 10) ? `\nprobe job log:\n${tail(join(dir, 'probe.log'), 10)}` : ''}`;
      }
      await sleep(250);
    }
    await this.cmd('scancel', [id]);
    return `the probe job ${id} did not finish within ${this.opts.probe_timeout} s (last state: ${last || 'unknown'}); is the cluster busy? (slurm.probe_timeout)`;
  }

  /** sbatch with pacing and retries of transient errors. */
  private async sbatch(args: string[]): Promise<{ id: string } | { error: string }> {
    let err = '';
    for (let attempt = 1; attempt <= this.opts.submit_tries; attempt++) {
      const gap = 1000 / this.opts.submit_rate - (Date.now() - this.lastSubmit);
      if (gap > 0) await sleep(gap);
      this.lastSubmit = Date.now();
      this.stats.sbatch++;
      const r = await this.cmd('sbatch', args);
      const id = r.code === 0 ? parseSbatch(r.stdout) : undefined;
      if (id) return { id };
      err = (r.stderr || r.stdout).trim() || `sbatch exited with ${r.code}`;
      if (r.code === 127 && /ENOENT|not found/i.test(err)) return { error: 'sbatch not found: is this a Slurm submit host? (PATH)' };
      if (!TRANSIENT.test(err) || attempt === this.opts.submit_tries) break;
      const wait = Math.min(30_000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random());
      this.say(`sbatch failed (${err.split('\n')[0]}); retrying in ${(wait / 1000).toFixed(1)} s`);
      await sleep(wait);
    }
    return { error: err };
  }

  private async submit(items: Item[]): Promise<void> {
    const live = () => items.filter((i) => !i.settled);
    const probeErr = await this.ensureProbe();
    if (probeErr) {
      for (const i of live()) this.fail(i, probeErr);
      return;
    }
    if (!live().length) return;
    const first = live()[0]!;
    const r = first.meta.resources;
    const per = Math.max(1, r.batch ?? 1);
    const els: Item[][] = [];
    for (let i = 0; i < live().length; i += per) els.push(live().slice(i, i + per));
    const dir = join(this.base, 'jobs', `${Date.now().toString(36)}-${process.pid}-${randomBytes(3).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    els.forEach((e, i) => writeFileSync(join(dir, `element-${i}.json`), JSON.stringify(e.map((x) => x.meta.taskDir))));
    const script = join(this.base, 'job.sh');
    if (!existsSync(script) || readFileSync(script, 'utf8') !== JOB_SCRIPT) {
      writeFileSync(`${script}.tmp-${process.pid}`, JOB_SCRIPT, { mode: 0o755 });
      renameSync(`${script}.tmp-${process.pid}`, script);
    }
    this.jobDirs.set(dir, live());
    const isArray = els.length > 1;
    const name = `pipe:${first.meta.pipeline}:${isArray || per > 1 ? first.meta.base : first.meta.stageId}`;
    const args = [
      '--parsable', `--job-name=${name}`, `--output=${join(dir, isArray ? 'job-%a.log' : 'job-0.log')}`,
      `--chdir=${first.task.projectDir}`, `--export=ALL,PIPE_SLURM_ATTEMPT=${first.attempt}`,
      ...sbatchArgs(r, first.scale),
      ...(isArray ? [`--array=0-${els.length - 1}`] : []),
      script, process.execPath, workerEntry, dir,
    ];
    const res = await this.sbatch(args);
    if ('error' in res) {
      for (const i of live()) this.fail(i, `sbatch failed: ${res.error}`);
      return;
    }
    this.stats.submittedTasks += live().length;
    const now = Date.now();
    els.forEach((e, idx) => {
      const key = isArray ? `${res.id}_${idx}` : res.id;
      const logPath = join(dir, `job-${idx}.log`);
      const el: Element = { key, items: e, logPath, submitted: now };
      this.elements.set(key, el);
      for (const it of e) {
        it.rowId = this.db.slurmJobAdd({ pipeline: it.meta.pipeline, stage_id: it.meta.stageId, fingerprint: it.meta.fingerprint, run_id: it.meta.runId, job_id: key, task_dir: it.meta.taskDir, log_path: logPath, attempt: it.attempt, state: 'active', submitted: now });
        it.h.onProgress?.({ message: `Slurm job ${key} submitted${it.attempt > 1 ? ` (attempt ${it.attempt})` : ''}` });
        if (it.settled) this.db.slurmJobSet(it.rowId, { state: 'cancelled' }); // aborted while sbatch ran
      }
    });
    if (items.some((i) => i.signal.aborted)) await this.cancel([...els.keys()].map((i) => isArray ? `${res.id}_${i}` : res.id));
    this.pollDelay = this.opts.poll_min * 1000;
    this.startPolling();
  }

  private startPolling(): void {
    if (this.polling) { this.wakePoll(); return; }
    this.polling = true;
    void this.pollLoop().finally(() => { this.polling = false; });
  }

  private async pollLoop(): Promise<void> {
    while (this.elements.size && !this.closed) {
      await new Promise<void>((r) => { const t = setTimeout(r, this.pollDelay); this.wakePoll = () => { clearTimeout(t); r(); }; });
      if (!this.elements.size) break;
      const changed = await this.pollOnce().catch((e: Error) => { this.say(`squeue failed: ${e.message}`); return false; });
      this.pollDelay = changed ? this.opts.poll_min * 1000 : Math.min(this.opts.poll_max * 1000, this.pollDelay * 1.5);
    }
  }

  /** One squeue for every job of the run; returns whether anything changed. */
  private async pollOnce(): Promise<boolean> {
    const keys = [...this.elements.keys()];
    const ids = [...new Set(keys.map((k) => k.split('_')[0]!))];
    const q = await this.cmd('squeue', ['-h', '-r', '-t', 'all', '-j', ids.join(','), '-o', '%i|%T|%r|%N']);
    this.stats.squeue++;
    if (q.code !== 0 && !/Invalid job id/i.test(q.stderr)) throw new Error((q.stderr || `exit ${q.code}`).trim());
    const seen = parseSqueue(q.stdout);
    let changed = false;
    const vanished: Element[] = [];
    for (const el of [...this.elements.values()]) {
      const s = seen.get(el.key);
      if (!s) {
        el.missingSince ??= Date.now();
        vanished.push(el);
        continue;
      }
      el.missingSince = undefined;
      if (s.state !== el.state || s.reason !== el.reason || (s.node && s.node !== el.node)) {
        changed = true;
        el.state = s.state;
        el.reason = s.reason;
        el.node = s.node || el.node;
        for (const it of el.items) {
          if (it.rowId) this.db.slurmJobSet(it.rowId, { slurm_state: s.state, node: el.node ?? null });
          it.h.onProgress?.({ message: `Slurm job ${el.key} ${s.state}${s.state === 'PENDING' && s.reason && s.reason !== 'None' ? ` (${s.reason})` : ''}${el.node && s.state === 'RUNNING' ? ` on ${el.node}` : ''}` });
        }
      }
      if (TERMINAL.has(s.state) && this.settledOnDisk(el)) { this.elements.delete(el.key); changed = true; await this.finish(el, s.state); }
    }
    for (const el of vanished) {
      // gone from squeue: ask accounting when there is one, else the markers and the log decide
      let state: string | undefined;
      if (await this.hasAccounting()) {
        const a = await this.cmd('sacct', ['-n', '-X', '-P', '-j', el.key, '-o', 'JobID,State']);
        const line = a.stdout.split('\n').map((l) => l.split('|')).find((p) => p[0] === el.key);
        state = line?.[1]?.split(' ')[0];
        if (state && !TERMINAL.has(state)) continue; // accounting still sees it alive
      }
      if (!this.settledOnDisk(el)) continue;
      this.elements.delete(el.key);
      changed = true;
      await this.finish(el, state ?? inferState(el.logPath) ?? 'UNKNOWN');
    }
    return changed;
  }

  /**
   * A job that ended: are its markers there, or has it been over for MARKER_GRACE_MS (a network
   * filesystem may show a file written on the compute node a moment later)?
   */
  private settledOnDisk(el: Element): boolean {
    if (el.items.every((it) => it.settled || existsSync(join(it.meta.taskDir, 'result.json')))) return true;
    el.endedAt ??= Date.now();
    return Date.now() - el.endedAt >= MARKER_GRACE_MS;
  }

  private hasAccounting(): Promise<boolean> {
    this.accounting ??= this.cmd('sacct', ['-n', '-X', '-j', '1', '-o', 'JobID']).then((r) => {
      const ok = r.code === 0 && !/accounting storage is disabled/i.test(r.stderr + r.stdout);
      this.say(`Slurm accounting ${ok ? 'is enabled: sacct is asked about finished jobs' : 'is not available: finished jobs are judged by their exit markers and logs'}`);
      return ok;
    });
    return this.accounting;
  }

  /** The element's job ended in `state`: verify each item's marker and outputs. */
  private async finish(el: Element, reported: string): Promise<void> {
    const jobLog = tail(el.logPath, 40);
    const state = refineState(reported, jobLog);
    for (const it of el.items) {
      if (it.settled) continue;
      const marker = readMarker(it.meta.taskDir);
      const taskLog = tail(join(it.meta.taskDir, 'log.txt'), 2000);
      if (taskLog) it.h.onLog?.(taskLog.split('\n'));
      if (marker?.ok) {
        const bad = await verifyOutputs(marker, it.task);
        if (!bad) {
          if (it.rowId) this.db.slurmJobSet(it.rowId, { state: 'recorded', slurm_state: state });
          it.succeeded = true;
          it.resolve({ ok: true, outputs: marker.outputs, metrics: marker.metrics });
          continue;
        }
        this.end(it, state, `Slurm job ${el.key} (${state}) wrote a result marker, but ${bad}`, jobLog, el);
        continue;
      }
      if (marker && !marker.ok) {
        const killed = RETRYABLE.has(state) || state === 'CANCELLED';
        this.end(it, state, killed ? `Slurm job ${el.key} ended ${state}${state === 'TIMEOUT' ? ` (time limit ${timeArg(it) ?? 'partition default'})` : ''}: ${marker.error}` : `${marker.error} (Slurm job ${el.key} on ${marker.host})`, jobLog, el);
        continue;
      }
      const why = state === 'UNKNOWN'
        ? `Slurm job ${el.key} vanished from the queue without writing its result marker (state unknown: never taken as a success)`
        : `Slurm job ${el.key} ended ${state}${state === 'TIMEOUT' ? ` (time limit ${timeArg(it) ?? 'partition default'})` : state === 'OUT_OF_MEMORY' ? ` (memory ${memArg(it) ?? 'default'})` : ''} without a result`;
      this.end(it, state, why, jobLog, el);
    }
  }

  /** Records the job as failed and submits the stage again (attempt + 1), saying why. */
  private resubmit(it: Item, state: string, jobLog: string, message: (attempt: number) => string): void {
    if (it.rowId) this.db.slurmJobSet(it.rowId, { state: 'failed', slurm_state: state });
    it.attempt++;
    const msg = message(it.attempt);
    it.h.onLog?.([`pipe: ${msg}`, ...(jobLog ? ['--- job log tail:', ...jobLog.split('\n').slice(-10)] : [])]);
    it.h.onProgress?.({ message: msg });
    this.say(`${it.meta.stageId}: ${msg}`);
    resetTask(it);
    this.enqueue(it);
  }

  private end(it: Item, state: string, why: string, jobLog: string, el: Element): void {
    // a preempted or timed-out job whose stage wrote a checkpoint since it started: the next job resumes
    const ck = (state === 'TIMEOUT' || state === 'PREEMPTED') && it.task.resume && !it.signal.aborted ? newestCheckpointMeta(it.task.resume.dir) : null;
    const resumable = ck && ck.epoch > (it.resumedFrom ?? 0) ? ck : null;
    if (resumable && !(RETRYABLE.has(state) && it.attempt <= (it.meta.resources.retries ?? 0)) && (it.resumes ?? 0) < MAX_RESUMES) {
      it.resumes = (it.resumes ?? 0) + 1;
      it.resumedFrom = resumable.epoch;
      this.resubmit(it, state, jobLog, (attempt) => `${why}; resubmitting to resume from epoch ${resumable.epoch}/${resumable.total} (checkpoint; attempt ${attempt})`);
      return;
    }
    if (RETRYABLE.has(state) && it.attempt <= (it.meta.resources.retries ?? 0) && !it.signal.aborted) {
      if (state === 'TIMEOUT') it.scale.time *= it.meta.resources.retry_time_factor ?? 2;
      if (state === 'OUT_OF_MEMORY') it.scale.mem *= it.meta.resources.retry_mem_factor ?? 2;
      if (state === 'NODE_FAIL' && el.node) it.scale.exclude.push(el.node);
      if (resumable) it.resumedFrom = resumable.epoch;
      this.resubmit(it, state, jobLog, (attempt) => `${why}; retrying (attempt ${attempt} of ${(it.meta.resources.retries ?? 0) + 1})${state === 'TIMEOUT' ? ` with time ${timeArg(it) ?? 'unchanged (no `time:` to scale)'}` : state === 'OUT_OF_MEMORY' ? ` with mem ${memArg(it) ?? 'unchanged (no `mem:` to scale)'}` : state === 'NODE_FAIL' && el.node ? ` excluding ${el.node}` : ''}${resumable ? `, resuming from epoch ${resumable.epoch}/${resumable.total} (checkpoint)` : ''}`);
      return;
    }
    if (it.rowId) this.db.slurmJobSet(it.rowId, { state: 'failed', slurm_state: state });
    const logTail = jobLog ? `\n--- job log (${el.logPath}), last lines:\n${jobLog.split('\n').slice(-20).join('\n')}` : '';
    it.h.onLog?.([`pipe: ${why}`, ...(jobLog ? ['--- job log tail:', ...jobLog.split('\n')] : [])]);
    it.resolve({ ok: false, error: `${why}${logTail}`, crashed: state !== 'COMPLETED' && state !== 'FAILED' });
  }

  private fail(it: Item, error: string): void {
    if (it.rowId) this.db.slurmJobSet(it.rowId, { state: 'failed' });
    it.h.onLog?.([`pipe: ${error}`]);
    it.resolve({ ok: false, error, crashed: false });
  }

  private abortItem(it: Item): void {
    if (it.settled) return;
    for (const [k, el] of this.elements) {
      if (!el.items.includes(it)) continue;
      el.items = el.items.filter((x) => x !== it);
      if (!el.items.some((x) => !x.settled)) {
        this.elements.delete(k);
        this.pendingCancel.add(k);
        this.scheduleCancel();
      }
    }
    if (it.rowId) this.db.slurmJobSet(it.rowId, { state: 'cancelled' });
    it.resolve({ ok: false, error: 'interrupted (Slurm job cancelled)', crashed: false });
  }

  private pendingCancel = new Set<string>();
  private cancelTimer?: NodeJS.Timeout;
  private cancelDone: Promise<void> = Promise.resolve();

  /** Many aborts at once (Ctrl-C) make one scancel call. */
  private scheduleCancel(): void {
    if (this.cancelTimer) return;
    this.cancelTimer = setTimeout(() => {
      this.cancelTimer = undefined;
      const ids = [...this.pendingCancel];
      this.pendingCancel.clear();
      this.cancelDone = this.cancelDone.then(() => this.cancel(ids));
    }, 10);
  }

  private async cancel(ids: string[]): Promise<void> {
    if (!ids.length) return;
    const r = await this.cmd('scancel', ids);
    if (r.code !== 0) this.say(`scancel ${ids.join(' ')} failed: ${r.stderr.trim()}`);
    else this.say(`cancelled Slurm job${ids.length > 1 ? 's' : ''} ${ids.join(' ')}`);
  }

  /** Waits for cancellations in flight; stops polling. Jobs still running are left to adopt. */
  async close(): Promise<void> {
    for (const [k] of this.groups) this.flush(k);
    await this.submitChain.catch(() => undefined);
    if (this.cancelTimer) { clearTimeout(this.cancelTimer); this.cancelTimer = undefined; const ids = [...this.pendingCancel]; this.pendingCancel.clear(); await this.cancel(ids); }
    await this.cancelDone;
    this.closed = true;
    this.wakePoll();
    const st = this.stats;
    if (st.sbatch || st.adopted) this.say(`Slurm: ${st.submittedTasks} stage(s) submitted with ${st.sbatch} sbatch call(s) (the probe job included), ${st.adopted} adopted from an earlier run, ${st.squeue} squeue poll(s)`);
    // the job directories of submissions whose stages all succeeded go; failed ones keep their logs
    for (const [dir, items] of this.jobDirs) if (items.every((i) => i.succeeded)) rmSync(dir, { recursive: true, force: true });
  }
}

function probeArgs(r: Resources): string[] {
  const a: string[] = [];
  if (r.partition) a.push(`--partition=${r.partition}`);
  if (r.account) a.push(`--account=${r.account}`);
  if (r.qos) a.push(`--qos=${r.qos}`);
  return a;
}

function timeArg(it: Item): string | undefined {
  return sbatchArgs(it.meta.resources, it.scale).find((a) => a.startsWith('--time='))?.slice(7);
}

function memArg(it: Item): string | undefined {
  const m = sbatchArgs(it.meta.resources, it.scale).find((a) => a.startsWith('--mem='))?.slice(6);
  return m ? `${parseMem(m)}M` : undefined;
}

function readMarker(dir: string): TaskResultFile | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as TaskResultFile;
  } catch {
    return undefined;
  }
}

/** Re-hashes what the job wrote: undefined when every output matches its marker, else what is wrong. */
async function verifyOutputs(marker: Extract<TaskResultFile, { ok: true }>, task: TaskSpec): Promise<string | undefined> {
  const want = Object.keys(task.outputs).sort();
  const got = marker.outputs.map((o) => o.name).sort();
  if (want.join('\0') !== got.join('\0')) return `its outputs (${got.join(', ')}) are not the declared ones (${want.join(', ')})`;
  for (const o of marker.outputs) {
    if (o.tmpPath !== task.outputs[o.name]!.path) return `output '${o.name}' is at an unexpected path`;
    try {
      const h = await hashOutput(o.name, o.tmpPath);
      if (h.hash !== o.hash) return `output '${o.name}' does not match its recorded hash (changed or half-written)`;
    } catch (e) {
      return (e as Error).message;
    }
  }
  return undefined;
}

/**
 * Slurm reports a job killed for memory as OUT_OF_MEMORY with cgroups, but as FAILED or
 * CANCELLED when jobacct_gather's OverMemoryKill did it; slurmstepd's line in the job log says
 * which. Likewise a time limit.
 */
export function refineState(state: string, jobLog: string): string {
  if (state !== 'FAILED' && state !== 'CANCELLED' && state !== 'UNKNOWN') return state;
  if (/Exceeded job memory limit|exceeded memory limit|oom[-_ ]kill|Out Of Memory/i.test(jobLog)) return 'OUT_OF_MEMORY';
  if (/DUE TO TIME LIMIT/.test(jobLog)) return 'TIMEOUT';
  return state;
}

/** A job that left squeue without accounting: what its log says, if anything. */
function inferState(logPath: string): string | undefined {
  const t = tail(logPath, 60);
  if (/DUE TO TIME LIMIT/.test(t)) return 'TIMEOUT';
  if (/Exceeded job memory limit|exceeded memory limit|oom[-_ ]kill|Out Of Memory|OUT_OF_MEMORY/i.test(t)) return 'OUT_OF_MEMORY';
  if (/DUE TO PREEMPTION/.test(t)) return 'PREEMPTED';
  if (/DUE TO NODE FAILURE/.test(t)) return 'NODE_FAIL';
  if (/\*\*\* JOB \S+ ON \S+ CANCELLED/.test(t)) return 'CANCELLED';
  return undefined;
}

/** Before a retry: the task's marker, log and outputs go (directory outputs are made again, empty). */
function resetTask(it: Item): void {
  const d = it.meta.taskDir;
  rmSync(join(d, 'result.json'), { force: true });
  rmSync(join(d, 'log.txt'), { force: true });
  for (const o of Object.values(it.task.outputs)) {
    rmSync(o.path, { recursive: true, force: true });
    if (o.type === 'dir') mkdirSync(o.path, { recursive: true });
  }
  rmSync(it.task.tmpDir, { recursive: true, force: true });
}

/**
 * Directories under cache/slurm/ that nothing needs any more (for `pipe gc`): task and job
 * directories no active slurm_jobs row refers to. None while any run holds a lock (its jobs'
 * directories may not have rows yet).
 */
export function slurmLeftovers(db: CacheDb, cacheDir: string): string[] {
  const base = join(cacheDir, 'slurm');
  if (!existsSync(base)) return [];
  const locks = db.lockHolders();
  if (locks.some((l) => l.pid !== process.pid && (l.host !== hostname() || pidAlive(l.pid)))) return [];
  const keep = new Set<string>();
  for (const r of db.activeSlurmDirs()) {
    keep.add(r.task_dir);
    keep.add(dirname(r.log_path));
  }
  const out: string[] = [];
  for (const sub of ['tasks', 'jobs']) {
    const d = join(base, sub);
    if (!existsSync(d)) continue;
    for (const e of readdirSync(d)) if (!keep.has(join(d, e))) out.push(join(d, e));
  }
  return out;
}
