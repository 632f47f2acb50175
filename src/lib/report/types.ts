/**
 * What a report shows: the pipeline's stage instances with their states, params, metrics and
 * output artifacts. Filled from the cache by the engine (src/report-data.ts) for `pipe report`
 * and `pipe graph --format html`, or from its inputs by the `report` stage kind.
 */
export type ReportState = 'fresh' | 'stale' | 'never-run' | 'failed' | 'running';

export interface ReportOutput {
  name: string;
  /** PortType: 'png' | 'svg' | 'gif' | 'json' | 'table' | 'html' | 'text' | 'file' | 'dir' | 'any'. */
  type: string;
  /** Absolute artifact path. */
  path: string;
  hash: string;
}

export interface ReportStage {
  /** e.g. 'train[fold=3,model=relu]' */
  id: string;
  /** e.g. 'train' */
  base: string;
  kind: string;
  state: ReportState;
  reasons: string[];
  params: unknown;
  matrix: Record<string, string | number | boolean>;
  /** Upstream stage ids. */
  deps: string[];
  metrics?: Record<string, unknown>;
  durationMs?: number;
  outputs: ReportOutput[];
  /** Error message of a failed stage. */
  error?: string;
}

export interface ReportData {
  pipeline: { name: string; file: string; params: unknown };
  /** ISO time; shown as given (pass a fixed value for byte-identical pages). */
  generatedAt: string;
  stages: ReportStage[];
  /** What the report opens with (`report: {headline}`): per reference, the stage outputs it names. */
  headline?: { text: string; items: { stage: string; output: string }[] }[];
}
