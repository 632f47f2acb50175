/**
 * Builds the `StageContext` a stage's `run` sees. Used by the worker process (the real engine)
 * and by `runStageDirect` (tests of single stage kinds, with the same context and semantics).
 */
import { mkdir, readFile, writeFile, rm, mkdtemp } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Rng } from '../../sdk/rng.js';
import { canonicalJson } from '../../lib/hash.js';
import { loadCheckpoint, saveCheckpoint } from '../../lib/checkpoint.js';
import { resumeDir } from '../cache/resume.js';
import { validateParams } from '../front/params.js';
import {
  DEFAULT_EXT, resolvePorts,
  type Checkpointer, type InputHandle, type Logger, type MatrixValues, type OutputHandle, type PortType, type Progress,
  type StageContext, type StageKind, type StageResult,
} from '../../sdk/stage.js';

/** One artifact handed to a stage input. */
export interface InputRef {
  path: string;
  hash: string;
  from: string;
  output: string;
  matrix: MatrixValues;
  /** The producing output's declared type. */
  type?: PortType;
}

/** Everything a worker needs to run one stage instance. Plain data: it crosses process lines. */
export interface TaskSpec {
  id: string;
  kind: string;
  params: unknown;
  matrix: MatrixValues;
  seed: number;
  runtime: Record<string, string>;
  inputs: Record<string, InputRef[]>;
  /** Output name → temp path to write (dirs are created beforehand). */
  outputs: Record<string, { path: string; type: PortType }>;
  tmpDir: string;
  projectDir: string;
  /** Inputs bound by a gathering reference (script stages tell the script). */
  gathered?: string[];
  /** 1 + earlier failed/interrupted executions of this fingerprint. */
  attempt?: number;
  /** GPU devices handed to the stage (CUDA_VISIBLE_DEVICES); [] = none on a machine with GPUs. */
  gpus?: string[];
  /** Resume checkpoints: the fingerprint's scratch directory and the save interval (stage `checkpoint:`). */
  resume?: ResumeSpec;
}

export interface ResumeSpec { dir: string; everyEpochs: number; everySeconds: number }

/** The default save interval: every 30 s of training, checked after each epoch (one checkpoint costs ≈ 15 ms for the seed models: ≈ 0.05 %; bench/checkpoint.mjs). */
export const DEFAULT_CHECKPOINT = { every_epochs: 0, every_seconds: 30 } as const;


/** The resume spec of a stage from its `checkpoint:` declaration (undefined: false, no checkpoints). */
export function resumeSpec(cacheDir: string, fp: string, decl: boolean | { every_epochs?: number; every_seconds?: number } | undefined): ResumeSpec | undefined {
  if (decl === false) return undefined;
  const o = typeof decl === 'object' ? decl : {};
  const everyEpochs = o.every_epochs ?? DEFAULT_CHECKPOINT.every_epochs;
  const everySeconds = o.every_seconds ?? (o.every_epochs !== undefined ? 0 : DEFAULT_CHECKPOINT.every_seconds);
  return { dir: resumeDir(cacheDir, fp), everyEpochs, everySeconds };
}

/** `ctx.checkpoint` on a fingerprint's resume directory. */
export function makeCheckpointer(r: ResumeSpec, log: Logger, progress: (p: Progress) => void): Checkpointer {
  let last = Date.now();
  let lastEpoch = 0;
  return {
    dir: r.dir,
    every: { epochs: r.everyEpochs, seconds: r.everySeconds },
    due(done) {
      if (r.everyEpochs > 0 && done - lastEpoch >= r.everyEpochs) return true;
      return r.everySeconds > 0 && Date.now() - last >= r.everySeconds * 1000;
    },
    load<T>() {
      const s = loadCheckpoint<T>(r.dir, (m) => log.warn(m));
      if (s) lastEpoch = s.meta.epoch;
      last = Date.now();
      return s ? { state: s.state, epoch: s.meta.epoch, total: s.meta.total } : null;
    },
    save(state, at) {
      const t0 = performance.now();
      saveCheckpoint(r.dir, { epoch: at.epoch, total: at.total, savedAt: Date.now() }, state);
      last = Date.now();
      lastEpoch = at.epoch;
      log.debug(`checkpoint after epoch ${at.epoch}/${at.total} (${(performance.now() - t0).toFixed(2)} ms)`);
    },
    resumed(at) {
      log.info(`resumed at epoch ${at.epoch}/${at.total} from a checkpoint`);
      progress({ resumedAt: at.epoch, done: at.epoch, total: at.total, unit: 'epoch' });
    },
  };
}

export interface ContextHooks {
  progress(p: Progress): void;
  log(level: 'info' | 'warn' | 'debug', message: string): void;
}

function inputHandle(name: string, r: InputRef): InputHandle {
  return {
    name, path: r.path, hash: r.hash, from: r.from, output: r.output, matrix: r.matrix, type: r.type,
    readBuffer: () => readFile(r.path),
    readText: () => readFile(r.path, 'utf8'),
    readJSON: async <T>() => JSON.parse(await readFile(r.path, 'utf8')) as T,
  };
}

