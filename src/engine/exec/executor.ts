/**
 * Where a stage's task runs. Two executors implement this: `WorkerPool` (pool.ts: reused local
 * worker processes, the default) and `SlurmExecutor` (slurm.ts: Slurm jobs running the same
 * worker code on compute nodes). The StageRunner fingerprints, checks the cache, prepares the
 * task and records the outcome; an executor only runs the task and reports its hashed outputs.
 */
import type { TaskSpec } from './context.js';
import type { Progress } from '../../sdk/stage.js';
import type { FromWorker } from './worker.js';
import type { Resources } from '../front/resources.js';

/** What an executor may want to know about the task beyond the TaskSpec. */
export interface ExecMeta {
  pipeline: string;
  stageId: string;
  /** Base stage name: siblings of one base with equal resources may share a Slurm job array. */
  base: string;
  fingerprint: string;
  runId: number;
  /** Stage resources over pipeline and config defaults (a cluster executor's business). */
  resources: Resources;
  /** The kind wants a fresh process per execution. */
  freshProcess?: boolean;
  /** The task's own directory (from `newTaskDir`, or an adopted job's). */
  taskDir?: string;
  /** A job of an earlier run computing this fingerprint, adopted instead of run again. */
  adopt?: Adoption;
}

/**
 * Work of an earlier (killed) run that an executor can take over: the task and its directory,
 * plus the executor's own state about it (`token`), which only that executor reads.
 */
export interface Adoption {
  taskDir: string;
  task: TaskSpec;
  readonly token: unknown;
}

export interface StageExecutor {
  /**
   * A directory of the task's own (outputs in `<dir>/out`) that outlives this coordinator; when
   * absent, outputs go to the run's temp dir, which a later run removes.
   */
  newTaskDir?(stageId: string): string;
  /** A still-valid job of an earlier (killed) run that computes this fingerprint. */
  adoptable?(fp: string): Adoption | undefined;
  run(task: TaskSpec, h: TaskHandlers, signal: AbortSignal, meta: ExecMeta): Promise<TaskOutcome>;
  close(): Promise<void>;
}

export interface TaskHandlers {
  onProgress?(p: Progress): void;
  onLog?(lines: string[]): void;
}

export type TaskOutcome =
  | { ok: true; outputs: Extract<FromWorker, { type: 'done' }>['outputs']; metrics?: Record<string, unknown> }
  | { ok: false; error: string; crashed: boolean };
