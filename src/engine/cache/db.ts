/**
 * The cache index: one SQLite database (better-sqlite3, WAL) in cache/pipe.db.
 * Only the coordinator process opens it. Tables:
 *  - runs:        one row per `pipe run`; since schema 3 also its name and its record (params,
 *                 overrides, git, metrics: src/runs/record.ts) and per-stage outcomes
 *  - executions:  one row per stage execution (fingerprint + its data, state, timings,
 *                 metrics, error, log tail); state running → done | failed | interrupted
 *  - outputs:     artifacts of a done execution (name → content hash)
 *  - objects:     the content-addressed store's index (stat facts for cheap verification)
 *  - file_hashes: hash cache of project files keyed by (path, size, mtime, inode)
 *  - code_files:  the same for code modules, with their relative imports (src/engine/cache/code.ts)
 *  - views:       which object each artifacts/ copy shows
 *  - locks:       one row per pipeline being run (pid, host)
 *  - slurm_jobs:  one row per stage instance submitted to Slurm (job id, task dir, attempt, last
 *                 seen Slurm state); 'active' rows let the next run adopt jobs of a killed one
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { deflateSync, inflateSync } from 'node:zlib';
import type { FingerprintData } from './fingerprint.js';
import type { ResultManifest } from './manifests.js';

const SCHEMA_VERSION = 4;

export interface ExecutionRow {
  id: number;
  run_id: number;
  pipeline: string;
  stage_id: string;
  kind: string;
  fingerprint: string;
  fp_data: string;
  state: 'running' | 'done' | 'failed' | 'interrupted';
  started: number;
  ended: number | null;
  metrics: string | null;
  error: string | null;
  log: string | null;
  invalidated: number;
  deps: string | null;
  cached_from: number | null;
}

/** Every column of `executions` but the large ones (fp_data, log), for bulk reads (`LightExecutionRow`'s order). */
const LIGHT_COLUMNS = ['id', 'run_id', 'pipeline', 'stage_id', 'kind', 'fingerprint', 'state', 'started', 'ended', 'metrics', 'error', 'invalidated', 'deps', 'cached_from'] as const;

/**
 * An execution read without its large columns (`fp_data`, `log`): they load from the index when
 * first read (a miss to explain). A class, so the lazy columns are accessors of its prototype —
 * a bulk read of a 1,001-stage pipeline made two closures and two property definitions per row.
 */