function outputHandle(name: string, o: { path: string; type: PortType }): OutputHandle {
  return {
    name, type: o.type, path: o.path,
    writeBuffer: (d) => writeFile(o.path, d),
    writeText: (t) => writeFile(o.path, t),
    writeJSON: (v) => writeFile(o.path, canonicalJson(v, 2) + '\n'),
  };
}

export function makeContext(task: TaskSpec, signal: AbortSignal, hooks: ContextHooks): StageContext {
  const log: Logger = {
    info: (m) => hooks.log('info', m),
    warn: (m) => hooks.log('warn', m),
    debug: (m) => hooks.log('debug', m),
  };
  const inputs = (name: string): InputHandle[] => {
    const refs = task.inputs[name];
    if (!refs) throw new Error(`stage ${task.id}: input '${name}' is not connected`);
    return refs.map((r) => inputHandle(name, r));
  };
  let scratchMade = false;
  return {
    id: task.id, kind: task.kind, params: task.params, matrix: task.matrix,
    projectDir: task.projectDir,
    // created on first use: most stages never need scratch space, and directory churn is
    // a measurable cost on pipelines of many small stages
    get tmpDir() {
      if (!scratchMade) { mkdirSync(task.tmpDir, { recursive: true }); scratchMade = true; }
      return task.tmpDir;
    },
    runtime: task.runtime,
    seed: task.seed, rng: new Rng(task.seed), signal, log,
    progress: hooks.progress,
    has: (name) => name in task.inputs,
    inputs,
    input: (name) => {
      const all = inputs(name);
      if (all.length !== 1) throw new Error(`stage ${task.id}: input '${name}' has ${all.length} artifacts; use ctx.inputs('${name}')`);
      return all[0]!;
    },
    inputNames: () => Object.keys(task.inputs),
    attempt: task.attempt ?? 1,
    gpus: task.gpus,
    ...(task.resume ? { checkpoint: makeCheckpointer(task.resume, log, hooks.progress) } : {}),
    gathered: (name) => task.gathered?.includes(name) ?? false,
    output: (name) => {
      const o = task.outputs[name];
      if (!o) throw new Error(`stage ${task.id}: no output named '${name}' (declared: ${Object.keys(task.outputs).join(', ')})`);
      return outputHandle(name, o);
    },
  };
}

/**
 * Prepares the temp output paths of a task: `<dir>/<prefix><name><ext>` (directory outputs are
 * created empty). `dir` must exist.
 */
export async function prepareOutputs(kind: StageKind, params: unknown, dir: string, prefix = ''): Promise<Record<string, { path: string; type: PortType }>> {
  const out: Record<string, { path: string; type: PortType }> = {};
  for (const [name, spec] of Object.entries(resolvePorts(kind.outputs, params))) {
    const path = join(dir, prefix + name + (spec.type === 'dir' ? '' : spec.ext ?? DEFAULT_EXT[spec.type]));
    if (spec.type === 'dir') await mkdir(path, { recursive: true });
    out[name] = { path, type: spec.type };
  }
  return out;
}

export interface DirectRunOptions {
  params?: unknown;
  /** Input name → file path(s). */
  inputs?: Record<string, string | string[] | InputRef[]>;
  /** Where outputs are written (default: a fresh temp dir). */
  outDir?: string;
  seed?: number;
  matrix?: MatrixValues;
  runtime?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  projectDir?: string;
  /** Resume checkpoints (ctx.checkpoint) in this directory and interval. */
  resume?: ResumeSpec;
}

export interface DirectRunResult {
  outputs: Record<string, string>;
  result: StageResult | void;
  logs: string[];
  progress: Progress[];
  params: unknown;
}

/**
 * Runs one stage kind in this process, with params validated and defaulted exactly as the
 * engine does. For tests of stage kinds and for library use; the engine itself uses workers.
 */
export async function runStageDirect(kind: StageKind, opts: DirectRunOptions = {}): Promise<DirectRunResult> {
  const params = validateParams(kind, opts.params ?? {});
  const outDir = opts.outDir ?? (await mkdtemp(join(tmpdir(), `pipe-${kind.kind}-`)));
  await mkdir(outDir, { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'pipe-scratch-'));
  const inputs: Record<string, InputRef[]> = {};
  for (const [name, v] of Object.entries(opts.inputs ?? {})) {
    const list = Array.isArray(v) ? v : [v];
    inputs[name] = list.map((x, i) => typeof x === 'string' ? { path: x, hash: '', from: `test-input-${name}-${i}`, output: name, matrix: {} } : x);
  }
  const outputs = await prepareOutputs(kind, params, outDir);
  const logs: string[] = [];
  const progress: Progress[] = [];
  const task: TaskSpec = {
    id: kind.kind, kind: kind.kind, params, matrix: opts.matrix ?? {}, seed: opts.seed ?? 0,
    runtime: opts.runtime ?? (kind.runtime ? await kind.runtime(params, opts.projectDir ?? process.cwd()) : {}),
    inputs, outputs, tmpDir: tmp, projectDir: opts.projectDir ?? process.cwd(), resume: opts.resume,
  };
  const ctx = makeContext(task, opts.signal ?? new AbortController().signal, {
    progress: (p) => { progress.push(p); opts.onProgress?.(p); },
    log: (level, m) => logs.push(`${level}: ${m}`),
  });
  try {
    const result = await kind.run(ctx);
    return { outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.path])), result, logs, progress, params };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
