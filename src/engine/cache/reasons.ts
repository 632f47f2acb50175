/**
 * Why a stage must run — a closed set of reasons as data (in the spirit of Snakemake's
 * `Reason`). The planner and the run produce `StaleReason` values; `formatReason` is the one
 * place that turns them into words (terminal, reports); `status --json` emits
 * `{code, …fields, text}`. Tests assert codes and fields, not sentences.
 */

export type StaleReason =
  /** No execution of this stage was ever recorded. */
  | { code: 'never-run' }
  /** A param (after defaults and overrides) changed; `path` is e.g. `params.lr`. */
  | { code: 'params-changed'; path: string; change: 'added' | 'removed' | 'changed'; before?: unknown; after?: unknown }
  | { code: 'seed-changed'; before: number; after: number }
  | { code: 'kind-changed'; before: string; after: string }
  /** An input artifact has other content; `producers` are the producing `stage.output`s. */
  | { code: 'input-changed'; input: string; producers: string[]; change: 'content' | 'added' | 'removed' | 'count'; before?: number; after?: number }
  /** A declared project file (`fileDeps`, e.g. a command's script) changed. */
  | { code: 'file-changed'; file: string; change: 'added' | 'removed' | 'changed' }
  /** The code that computes the result changed: files of the kind's import closure (paths as recorded). */
  | { code: 'code-changed'; files: string[] }
  /** The kind's manual `version` was bumped. */
  | { code: 'version-changed'; before: string; after: string }
  /** A runtime fact (Node major, platform, backend, library version, font) changed. */
  | { code: 'runtime-changed'; key: string; before?: string; after?: string }
  | { code: 'output-missing'; output: string }
  | { code: 'output-corrupt'; output: string }
  /** `--force` on the command line. */
  | { code: 'forced' }
  /** `pipe invalidate`. */
  | { code: 'invalidated' }
  /** Inputs come from stages that are not fresh; the run decides (early cutoff may keep it cached). */
  | { code: 'upstream-stale'; upstream: { stage: string; input: string; state: string }[] }
  /** The latest execution with this fingerprint failed. */
  | { code: 'failed-before'; error: string }
  | { code: 'interrupted' }
  /** The cached result was keyed with another layout of FingerprintData (an older pipe). */
  | { code: 'fingerprint-format-changed'; before: number | null; after: number }
  /** The fingerprint could not be computed (e.g. a declared file is missing). */
  | { code: 'fingerprint-error'; message: string }
  /** Same fingerprint, but no usable cached result (should be rare: e.g. a result recorded and then dropped). */
  | { code: 'no-valid-result' };

export type ReasonCode = StaleReason['code'];

function show(v: unknown): string {
  if (v === undefined) return '(unset)';
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '…' : s;
}

function list(xs: string[], max = 3): string {
  return xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`;
}

/** The one formatter: a reason in words, for the terminal and reports. */
export function formatReason(r: StaleReason): string {
  switch (r.code) {
    case 'never-run': return 'never run';
    case 'params-changed':
      return r.change === 'added' ? `${r.path} added (${show(r.after)})` : r.change === 'removed' ? `${r.path} removed (was ${show(r.before)})` : `${r.path} changed ${show(r.before)} → ${show(r.after)}`;
    case 'seed-changed': return `seed changed ${r.before} → ${r.after}`;
    case 'kind-changed': return `kind changed ${r.before} → ${r.after}`;
    case 'input-changed':
      if (r.change === 'added') return `input ${r.input} added`;
      if (r.change === 'removed') return `input ${r.input} removed`;
      if (r.change === 'count') return `input ${r.input} now gathers ${r.after} artifacts (was ${r.before})`;
      return r.producers.length === 1 ? `input ${r.input} changed (from ${r.producers[0]})` : `input ${r.input} changed: ${list(r.producers)}`;
    case 'file-changed':
      return r.change === 'added' ? `file ${r.file} added as a dependency` : r.change === 'removed' ? `file ${r.file} no longer a dependency` : `file ${r.file} changed`;
    case 'code-changed': return `code changed: ${list(r.files)}`;
    case 'version-changed': return `code version changed ${r.before} → ${r.after}`;
    case 'runtime-changed': return `runtime.${r.key} changed ${show(r.before)} → ${show(r.after)}`;
    case 'output-missing': return `output ${r.output} missing`;
    case 'output-corrupt': return `output ${r.output} damaged (content no longer matches its hash)`;
    case 'forced': return 'forced (--force)';
    case 'invalidated': return 'invalidated (pipe invalidate)';
    case 'upstream-stale': {
      const parts = r.upstream.map((u) => `input ${u.input}: ${u.stage} is ${u.state}`);
      return parts.length <= 3 ? parts.join('; ') : `${parts.slice(0, 3).join('; ')}; …and ${parts.length - 3} more upstream stages`;
    }
    case 'failed-before': return `failed: ${r.error}`;
    case 'interrupted': return 'interrupted before it finished';
    case 'fingerprint-format-changed': return `fingerprint format changed ${r.before ?? '(unknown)'} → ${r.after}`;
    case 'fingerprint-error': return r.message;
    case 'no-valid-result': return 'no valid cached result';
  }
}

export function formatReasons(rs: StaleReason[]): string {
  return rs.map(formatReason).join('; ');
}

/** The JSON form: `{code, …fields, text}`. */
export function reasonJson(r: StaleReason): StaleReason & { text: string } {
  return { ...r, text: formatReason(r) };
}
