import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const pipeBin = join(repoRoot, 'bin', 'pipe.js');

/** A throwaway project directory with the given files. */
export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-test-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

export function write(dir: string, p: string, text: string): void {
  mkdirSync(dirname(join(dir, p)), { recursive: true });
  writeFileSync(join(dir, p), text);
}

export interface PipeResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function startPipe(cwd: string, args: string[], env: Record<string, string | undefined> = {}): { child: ChildProcess; done: Promise<PipeResult> } {
  const full: Record<string, string | undefined> = { ...process.env, CI: 'true', FORCE_COLOR: '0', ...env };
  for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k];
  const child = spawn(process.execPath, [pipeBin, ...args], { cwd, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<PipeResult>((res) => child.on('close', (code) => res({ code, stdout, stderr })));
  return { child, done };
}

export function pipe(cwd: string, ...args: string[]): Promise<PipeResult> {
  return startPipe(cwd, args).done;
}

/** `pipe` with extra environment variables (a value of undefined removes the variable). */
export function pipeWithEnv(cwd: string, env: Record<string, string | undefined>, ...args: string[]): Promise<PipeResult> {
  return startPipe(cwd, args, env).done;
}

/** Parses the run summary line `N ran, M cached, K failed`. */
export function summary(r: PipeResult): { ran: number; cached: number; failed: number } {
  const m = /(\d+) ran, (\d+) cached, (\d+) failed/.exec(r.stdout);
  if (!m) throw new Error(`no summary line in output:\n${r.stdout}\n${r.stderr}`);
  return { ran: Number(m[1]), cached: Number(m[2]), failed: Number(m[3]) };
}

/** A stale reason as `status --json` prints it: `{code, …fields, text}`. */
export type ReasonJson = { code: string; text: string; [field: string]: unknown };

export async function statusOf(cwd: string, file: string, ...extra: string[]): Promise<Record<string, { state: string; reasons: ReasonJson[] }>> {
  const r = await pipe(cwd, 'status', file, '--json', ...extra);
  if (r.code !== 0) throw new Error(`status failed: ${r.stderr}`);
  const arr = JSON.parse(r.stdout) as { id: string; state: string; reasons: ReasonJson[] }[];
  for (const x of arr) for (const rs of x.reasons) if (typeof rs.code !== 'string' || typeof rs.text !== 'string') throw new Error(`reason without code/text: ${JSON.stringify(rs)}`);
  return Object.fromEntries(arr.map((x) => [x.id, { state: x.state, reasons: x.reasons }]));
}

/** `{state, codes}` of a stage's status (codes in order). */
export function codes(s: { state: string; reasons: ReasonJson[] } | undefined): { state: string; codes: string[] } {
  if (!s) throw new Error('no such stage in the status');
  return { state: s.state, codes: s.reasons.map((r) => r.code) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Executions recorded as done in a project's cache (read-only; 0 before the cache exists). */
export function doneCount(dir: string): number {
  const p = join(dir, 'cache/pipe.db');
  if (!existsSync(p)) return 0;
  const db = new Database(p, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM executions WHERE state = 'done'`).get() as { n: number }).n;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}
