/**
 * Plain tables for the terminal and for files: aligned text (transposed when too wide), CSV
 * (RFC 4180), Markdown. Cells are strings; an optional painter colours a cell for the terminal
 * (widths are measured without the escape codes).
 */

export interface TextTable {
  header: string[];
  rows: string[][];
  /** ANSI-colours cell (r, c) of the body for the terminal */
  paint?: (r: number, c: number, s: string) => string;
  /** right-align these columns */
  right?: Set<number>;
}

const ANSI = /\x1b\[[0-9;]*m/g;
export const visibleLength = (s: string) => s.replace(ANSI, '').length;

export function renderText(t: TextTable): string {
  const w = t.header.map((h, c) => Math.max(visibleLength(h), ...t.rows.map((r) => visibleLength(r[c] ?? ''))));
  const pad = (s: string, c: number, painted: string) => {
    const fill = ' '.repeat(Math.max(0, w[c]! - visibleLength(s)));
    return t.right?.has(c) ? fill + painted : painted + fill;
  };
  const lines = [t.header.map((h, c) => pad(h, c, h)).join('  ').trimEnd()];
  t.rows.forEach((r, ri) => lines.push(r.map((s, c) => pad(s, c, t.paint ? t.paint(ri, c, s) : s)).join('  ').trimEnd()));
  return lines.join('\n');
}

export function textWidth(t: TextTable): number {
  const w = t.header.map((h, c) => Math.max(visibleLength(h), ...t.rows.map((r) => visibleLength(r[c] ?? ''))));
  return w.reduce((a, b) => a + b, 0) + 2 * Math.max(0, w.length - 1);
}

/** Rows become columns: the first header cell heads the new first column of field names. */
export function transpose(t: TextTable, corner: string, rowNames: string[]): TextTable {
  const header = [corner, ...rowNames];
  const rows = t.header.map((h, c) => [h, ...t.rows.map((r) => r[c] ?? '')]);
  const paint = t.paint ? (r: number, c: number, s: string) => (c === 0 ? s : t.paint!(c - 1, r, s)) : undefined;
  return { header, rows, paint, right: new Set(rowNames.map((_, i) => i + 1).filter(() => !!t.right?.size)) };
}

export function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(header: string[], rows: string[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n');
}

export function renderMd(header: string[], rows: string[][]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** The width the terminal has: stdout's columns, else $COLUMNS, else 120. */
export function terminalWidth(): number {
  const c = process.stdout.columns || Number(process.env.COLUMNS);
  return Number.isFinite(c) && c > 0 ? c : 120;
}

/** Colours for the terminal when stdout is one (NO_COLOR / FORCE_COLOR respected). */
export function useColor(): boolean {
  const f = process.env.FORCE_COLOR;
  if (f !== undefined && f !== '') return f !== '0' && f !== 'false';
  if (process.env.NO_COLOR) return false;
  return !!process.stdout.isTTY;
}

export const green = (s: string) => `\x1b[32m${s}\x1b[39m`;
export const red = (s: string) => `\x1b[31m${s}\x1b[39m`;
export const dim = (s: string) => `\x1b[2m${s}\x1b[22m`;
export const bold = (s: string) => `\x1b[1m${s}\x1b[22m`;