class LightExecutionRow implements ExecutionRow {
  id: number; run_id: number; pipeline: string; stage_id: string; kind: string; fingerprint: string;
  state: ExecutionRow['state']; started: number; ended: number | null; metrics: string | null; error: string | null;
  invalidated: number; deps: string | null; cached_from: number | null;
  #fpData?: string;
  #log?: string | null;
  constructor(private readonly read: (id: number, col: 'fp_data' | 'log') => string | null, c: unknown[]) {
    this.id = c[0] as number; this.run_id = c[1] as number; this.pipeline = c[2] as string; this.stage_id = c[3] as string;
    this.kind = c[4] as string; this.fingerprint = c[5] as string; this.state = c[6] as ExecutionRow['state']; this.started = c[7] as number;
    this.ended = c[8] as number | null; this.metrics = c[9] as string | null; this.error = c[10] as string | null;
    this.invalidated = c[11] as number; this.deps = c[12] as string | null; this.cached_from = c[13] as number | null;
  }
  get fp_data(): string { return (this.#fpData ??= this.read(this.id, 'fp_data') ?? ''); }
  set fp_data(v: string) { this.#fpData = v; }
  get log(): string | null { return this.#log !== undefined ? this.#log : (this.#log = this.read(this.id, 'log')); }
  set log(v: string | null) { this.#log = v; }
}

export interface OutputRow {
  execution_id: number;
  name: string;
  hash: string;
  type: string;
  is_dir: number;
  size: number;
}

export interface ObjectRow {
  hash: string;
  is_dir: number;
  size: number;
  ino: number;
  mtime_ms: number;
  manifest: string | null;
}

const CODE_FILES_DDL = `
      CREATE TABLE IF NOT EXISTS code_files (
        path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL, ino INTEGER NOT NULL, hash TEXT NOT NULL, imports TEXT NOT NULL);`;

/** Schema 3: a run's name, record and per-stage outcomes (`pipe runs`, `pipe diff`). Added only where missing. */
const RUN_RECORD_COLUMNS: [string, string][] = [['name', 'TEXT'], ['record', 'TEXT'], ['metrics', 'TEXT'], ['stages', 'TEXT']];
/** `pipe runs note` / `pipe runs rm` (additive columns, no schema version of their own). */
const RUN_NOTE_COLUMNS: [string, string][] = [['note', 'TEXT'], ['removed', 'REAL']];
const RUN_RECORD_INDEX = 'CREATE INDEX IF NOT EXISTS runs_pipeline ON runs(pipeline, id)';
/**
 * Indexes for the reads of every command, made on any open (additive: an older index gains them
 * once). executions_latest: the newest execution per stage and state from the index alone — the
 * table's rows carry fp_data (≈ 1 KB each), and a no-op or `pipe status` of 1,001 stages read a
 * page per stage. runs_running: the runs a killed run left marked running (every run looks for
 * them; runs rows carry the run records).
 */
const READ_INDEXES = `
  CREATE INDEX IF NOT EXISTS executions_latest ON executions(pipeline, stage_id, state, id);
  CREATE INDEX IF NOT EXISTS runs_running ON runs(pipeline) WHERE state = 'running';`;

/** A run row with its record (for `pipe runs` / `pipe diff`). */
export interface RunRow {
  id: number;
  pipeline: string;
  pipeline_file: string;
  started: number;
  ended: number | null;
  state: string;
  argv: string | null;
  name: string | null;
  record: string | null;
  /** `pipe runs note` */
  note?: string | null;
}

const SLURM_JOBS_DDL = `
      CREATE TABLE IF NOT EXISTS slurm_jobs (
        id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, stage_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
        run_id INTEGER, job_id TEXT NOT NULL, task_dir TEXT NOT NULL, log_path TEXT NOT NULL, attempt INTEGER NOT NULL,
        state TEXT NOT NULL, slurm_state TEXT, node TEXT, submitted REAL NOT NULL, updated REAL NOT NULL);
      CREATE INDEX IF NOT EXISTS slurm_jobs_fp ON slurm_jobs(fingerprint, state);`;

/** A stage instance submitted to Slurm. state: active → recorded | failed | cancelled | superseded. */
export interface SlurmJobRow {
  id: number;
  pipeline: string;
  stage_id: string;
  fingerprint: string;
  run_id: number | null;
  job_id: string;
  task_dir: string;
  log_path: string;
  attempt: number;
  state: string;
  slurm_state: string | null;
  node: string | null;
  submitted: number;
  updated: number;
}

let addonPath: string | null | undefined;
/**
 * better-sqlite3's addon by path: its own lookup (the `bindings` package) probes a dozen places
 * on every start. Undefined (that lookup) where the addon is not at its usual place.
 */
function nativeBinding(): string | undefined {
  if (addonPath === undefined) {
    try {
      const p = join(dirname(createRequire(import.meta.url).resolve('better-sqlite3')), '..', 'build', 'Release', 'better_sqlite3.node');
      addonPath = existsSync(p) ? p : null;
    } catch {
      addonPath = null;
    }
  }
  return addonPath ?? undefined;
}

export class CacheDb {
  readonly db: Database.Database;
  private stmts = new Map<string, Database.Statement>();

  constructor(path: string) {
    this.db = new Database(path, { timeout: 10000, nativeBinding: nativeBinding() });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.db.exec(SLURM_JOBS_DDL); // additive, no schema version of its own
    try {
      this.db.exec(READ_INDEXES);
    } catch {
      // a read-only index cannot gain them: only the speed of large pipelines' reads is lost
    }
    // additive columns are checked on every open, not only on a version step: an index written
    // by a build between two column additions of one schema version must not fail later
    // ("no such column"); one pragma per table
    this.ensureViewColumns();
    const have = new Set((this.db.pragma('table_info(runs)') as { name: string }[]).map((c) => c.name));
    for (const [col, type] of RUN_NOTE_COLUMNS) if (!have.has(col)) this.db.exec(`ALTER TABLE runs ADD COLUMN ${col} ${type}`);
  }

  private migrate(): void {
    let v = this.db.pragma('user_version', { simple: true }) as number;
    if (v === SCHEMA_VERSION) return;
    if (v > SCHEMA_VERSION || v < 0) throw new Error(`cache database has schema version ${v}; this pipe understands ${SCHEMA_VERSION}. Remove cache/ to start over.`);
    if (v === 0) {
      this.createTables();
    } else {
      if (v === 1) {
        // 1 → 2: the code-closure cache (additive; nothing else changed)
        this.db.exec(CODE_FILES_DDL);
        v = 2;
      }
      // 2 → 3: run names, records and per-stage outcomes (additive columns on runs)
      this.tx(() => this.addRunRecordColumns());
      // 3 → 4: code hashes are of the code without comments and formatting (fingerprint
      // format 3); the per-file cache holds hashes of the raw text: drop them
      this.db.exec('DELETE FROM code_files');
    }
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }

  private addRunRecordColumns(): void {
    const have = new Set((this.db.pragma('table_info(runs)') as { name: string }[]).map((c) => c.name));
    for (const [col, type] of RUN_RECORD_COLUMNS) if (!have.has(col)) this.db.exec(`ALTER TABLE runs ADD COLUMN ${col} ${type}`);
    this.db.exec(RUN_RECORD_INDEX);
    this.ensureViewColumns();
  }

  /** Schema 4: how each artifacts/ view looked when made (to notice an edited or damaged one). */
  private ensureViewColumns(): void {
    const views = new Set((this.db.pragma('table_info(views)') as { name: string }[]).map((c) => c.name));
    if (views.size && !views.has('stat')) this.db.exec('ALTER TABLE views ADD COLUMN stat TEXT');
  }

  private createTables(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, pipeline_file TEXT NOT NULL, started REAL NOT NULL,
        ended REAL, state TEXT NOT NULL, argv TEXT, pid INTEGER, host TEXT, summary TEXT);
      CREATE TABLE IF NOT EXISTS executions (
        id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), pipeline TEXT NOT NULL,
        stage_id TEXT NOT NULL, kind TEXT NOT NULL, fingerprint TEXT NOT NULL, fp_data TEXT NOT NULL,
        state TEXT NOT NULL, started REAL NOT NULL, ended REAL, metrics TEXT, error TEXT, log TEXT,
        invalidated INTEGER NOT NULL DEFAULT 0, deps TEXT, cached_from INTEGER);
      CREATE INDEX IF NOT EXISTS executions_fp ON executions(fingerprint, state);
      CREATE INDEX IF NOT EXISTS executions_stage ON executions(pipeline, stage_id, id);
      CREATE TABLE IF NOT EXISTS outputs (
        execution_id INTEGER NOT NULL REFERENCES executions(id), name TEXT NOT NULL, hash TEXT NOT NULL,
        type TEXT NOT NULL, is_dir INTEGER NOT NULL, size INTEGER NOT NULL, PRIMARY KEY (execution_id, name));
      CREATE TABLE IF NOT EXISTS objects (
        hash TEXT PRIMARY KEY, is_dir INTEGER NOT NULL, size INTEGER NOT NULL, ino INTEGER NOT NULL,
        mtime_ms REAL NOT NULL, manifest TEXT, created REAL NOT NULL);
      CREATE TABLE IF NOT EXISTS file_hashes (
        path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL, ino INTEGER NOT NULL, hash TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS views (
        pipeline TEXT NOT NULL, stage_id TEXT NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL, path TEXT NOT NULL, stat TEXT,
        PRIMARY KEY (pipeline, stage_id, name));
      CREATE TABLE IF NOT EXISTS locks (
        pipeline TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, run_id INTEGER, since REAL NOT NULL);
    ` + CODE_FILES_DDL);
    this.addRunRecordColumns();
  }

  /** Who runs run `id` (to tell a live coordinator's Slurm job from an orphan). */
  runOwner(id: number): { pid: number; host: string; state: string } | undefined {
    return this.stmt('SELECT pid, host, state FROM runs WHERE id = ?').get(id) as { pid: number; host: string; state: string } | undefined;
  }

  /** The processes holding run locks. */
  lockHolders(): { pid: number; host: string }[] {
    return this.stmt('SELECT pid, host FROM locks').all() as { pid: number; host: string }[];
  }

  /** Task and log directories of Slurm jobs still active. */
  activeSlurmDirs(): { task_dir: string; log_path: string }[] {
    return this.stmt(`SELECT task_dir, log_path FROM slurm_jobs WHERE state = 'active'`).all() as { task_dir: string; log_path: string }[];
  }

  /** Fingerprints whose stage's latest execution did not finish (failed, interrupted, running): their resume checkpoints may still be used. */
  unfinishedFingerprints(): Set<string> {
    const rows = this.stmt(`SELECT e.fingerprint FROM executions e
      JOIN (SELECT MAX(id) AS id FROM executions GROUP BY pipeline, stage_id) l ON e.id = l.id
      WHERE e.state != 'done'`).all() as { fingerprint: string }[];
    return new Set(rows.map((r) => r.fingerprint));
  }

  /** A cached prepared statement. All of pipe's SQL is in this module: nothing outside it calls this. */
  stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }

  // ------------------------------------------------------------------ locks

  /** Executions of this fingerprint that failed or were interrupted (a script stage's `attempt` is 1 + this). */
  failedAttempts(fp: string): number {
    return (this.stmt(`SELECT COUNT(*) AS n FROM executions WHERE fingerprint = ? AND state IN ('failed', 'interrupted')`).get(fp) as { n: number }).n;
  }

  /** Takes the pipeline's lock unless a live process holds it; returns the holder otherwise. */
  /**
   * The workspace lock: runs share the workspace (one run per pipeline), `pipe gc` takes it
   * exclusively. Both are rows of `locks`, taken in one IMMEDIATE transaction each, so a run and
   * gc can never both believe they have it; rows of dead processes are taken over. Returns the
   * holder that is in the way, or null when the lock was taken.
   */
  tryLock(pipeline: string): LockHolder | null {
    const me = process.pid;
    const host = hostname();
    return this.db.transaction(() => {
      const alive = (r: LockHolder | undefined): r is LockHolder => !!r && r.pid !== me && (r.host !== host || pidAlive(r.pid));
      const gc = this.stmt('SELECT pipeline, pid, host, since FROM locks WHERE pipeline = ?').get(GC_LOCK) as LockHolder | undefined;
      if (alive(gc)) return gc;
      const row = this.stmt('SELECT pipeline, pid, host, since FROM locks WHERE pipeline = ?').get(pipeline) as LockHolder | undefined;
      if (alive(row)) return row;
      this.stmt('INSERT OR REPLACE INTO locks (pipeline, pid, host, since) VALUES (?, ?, ?, ?)').run(pipeline, me, host, Date.now());
      return null;
    }).immediate();
  }

  /** The exclusive lock of `pipe gc`: taken only when no live run holds the workspace. */
  tryGcLock(): LockHolder | null {
    const me = process.pid;
    const host = hostname();
    return this.db.transaction(() => {
      const rows = this.stmt('SELECT pipeline, pid, host, since FROM locks').all() as LockHolder[];
      const busy = rows.find((r) => r.pid !== me && (r.host !== host || pidAlive(r.pid)));
      if (busy) return busy;
      this.stmt('INSERT OR REPLACE INTO locks (pipeline, pid, host, since) VALUES (?, ?, ?, ?)').run(GC_LOCK, me, host, Date.now());
      return null;
    }).immediate();
  }

  unlock(pipeline: string): void {
    this.stmt('DELETE FROM locks WHERE pipeline = ? AND pid = ?').run(pipeline, process.pid);
  }

  // ------------------------------------------------------------------- runs

  startRun(pipeline: string, file: string, argv: string[]): number {
    const r = this.stmt('INSERT INTO runs (pipeline, pipeline_file, started, state, argv, pid, host) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(pipeline, file, Date.now(), 'running', JSON.stringify(argv), process.pid, hostname());
    return Number(r.lastInsertRowid);
  }

  endRun(id: number, state: string, summary: unknown): void {
    this.stmt('UPDATE runs SET ended = ?, state = ?, summary = ? WHERE id = ?').run(Date.now(), state, JSON.stringify(summary), id);
  }

  /** Stores a run's name, record, metrics of every stage instance and per-stage outcomes (JSON; src/runs/record.ts). */
  saveRunRecord(id: number, name: string | null, record: string, metrics: string, stages: string): void {
    this.tx(() => {
      // a name passes from an earlier run of the pipeline that did not finish `done` (see cli/run.ts)
      if (name) this.stmt('UPDATE runs SET name = NULL WHERE name = ? AND id != ? AND pipeline = (SELECT pipeline FROM runs WHERE id = ?)').run(name, id, id);
      // the per-instance documents grow with the pipeline: stored deflated (≈10× smaller)
      this.stmt('UPDATE runs SET name = ?, record = ?, metrics = ?, stages = ? WHERE id = ?').run(name, record, deflateSync(metrics), deflateSync(stages), id);
    });
  }

  /** The metrics of every stage instance of a run (JSON), or null for a run recorded before schema 3. */
  runMetrics(id: number): string | null {
    return unpack((this.stmt('SELECT metrics FROM runs WHERE id = ?').get(id) as { metrics: Buffer | string | null } | undefined)?.metrics);
  }

  /** Every run of a pipeline, oldest first, with its record (not the per-stage outcomes); removed runs left out. */
  runRows(pipeline: string): RunRow[] {
    return this.stmt('SELECT id, pipeline, pipeline_file, started, ended, state, argv, name, record, note FROM runs WHERE pipeline = ? AND removed IS NULL ORDER BY id').all(pipeline) as RunRow[];
  }

  /** One run by id (not a removed one). */
  runRow(id: number): RunRow | undefined {
    return this.stmt('SELECT id, pipeline, pipeline_file, started, ended, state, argv, name, record, note FROM runs WHERE id = ? AND removed IS NULL').get(id) as RunRow | undefined;
  }

  /** `pipe runs note`: a free-text note on a run ('' clears it). */
  setRunNote(id: number, note: string): void {
    this.stmt('UPDATE runs SET note = ? WHERE id = ?').run(note === '' ? null : note, id);
  }

  /**
   * Removes a run record (`pipe runs rm`, `pipe gc --keep-runs`): its record, metrics and name go;
   * the cached results its stages computed stay (later runs may use them). The row itself goes
   * when no execution refers to it.
   */
  removeRun(id: number): void {
    this.tx(() => {
      this.stmt('UPDATE runs SET removed = ?, name = NULL, record = NULL, metrics = NULL, stages = NULL, note = NULL WHERE id = ?').run(Date.now(), id);
      this.stmt('DELETE FROM runs WHERE id = ? AND NOT EXISTS (SELECT 1 FROM executions WHERE run_id = ?)').run(id, id);
    });
  }

  /** Finished, unnamed runs of each pipeline older than its latest `keep` (for `pipe gc --keep-runs`). */
  runsPastKeep(keep: number): number[] {
    return (this.stmt(`SELECT id FROM runs r WHERE removed IS NULL AND state != 'running' AND name IS NULL
        AND (SELECT COUNT(*) FROM runs r2 WHERE r2.pipeline = r.pipeline AND r2.removed IS NULL AND r2.id > r.id) >= ?`).all(keep) as { id: number }[]).map((r) => r.id);
  }

  /** Runs with this name (in any pipeline unless one is given). */
  runsNamed(name: string, pipeline?: string): { id: number; pipeline: string; state: string }[] {
    return (pipeline
      ? this.stmt('SELECT id, pipeline, state FROM runs WHERE name = ? AND pipeline = ? ORDER BY id').all(name, pipeline)
      : this.stmt('SELECT id, pipeline, state FROM runs WHERE name = ? ORDER BY id').all(name)) as { id: number; pipeline: string; state: string }[];
  }

  /** Names used by runs (for did-you-mean). */
  runNames(pipeline?: string): string[] {
    return ((pipeline
      ? this.stmt('SELECT DISTINCT name FROM runs WHERE name IS NOT NULL AND pipeline = ?').all(pipeline)
      : this.stmt('SELECT DISTINCT name FROM runs WHERE name IS NOT NULL').all()) as { name: string }[]).map((r) => r.name);
  }

  /** The per-stage outcomes of a run (JSON), or null for a run recorded before schema 3. */
  runStages(id: number): string | null {
    return unpack((this.stmt('SELECT stages FROM runs WHERE id = ?').get(id) as { stages: Buffer | string | null } | undefined)?.stages);
  }

  /** fp_data of executions by id (for explaining why a stage differs between two runs). */
  fpData(ids: number[]): Map<number, string> {
    const m = new Map<number, string>();
    for (const id of ids) {
      const r = this.stmt('SELECT fp_data FROM executions WHERE id = ?').get(id) as { fp_data: string } | undefined;
      if (r) m.set(id, r.fp_data);
    }
    return m;
  }

  /** Executions left 'running' by runs whose process is gone become 'interrupted'. */
  reapInterrupted(pipeline: string): number {
    const runs = this.stmt(`SELECT id, pid, host FROM runs WHERE pipeline = ? AND state = 'running'`).all(pipeline) as { id: number; pid: number; host: string }[];
    let n = 0;
    for (const r of runs) {
      if (r.pid === process.pid) continue;
      if (r.host === hostname() && pidAlive(r.pid)) continue;
      this.tx(() => {
        n += this.stmt(`UPDATE executions SET state = 'interrupted', ended = ?, error = 'interrupted (the run was killed)' WHERE run_id = ? AND state = 'running'`).run(Date.now(), r.id).changes;
        this.stmt(`UPDATE runs SET state = 'killed', ended = COALESCE(ended, ?) WHERE id = ?`).run(Date.now(), r.id);
      });
    }
    return n;
  }

  pipelines(): { pipeline: string; pipeline_file: string; runs: number; last: number; state: string }[] {
    return this.stmt(`SELECT pipeline, pipeline_file, COUNT(*) AS runs, MAX(started) AS last,
        (SELECT state FROM runs r2 WHERE r2.pipeline = r.pipeline ORDER BY id DESC LIMIT 1) AS state
      FROM runs r WHERE removed IS NULL GROUP BY pipeline ORDER BY last DESC`).all() as never;
  }

  latestPipelineFile(pipeline?: string): string | undefined {
    const row = (pipeline
      ? this.stmt('SELECT pipeline_file FROM runs WHERE pipeline = ? ORDER BY id DESC LIMIT 1').get(pipeline)
      : this.stmt('SELECT pipeline_file FROM runs ORDER BY id DESC LIMIT 1').get()) as { pipeline_file: string } | undefined;
    return row?.pipeline_file;
  }

  // ------------------------------------------------------------- executions

  beginExecution(e: { runId: number; pipeline: string; stageId: string; kind: string; fp: string; fpData: FingerprintData; deps: string[] }): number {
    const r = this.stmt(`INSERT INTO executions (run_id, pipeline, stage_id, kind, fingerprint, fp_data, state, started, deps)
      VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)`).run(e.runId, e.pipeline, e.stageId, e.kind, e.fp, JSON.stringify(e.fpData), Date.now(), JSON.stringify(e.deps));
    return Number(r.lastInsertRowid);
  }

  finishExecution(id: number, state: 'done' | 'failed' | 'interrupted', info: { metrics?: unknown; error?: string; log?: string; outputs?: Omit<OutputRow, 'execution_id'>[] }): void {
    this.tx(() => {
      for (const o of info.outputs ?? []) {
        this.stmt('INSERT INTO outputs (execution_id, name, hash, type, is_dir, size) VALUES (?, ?, ?, ?, ?, ?)').run(id, o.name, o.hash, o.type, o.is_dir, o.size);
      }
      this.stmt('UPDATE executions SET state = ?, ended = ?, metrics = ?, error = ?, log = ? WHERE id = ?')
        .run(state, Date.now(), info.metrics === undefined ? null : JSON.stringify(info.metrics), info.error ?? null, info.log ?? null, id);
    });
  }

  /** A result recovered from its manifest in the store (`pipe doctor --repair`). */
  recordRecovered(runId: number, m: ResultManifest): void {
    this.tx(() => {
      const r = this.stmt(`INSERT INTO executions (run_id, pipeline, stage_id, kind, fingerprint, fp_data, state, started, ended, metrics, deps)
        VALUES (?, ?, ?, ?, ?, ?, 'done', ?, ?, ?, '[]')`).run(runId, m.pipeline, m.stageId, m.kind, m.fingerprint, JSON.stringify(m.fpData), m.started, m.ended, m.metrics === null || m.metrics === undefined ? null : JSON.stringify(m.metrics));
      const id = Number(r.lastInsertRowid);
      for (const o of m.outputs) this.stmt('INSERT INTO outputs (execution_id, name, hash, type, is_dir, size) VALUES (?, ?, ?, ?, ?, ?)').run(id, o.name, o.hash, o.type, o.is_dir, o.size);
    });
  }

  /**
   * A result downloaded (and verified) from a remote cache: an execution of this run, done,
   * with the remote's outputs and metrics, its log naming where it came from.
   */
  recordPulled(e: { runId: number; pipeline: string; stageId: string; kind: string; fp: string; fpData: string; deps: string[]; m: ResultManifest; note: string }): { id: number; outputs: OutputRow[] } {
    return this.tx(() => {
      const now = Date.now();
      const r = this.stmt(`INSERT INTO executions (run_id, pipeline, stage_id, kind, fingerprint, fp_data, state, started, ended, metrics, deps, log)
        VALUES (?, ?, ?, ?, ?, ?, 'done', ?, ?, ?, ?, ?)`).run(e.runId, e.pipeline, e.stageId, e.kind, e.fp, e.fpData, now - Math.max(0, e.m.ended - e.m.started), now, e.m.metrics === null || e.m.metrics === undefined ? null : JSON.stringify(e.m.metrics), JSON.stringify(e.deps), e.note);
      const id = Number(r.lastInsertRowid);
      const outputs: OutputRow[] = e.m.outputs.map((o) => ({ execution_id: id, name: o.name, hash: o.hash, type: o.type, is_dir: o.is_dir, size: o.size }));
      for (const o of outputs) this.stmt('INSERT INTO outputs (execution_id, name, hash, type, is_dir, size) VALUES (?, ?, ?, ?, ?, ?)').run(id, o.name, o.hash, o.type, o.is_dir, o.size);
      return { id, outputs };
    });
  }

  /** Records that a stage of this pipeline was satisfied from the cache by execution `from`. */
  recordCached(e: { runId: number; pipeline: string; stageId: string; kind: string; fp: string; fpData: string; deps: string[]; from: ExecutionRow }): void {
    this.tx(() => {
      const r = this.stmt(`INSERT INTO executions (run_id, pipeline, stage_id, kind, fingerprint, fp_data, state, started, ended, metrics, deps, cached_from)
        VALUES (?, ?, ?, ?, ?, ?, 'done', ?, ?, ?, ?, ?)`).run(e.runId, e.pipeline, e.stageId, e.kind, e.fp, e.fpData, Date.now(), Date.now(), e.from.metrics, JSON.stringify(e.deps), e.from.cached_from ?? e.from.id);
      const id = Number(r.lastInsertRowid);
      this.stmt('INSERT INTO outputs (execution_id, name, hash, type, is_dir, size) SELECT ?, name, hash, type, is_dir, size FROM outputs WHERE execution_id = ?').run(id, e.from.id);
    });
  }

  /** The newest valid (done, not invalidated) execution with this fingerprint. */
  findDone(fp: string): ExecutionRow | undefined {
    return this.stmt(`SELECT * FROM executions WHERE fingerprint = ? AND state = 'done' AND invalidated = 0 ORDER BY id DESC LIMIT 1`).get(fp) as ExecutionRow | undefined;
  }

  /** Newest execution of a stage in a pipeline, optionally only in a given state. */
  latest(pipeline: string, stageId: string, state?: string): ExecutionRow | undefined {
    return (state
      ? this.stmt('SELECT * FROM executions WHERE pipeline = ? AND stage_id = ? AND state = ? ORDER BY id DESC LIMIT 1').get(pipeline, stageId, state)
      : this.stmt(`SELECT * FROM executions WHERE pipeline = ? AND stage_id = ? AND state != 'running' ORDER BY id DESC LIMIT 1`).get(pipeline, stageId)) as ExecutionRow | undefined;
  }

  /** Newest execution per stage of a pipeline (for bulk status). */
  latestAll(pipeline: string): Map<string, { last?: ExecutionRow; lastDone?: ExecutionRow }> {
    const m = new Map<string, { last?: ExecutionRow; lastDone?: ExecutionRow }>();
    // the large columns (fp_data, log) are read only when a caller asks (a miss to explain): a
    // no-op of a 1,001-stage pipeline read ≈ 2 MB of them for nothing
    const rows = this.stmt(`SELECT ${LIGHT_COLUMNS.map((c) => `e.${c}`).join(', ')} FROM executions e JOIN (
        SELECT stage_id, MAX(id) AS id FROM executions WHERE pipeline = ? AND state != 'running' GROUP BY stage_id
        UNION SELECT stage_id, MAX(id) AS id FROM executions WHERE pipeline = ? AND state = 'done' GROUP BY stage_id
      ) x ON e.id = x.id`).raw(true).all(pipeline, pipeline) as unknown[][];
    const read = (id: number, col: 'fp_data' | 'log') => (this.stmt(`SELECT ${col} AS v FROM executions WHERE id = ?`).get(id) as { v: string | null } | undefined)?.v ?? null;
    for (const c of rows) {
      const r = new LightExecutionRow(read, c);
      const cur = m.get(r.stage_id) ?? {};
      if (!cur.last || r.id > cur.last.id) cur.last = r;
      if (r.state === 'done' && (!cur.lastDone || r.id > cur.lastDone.id)) cur.lastDone = r;
      m.set(r.stage_id, cur);
    }
    return m;
  }

  /**
   * Recorded run times (executed, not cache hits; newest first): this pipeline's stages, and
   * the other pipelines' for kind-level medians. Feeds the ETA of a run (eta.ts).
   */
  durationHistory(pipeline: string, limit = 20000): { pipeline: string; stage_id: string; kind: string; ms: number }[] {
    return this.stmt(`SELECT pipeline, stage_id, kind, (ended - started) AS ms FROM executions
      WHERE state = 'done' AND cached_from IS NULL AND ended IS NOT NULL
      ORDER BY (pipeline = ?) DESC, id DESC LIMIT ?`).all(pipeline, limit) as { pipeline: string; stage_id: string; kind: string; ms: number }[];
  }

  execution(id: number): ExecutionRow | undefined {
    return this.stmt('SELECT * FROM executions WHERE id = ?').get(id) as ExecutionRow | undefined;
  }

  /** Every stage id with an execution (for did-you-mean). */
  stageIds(): string[] {
    return (this.stmt('SELECT DISTINCT stage_id FROM executions').all() as { stage_id: string }[]).map((r) => r.stage_id);
  }

  findStage(stageId: string): ExecutionRow[] {
    return this.stmt(`SELECT * FROM executions WHERE stage_id = ? AND state != 'running' ORDER BY id DESC LIMIT 20`).all(stageId) as ExecutionRow[];
  }

  /**
   * For a no-op's hit checks in bulk: the outputs of every stage's newest done execution in a
   * pipeline (by execution id, in name order), and the store's rows of their objects — two
   * queries instead of two per stage.
   */
  lastDoneOutputs(pipeline: string): { outputs: Map<number, OutputRow[]>; objects: Map<string, ObjectRow> } {
    const last = `SELECT MAX(id) FROM executions WHERE pipeline = ? AND state = 'done' GROUP BY stage_id`;
    const outputs = new Map<number, OutputRow[]>();
    for (const o of this.stmt(`SELECT * FROM outputs WHERE execution_id IN (${last}) ORDER BY execution_id, name`).all(pipeline) as OutputRow[]) {
      let l = outputs.get(o.execution_id);
      if (!l) outputs.set(o.execution_id, (l = []));
      l.push(o);
    }
    const objects = new Map<string, ObjectRow>();
    for (const r of this.stmt(`SELECT * FROM objects WHERE hash IN (SELECT hash FROM outputs WHERE execution_id IN (${last}))`).all(pipeline) as ObjectRow[]) objects.set(r.hash, r);
    return { outputs, objects };
  }

  outputs(executionId: number): OutputRow[] {
    return this.stmt('SELECT * FROM outputs WHERE execution_id = ? ORDER BY name').all(executionId) as OutputRow[];
  }

  /** Marks the given fingerprints (and every execution of the given stages) invalid. */
  invalidate(pipeline: string, stageIds: string[]): number {
    return this.tx(() => {
      let n = 0;
      for (const id of stageIds) {
        const fps = this.stmt(`SELECT DISTINCT fingerprint FROM executions WHERE pipeline = ? AND stage_id = ? AND state = 'done'`).all(pipeline, id) as { fingerprint: string }[];
        for (const { fingerprint } of fps) n += this.stmt('UPDATE executions SET invalidated = 1 WHERE fingerprint = ? AND invalidated = 0').run(fingerprint).changes;
      }
      return n;
    });
  }

  // ---------------------------------------------------------------- objects

  /**
   * Hashes of objects still wanted: outputs of the newest done execution of every stage of
   * every pipeline, and of every execution in each pipeline's `keepRuns` latest runs.
   */
  liveObjects(keepRuns: number): Set<string> {
    const rows = this.stmt(`SELECT DISTINCT o.hash FROM outputs o WHERE o.execution_id IN (
        SELECT MAX(id) FROM executions WHERE state = 'done' GROUP BY pipeline, stage_id
        UNION SELECT e.id FROM executions e WHERE e.run_id IN (
          SELECT id FROM runs r WHERE (SELECT COUNT(*) FROM runs r2 WHERE r2.pipeline = r.pipeline AND r2.id > r.id) < ?))`).all(keepRuns) as { hash: string }[];
    return new Set(rows.map((r) => r.hash));
  }

  allObjects(): { hash: string; size: number; created: number }[] {
    return this.stmt('SELECT hash, size, created FROM objects').all() as { hash: string; size: number; created: number }[];
  }

  getObject(hash: string): ObjectRow | undefined {
    return this.stmt('SELECT * FROM objects WHERE hash = ?').get(hash) as ObjectRow | undefined;
  }

  putObject(o: ObjectRow): void {
    this.stmt('INSERT OR REPLACE INTO objects (hash, is_dir, size, ino, mtime_ms, manifest, created) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(o.hash, o.is_dir, o.size, o.ino, o.mtime_ms, o.manifest, Date.now());
  }

  deleteObject(hash: string): void {
    this.stmt('DELETE FROM objects WHERE hash = ?').run(hash);
  }

  // ----------------------------------------------------------- file hashes

  /** SQLite's `PRAGMA quick_check`: [] when the database is intact, else what it found. */
  quickCheck(): string[] {
    const rows = this.db.pragma('quick_check') as { quick_check: string }[];
    const msgs = rows.map((r) => r.quick_check);
    return msgs.length === 1 && msgs[0] === 'ok' ? [] : msgs;
  }

  getFileHash(path: string): { size: number; mtime_ms: number; ino: number; hash: string } | undefined {
    return this.stmt('SELECT size, mtime_ms, ino, hash FROM file_hashes WHERE path = ?').get(path) as never;
  }

  putFileHash(path: string, size: number, mtimeMs: number, ino: number, hash: string): void {
    this.stmt('INSERT OR REPLACE INTO file_hashes (path, size, mtime_ms, ino, hash) VALUES (?, ?, ?, ?, ?)').run(path, size, mtimeMs, ino, hash);
  }

  getCodeFile(path: string): { size: number; mtime_ms: number; ino: number; hash: string; imports: string } | undefined {
    return this.stmt('SELECT size, mtime_ms, ino, hash, imports FROM code_files WHERE path = ?').get(path) as never;
  }

  putCodeFile(path: string, size: number, mtimeMs: number, ino: number, hash: string, imports: string): void {
    this.stmt('INSERT OR REPLACE INTO code_files (path, size, mtime_ms, ino, hash, imports) VALUES (?, ?, ?, ?, ?, ?)').run(path, size, mtimeMs, ino, hash, imports);
  }

  // ------------------------------------------------------------------ views

  getView(pipeline: string, stageId: string, name: string): ViewRow | undefined {
    return this.stmt('SELECT stage_id, name, hash, path, stat FROM views WHERE pipeline = ? AND stage_id = ? AND name = ?').get(pipeline, stageId, name) as never;
  }

  viewsOf(pipeline: string): ViewRow[] {
    return this.stmt('SELECT stage_id, name, hash, path, stat FROM views WHERE pipeline = ? ORDER BY stage_id, name').all(pipeline) as ViewRow[];
  }

  putView(pipeline: string, stageId: string, name: string, hash: string, path: string, stat: string | null): void {
    this.stmt('INSERT OR REPLACE INTO views (pipeline, stage_id, name, hash, path, stat) VALUES (?, ?, ?, ?, ?, ?)').run(pipeline, stageId, name, hash, path, stat);
  }
}

/** A run document column: deflated JSON (a BLOB), or null. */
function unpack(v: Buffer | string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : inflateSync(v).toString('utf8');
}

export interface SlurmJobStore {
  slurmJobAdd(r: Omit<SlurmJobRow, 'id' | 'updated' | 'slurm_state' | 'node'>): number;
  slurmJobSet(id: number, f: { state?: string; slurm_state?: string | null; node?: string | null; run_id?: number }): void;
  slurmJobActive(fp: string): SlurmJobRow | undefined;
  slurmJobsActive(pipeline: string): SlurmJobRow[];
  /** Active rows of a stage (any pipeline unless given), with whether their run's coordinator is alive. */
  slurmJobsOf(stageId: string, pipeline?: string): (SlurmJobRow & { live: boolean })[];
}

export interface CacheDb extends SlurmJobStore {}

CacheDb.prototype.slurmJobAdd = function (this: CacheDb, r) {
  const x = this.stmt(`INSERT INTO slurm_jobs (pipeline, stage_id, fingerprint, run_id, job_id, task_dir, log_path, attempt, state, submitted, updated)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(r.pipeline, r.stage_id, r.fingerprint, r.run_id, r.job_id, r.task_dir, r.log_path, r.attempt, r.state, r.submitted, Date.now());
  return Number(x.lastInsertRowid);
};
CacheDb.prototype.slurmJobSet = function (this: CacheDb, id, f) {
  const cols = Object.keys(f).filter((k) => (f as Record<string, unknown>)[k] !== undefined);
  if (!cols.length) return;
  this.stmt(`UPDATE slurm_jobs SET ${cols.map((c) => `${c} = ?`).join(', ')}, updated = ? WHERE id = ?`).run(...cols.map((c) => (f as Record<string, unknown>)[c]), Date.now(), id);
};
CacheDb.prototype.slurmJobActive = function (this: CacheDb, fp) {
  return this.stmt(`SELECT * FROM slurm_jobs WHERE fingerprint = ? AND state = 'active' ORDER BY id DESC LIMIT 1`).get(fp) as SlurmJobRow | undefined;
};
CacheDb.prototype.slurmJobsActive = function (this: CacheDb, pipeline) {
  return this.stmt(`SELECT * FROM slurm_jobs WHERE pipeline = ? AND state = 'active' ORDER BY id`).all(pipeline) as SlurmJobRow[];
};

CacheDb.prototype.slurmJobsOf = function (this: CacheDb, stageId, pipeline) {
  const rows = this.stmt(`SELECT j.*, r.pid AS run_pid, r.host AS run_host, r.state AS run_state FROM slurm_jobs j LEFT JOIN runs r ON r.id = j.run_id
    WHERE j.stage_id = ? AND j.state = 'active' ${pipeline ? 'AND j.pipeline = ?' : ''} ORDER BY j.id DESC`).all(...(pipeline ? [stageId, pipeline] : [stageId])) as (SlurmJobRow & { run_pid: number; run_host: string; run_state: string })[];
  return rows.map(({ run_pid, run_host, run_state, ...r }) => ({ ...r, live: run_state === 'running' && run_host === hostname() && pidAlive(run_pid) }));
};

/** Who holds a lock row. `pipeline` is the pipeline's name, or GC_LOCK for `pipe gc`. */
/** An artifacts/ view: which object it shows, where, and how it looked when made (JSON: mode and file stats). */
export interface ViewRow { stage_id: string; name: string; hash: string; path: string; stat: string | null }

export interface LockHolder { pipeline: string; pid: number; host: string; since: number }

/** The lock row of `pipe gc` (not a possible pipeline name). */
export const GC_LOCK = '#gc';

/** Words for a lock holder: 'pipe gc (pid 12 on host, since …)' or 'a run of 'x' (…)'. */
export function describeHolder(h: LockHolder): string {
  const who = h.pipeline === GC_LOCK ? '`pipe gc`' : `a run of '${h.pipeline}'`;
  return `${who} (pid ${h.pid} on ${h.host}, since ${new Date(h.since).toISOString()})`;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
