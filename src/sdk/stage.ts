/**
 * The stage-kind API. One stage kind = one file in src/stages/ exporting a `StageKind`.
 *
 * A kind declares:
 *  - `kind`      its name as written in pipeline YAML (`kind: split`)
 *  - `version`   its code version: bump it whenever a change to `run` can change results;
 *                it is part of every fingerprint, so bumping it recomputes exactly this kind
 *  - `paramsSchema` a JSON Schema (ajv, with `default`s) for its `params:` block
 *  - `inputs` / `outputs` named ports (static, or computed from the params)
 *  - `runtime`   optional: the facts about the runtime that change results (compute backend,
 *                library versions); resolved by the coordinator before the run and recorded in
 *                the fingerprint
 *  - `needs`     optional: what the machine must have (requirements of src/lib/system/requirements.ts,
 *                e.g. 'libxgboost'); `pipe run` checks them for every stage it is about to run
 *                before starting any, and stops with exit 2 and the fix when one is missing
 *  - `run(ctx)`  the work. It only sees the context: typed params, input readers, output
 *                writers, progress, logger, seeded RNG, abort signal. It never touches SQLite
 *                or the paths of other stages.
 *
 * Kind modules must be cheap to import (the coordinator imports all of them to validate
 * params): import heavy libraries (tfjs, vega, …) dynamically inside `run`.
 */
import type { Rng } from './rng.js';

export type Scalar = string | number | boolean;
export type MatrixValues = Record<string, Scalar>;

/** What an artifact is. `table` = Apache Arrow IPC file (see src/lib/table.ts). */
export type PortType = 'table' | 'json' | 'text' | 'file' | 'dir' | 'png' | 'svg' | 'gif' | 'html' | 'any';

export interface InputSpec {
  type?: PortType;
  description?: string;
  /** The input may be left out in the pipeline. */
  optional?: boolean;
  /** The input takes a list of artifacts (a gather such as `train[*].metrics`). */
  multiple?: boolean;
  /**
   * The kind converts this input to another table format (a script stage's `formats:`): what is
   * bound to it must be a table output, checked when the pipeline is loaded.
   */
  convertTo?: string;
}

export interface OutputSpec {
  type: PortType;
  description?: string;
  /** File-name extension of the human-readable copy under artifacts/ (default from type). */
  ext?: string;
  /** A conditional output: written only when this holds for the params (`condition` says when, in words). */
  when?: (params: any) => boolean;
  condition?: string;
  /** Table outputs: the columns written (`val_<metric>` for a family), for `pipe kinds`. */
  columns?: string[];
}

export type JsonSchema = Record<string, unknown>;

export interface StageKind<P = any> {
  kind: string;
  version: string;
  description: string;
  paramsSchema: JsonSchema;
  /** Named inputs. The key '*' accepts any other name (used by `command`). */
  inputs: Record<string, InputSpec> | ((params: P) => Record<string, InputSpec>);
  outputs: Record<string, OutputSpec> | ((params: P) => Record<string, OutputSpec>);
  /**
   * Files of the project (paths relative to the project root) whose contents the result
   * depends on, e.g. a `command` stage's script. Their content hashes join the fingerprint.
   */
  fileDeps?: (params: P) => string[];
  /**
   * Top-level params that cannot change the result (where to download from, timeouts,
   * retries): left out of the fingerprint, so changing them recomputes nothing.
   */
  nonResultParams?: string[];
  /** Runtime facts that change results; part of the fingerprint. May probe the machine. */
  runtime?: (params: P, root: string) => Record<string, string> | Promise<Record<string, string>>;
  /**
   * Project files (root-relative) that are code of this stage — a script and the modules it
   * imports from the project: hashed into the fingerprint's `code`, so `pipe status` says
   * `code changed: scripts/models/actmix.py`. May read the files (to follow imports).
   */
  codeFiles?: (params: P, root: string) => string[] | Promise<string[]>;
  /**
   * Requirements the stage cannot run without (names from src/lib/system/requirements.ts:
   * 'blas', 'libxgboost', 'fonts', 'tfjs-node', …). Checked by the preflight of `pipe run`.
   */
  needs?: (params: P) => string[];
  /** Requirements the stage runs better with (e.g. `train` on backend auto prefers 'blas'): a missing one is a warning. */
  prefers?: (params: P) => string[];
  /** Run every execution in a fresh process (for stages that hold big native state). */
  freshProcess?: boolean;
  run(ctx: StageContext<P>): Promise<StageResult | void>;
}

export interface StageResult {
  /** Scalar metrics shown by `pipe show` and in reports. */
  metrics?: Record<string, number | string | boolean | null>;
}

export interface InputHandle {
  /** Input port name. */
  name: string;
  /** Read-only path of the artifact (a file, or a directory for `dir` outputs). */
  path: string;
  /** Content hash of the artifact. */
  hash: string;
  /** Id of the producing stage instance, e.g. `train[fold=3,model=relu]`. */
  from: string;
  /** Name of the producing stage's output. */
  output: string;
  /** Matrix values of the producing stage instance ({} when it is not a matrix stage). */
  matrix: MatrixValues;
  /** The producing output's declared type (when the engine knows it). */
  type?: PortType;
  readBuffer(): Promise<Buffer>;
  readText(): Promise<string>;
  readJSON<T = unknown>(): Promise<T>;
}

