/** Free disk space, for doctor and for disk-full messages. */
import { statfsSync } from 'node:fs';

/** Bytes available to this user on the filesystem holding `path` (undefined when it cannot be asked). */
export function freeBytes(path: string): number | undefined {
  try {
    const s = statfsSync(path);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${u[i]}`;
}

/** Is this error a full disk (ENOSPC, EDQUOT, SQLite's SQLITE_FULL)? */
export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

/** A full disk in words: where (the error's path, else `fallback`), how much is free. */
export function diskFullText(e: unknown, fallback: string): string {
  const where = (e as { path?: string }).path ?? fallback;
  const free = freeBytes(where) ?? freeBytes(fallback);
  return `disk full writing ${where}${free !== undefined ? ` (${fmtBytes(free)} free)` : ''}: ${(e as Error).message}`;
}
