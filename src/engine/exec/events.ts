/**
 * Run events: what a `pipe run` tells its observers, as one typed union from the runner to the
 * reporters (the live display, plain lines, `--progress json`) and the run's record. Reasons
 * stay data (`StaleReason[]`, the same codes `pipe status --json` prints) until a reporter puts
 * them into words; why a stage was skipped is a closed set (`SkipReason`). The run's summary is
 * not counted by hand anywhere: it is `summarize`, a reducer over the events.
 */
import type { Progress } from '../../sdk/stage.js';
import type { StaleReason } from '../cache/reasons.js';
import type { PlannedStage } from '../front/graph.js';

export type StageOutcome = 'ran' | 'cached' | 'failed' | 'skipped' | 'interrupted';

/** Why a stage did not run at all. */
export type SkipReason =
  /** A stage it depends on failed. */
  | { code: 'upstream-failed'; upstream: string }
  /** The run stopped after a failure (without --keep-going) before the stage could start. */
  | { code: 'run-stopped' }
  /** The run was interrupted (Ctrl-C, SIGTERM) before the stage could start. */
  | { code: 'interrupted' }
  /** `pipe pull`: the remote has no usable result for it. */
  | { code: 'not-on-remote'; remote: string }
  /** `pipe pull`: a stage it depends on could not be pulled (so its fingerprint is unknown). */
  | { code: 'upstream-not-pulled'; upstream: string };

export function formatSkip(r: SkipReason): string {
  switch (r.code) {
    case 'upstream-failed': return `upstream ${r.upstream} failed`;
    case 'run-stopped': return 'run stopped after a failure';
    case 'interrupted': return 'interrupted';
    case 'not-on-remote': return `not on remote '${r.remote}'`;
    case 'upstream-not-pulled': return `upstream ${r.upstream} was not pulled`;
  }
}

export interface RunSummary {
  runId: number;
  ran: number;
  cached: number;
  failed: number;
  skipped: number;
  interrupted: number;
  /** Of the cached stages, those whose result came from the remote cache. */
  remote: number;
  failures: { id: string; error: string }[];
  durationMs: number;
}

export type StageEnd =
  | { outcome: 'ran'; durationMs: number }
  /** `remote`: the result was downloaded from this remote cache (verified), not found locally. */
  | { outcome: 'cached'; remote?: string }
  | { outcome: 'failed'; error: string; durationMs?: number }
  | { outcome: 'skipped'; skip: SkipReason }
  | { outcome: 'interrupted'; durationMs?: number };

export type RunEvent =
  | { type: 'run-start'; runId: number; stages: PlannedStage[] }
  /** A stage starts executing (a cache miss); `reasons` say why. */
  | { type: 'stage-start'; id: string; reasons: StaleReason[] }
  | { type: 'stage-progress'; id: string; progress: Progress }
  /** The stage continues from a resume checkpoint taken after `epoch` of `total` epochs. */
  | { type: 'stage-resumed'; id: string; epoch: number; total: number }
  | ({ type: 'stage-end'; id: string } & StageEnd)
  | { type: 'message'; text: string }
  | { type: 'run-end'; summary: RunSummary };

/** A consumer of run events. `run-end` may be awaited (a reporter finishing its screen). */
export interface RunReporter {
  on(e: RunEvent): void | Promise<void>;
}

export function emptySummary(runId = 0): RunSummary {
  return { runId, ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0, remote: 0, failures: [], durationMs: 0 };
}

/** The one place a run's counts come from: folds an event into the summary (in place; returns it). */
export function summarize(s: RunSummary, e: RunEvent): RunSummary {
  if (e.type === 'run-start') s.runId = e.runId;
  else if (e.type === 'stage-end') {
    s[e.outcome]++;
    if (e.outcome === 'failed') s.failures.push({ id: e.id, error: e.error });
    if (e.outcome === 'cached' && e.remote) s.remote++;
  }
  return s;
}

/** One stage's outcome as the run's record keeps it (the runner reports one per stage). */
export interface StageRecord {
  id: string;
  outcome: 'ran' | 'cached' | 'failed' | 'interrupted';
  /** the execution that holds the result (for cached stages: the one it was cached from) */
  execution: number;
  fingerprint: string;
  /** duration of the execution that computed the result */
  durationMs?: number;
  /** why it ran */
  reasons?: StaleReason[];
  /** content hash of the stage's `curves` table output */
  curves?: string;
  error?: string;
  /** the stage's metrics (object or JSON text), when it has any */
  metrics?: unknown;
}

/** What the run tells its recorder when it ends. */
export interface RunFinish {
  runId: number;
  name?: string;
  file: string;
  fileText: string;
  params: Record<string, unknown>;
  overrides: string[];
  goals: Record<string, 'max' | 'min'>;
  /** matrix instances: id → base stage and matrix values */
  matrix: Record<string, { base: string; values: Record<string, string | number | boolean> }>;
  summary: RunSummary;
}

/**
 * Run tracking, as the engine sees it: the engine reports each stage's outcome and the run's
 * end; what is kept and how (src/runs/) is not the engine's business.
 */
export interface RunRecorder {
  stage(r: StageRecord): void;
  finish(info: RunFinish): Promise<void>;
}