export interface OutputHandle {
  name: string;
  type: PortType;
  /** Where to write: a file path (or an existing empty directory for `dir` outputs). */
  path: string;
  writeBuffer(data: Uint8Array | string): Promise<void>;
  writeText(text: string): Promise<void>;
  /** Writes canonical, pretty JSON (sorted keys) so equal values give equal bytes. */
  writeJSON(value: unknown): Promise<void>;
}

export interface Progress {
  /** Units done so far (e.g. epochs). */
  done?: number;
  total?: number;
  /** Set once when the stage resumed from a checkpoint: the epoch it continues after. */
  resumedAt?: number;
  /** What `done` counts, singular (e.g. 'epoch'): the display reads `epoch 47/200 · 2.3 epoch/s`. */
  unit?: string;
  message?: string;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

/**
 * Resume checkpoints of a long stage (`ctx.checkpoint`): the engine keeps them in a scratch area
 * of this execution's fingerprint (outside the fingerprint; removed when the stage completes), so
 * the next run of the same fingerprint after a kill, Ctrl-C, crash or Slurm preemption continues
 * from the newest one. The training loop (src/lib/ml/kit/loop.ts, `fit`'s `resume` option) uses
 * it; a kind with its own loop calls `load` once at the start and `save` when `due` says so.
 */
export interface Checkpointer {
  /** The directory of this fingerprint's checkpoints (script stages hand it to their script). */
  readonly dir: string;
  /** Save every `epochs` epochs (0: not by count) or `seconds` seconds (0: not by time), whichever comes first. */
  readonly every: { epochs: number; seconds: number };
  /** Is a save due after `epochsDone` epochs (counts the time since the last save or the start)? */
  due(epochsDone: number): boolean;
  /** The newest valid checkpoint (a damaged one is skipped with a warning), or null for a fresh start. */
  load<T = unknown>(): { state: T; epoch: number; total: number } | null;
  /** Writes a checkpoint atomically after `epoch` of `total` epochs (and tells the run: `resumable from`). */
  save(state: unknown, at: { epoch: number; total: number }): void;
  /** Tell the run that this execution resumed at `epoch` of `total` (the live display shows it). */
  resumed(at: { epoch: number; total: number }): void;
}

export interface StageContext<P = any> {
  /** Instance id, e.g. `train[fold=3,model=relu]`. */
  id: string;
  kind: string;
  params: P;
  matrix: MatrixValues;
  /** Project root (only `command`-like kinds should need it). */
  projectDir: string;
  /** Scratch directory, deleted after the stage. */
  tmpDir: string;
  /** Resolved runtime facts (the same ones that are in the fingerprint). */
  runtime: Record<string, string>;
  /** The stage's seed (stage `seed:`, else the pipeline's `seed:`, else 0). */
  seed: number;
  /** Deterministic RNG seeded with `seed`. */
  rng: Rng;
  signal: AbortSignal;
  log: Logger;
  progress(p: Progress): void;
  /** Is the named input connected? */
  has(name: string): boolean;
  /** The single artifact connected to `name` (throws if missing or if it is a list). */
  input(name: string): InputHandle;
  /** All artifacts connected to `name` (a gather gives several; a single input gives one). */
  inputs(name: string): InputHandle[];
  /** Names of connected inputs (for kinds that accept '*'). */
  inputNames(): string[];
  output(name: string): OutputHandle;
  /** 1 + the failed or interrupted executions of this same fingerprint before this one. */
  attempt?: number;
  /**
   * GPU devices the local executor handed to this stage (`resources: {gpus: N}`), to be used as
   * CUDA_VISIBLE_DEVICES; [] when the run has GPUs but the stage asked for none; undefined when
   * the run has none (or on Slurm, which sets CUDA_VISIBLE_DEVICES itself).
   */
  gpus?: string[];
  /** Resume checkpoints (absent where the engine gives none, e.g. tests that run a kind directly). */
  checkpoint?: Checkpointer;
  /** Was input `name` bound by a gathering reference (`s[*].out`, a selector, a list)? */
  gathered?(name: string): boolean;
}

export function resolvePorts<T>(ports: Record<string, T> | ((p: any) => Record<string, T>), params: unknown): Record<string, T> {
  if (typeof ports === 'function') return ports(params);
  // conditional outputs (`when`) are left out when their condition does not hold
  if (!Object.values(ports).some((s) => typeof (s as { when?: unknown }).when === 'function')) return ports;
  return Object.fromEntries(Object.entries(ports).filter(([, s]) => {
    const when = (s as { when?: (p: unknown) => boolean }).when;
    return typeof when !== 'function' || when(params);
  }));
}

export const DEFAULT_EXT: Record<PortType, string> = {
  table: '.arrow', json: '.json', text: '.txt', file: '', dir: '', png: '.png', svg: '.svg', gif: '.gif', html: '.html', any: '',
};

export function defineStage<P>(kind: StageKind<P>): StageKind<P> {
  return kind;
}
