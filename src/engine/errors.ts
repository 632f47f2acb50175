/**
 * User-facing errors. Every problem with a pipeline file, an override or a CLI argument is a
 * `PipeError` that knows where it is (`file:line:col`) and is printed without a stack trace,
 * exit code 2.
 */
import { distance } from '../lib/vendor.js';

export interface SourceLoc {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

export class PipeError extends Error {
  constructor(message: string, readonly loc?: SourceLoc, readonly exitCode = 2) {
    super(message);
  }
  format(): string {
    return this.loc ? `${this.loc.file}:${this.loc.line}:${this.loc.col}: ${this.message}` : `pipe: ${this.message}`;
  }
}

/** Several errors found in one pass (all reported, not just the first). */
export class PipeErrors extends PipeError {
  constructor(readonly errors: PipeError[]) {
    super(errors.map((e) => e.message).join('\n'), errors[0]?.loc);
  }
  override format(): string {
    return this.errors.map((e) => e.format()).join('\n');
  }
}

/** " (did you mean 'x'?)" or '' when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  if (best === undefined) return '';
  const limit = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  return bestD <= limit ? ` (did you mean '${best}'?)` : '';
}
