/**
 * The one number formatter of pipe's tables and pages (`pipe runs`, `pipe diff`, the report, the
 * DAG's details). Plain functions without imports: the report's browser code inlines them
 * (`fmtNum.toString()`), so the page formats exactly like the terminal.
 */

/** A number for people: integers as they are, otherwise 4 significant digits; very small or large in exponent form. */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-4 || a >= 1e9)) return x.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(x.toPrecision(4)));
}

/** A table cell: numbers by `fmtNum`, objects as JSON, nothing for null/undefined. */
export function fmtCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return fmtNum(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A duration in milliseconds: `340 ms`, `2.35 s`, `12.3 s`. */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === undefined || ms === null) return '';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}
