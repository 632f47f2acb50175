/**
 * Spawning a stage's process without forking the worker (Linux): native/pipe_spawn.c through
 * koffi. The child is made with vfork and sets its own parent-death signal (SIGKILL) before it
 * execs the program, so a script still dies with its worker, with one exec instead of setpriv's
 * two and no copy of the worker's ~60 MB of page tables (for `command` stages on 2 cores this was
 * about a third of each stage's CPU time). Same shape as Node's
 * `spawn(…, {detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe']})`: own session and
 * process group, stdin from /dev/null, stdout/stderr/fd 3 as pipes, signal dispositions reset.
 *
 * The exit status comes from waitpid(WNOHANG) on SIGCHLD (no thread waits). Unavailable (another
 * system, no compiler to build the library, koffi missing, PIPE_FAST_SPAWN=0): `fastSpawnUnavailable()`
 * says why and the caller spawns through Node under setpriv, as before. Neither way is part of a
 * stage's fingerprint (native/pipe_spawn.c is not in the code closure): how a process is started
 * changes no result.
 */
import { createRequire } from 'node:module';
import { accessSync, closeSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getSystemErrorMap } from 'node:util';
import type { Readable } from 'node:stream';

/** native/ at the package root (src/lib/script → ../../../native; the same from dist/). */
const NATIVE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'native');
export const SPAWN_LIBRARY = join(NATIVE_DIR, 'build', 'libpipe_spawn.so');
const SOURCE = join(NATIVE_DIR, 'pipe_spawn.c');

type Fn = (...args: any[]) => any;
interface Api { spawn: Fn; reap: Fn }

let api: Api | { error: string } | undefined;

function stale(): boolean {
  if (!existsSync(SPAWN_LIBRARY)) return true;
  return existsSync(SOURCE) && statSync(SOURCE).mtimeMs > statSync(SPAWN_LIBRARY).mtimeMs;
}

function load(): Api {
  if (process.platform !== 'linux') throw new Error(`not Linux (${process.platform})`);
  if (process.env.PIPE_FAST_SPAWN === '0') throw new Error('disabled by PIPE_FAST_SPAWN=0');
  if (stale() && existsSync(SOURCE)) {
    // a checkout without `npm install`'s build, or an edited source: build once (≈ 0.3 s)
    try {
      execFileSync(process.execPath, [join(NATIVE_DIR, 'build-spawn.mjs'), '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    } catch { /* reported below as missing */ }
  }
  if (!existsSync(SPAWN_LIBRARY)) throw new Error(`${SPAWN_LIBRARY} is not built (node native/build-spawn.mjs)`);
  const koffi = createRequire(import.meta.url)('koffi');
  const lib = koffi.load(SPAWN_LIBRARY);
  if (lib.func('int ps_abi_version(void)')() !== 1) throw new Error(`${SPAWN_LIBRARY} has an unexpected ABI version; rebuild with node native/build-spawn.mjs`);
  // one type per process (koffi refuses a second struct of the same name)
  koffi.struct('pipe_ps_result', { pid: 'int', out_fd: 'int', err_fd: 'int', proto_fd: 'int', error: 'int', stage: 'int' });
  return {
    spawn: lib.func('int ps_spawn(const char *file, const char **argv, const char **envp, const char *cwd, _Out_ pipe_ps_result *r)'),
    reap: lib.func('int ps_reap(int pid)'),
  };
}

function bound(): Api | { error: string } {
  if (!api) {
    try { api = load(); } catch (e) { api = { error: (e as Error).message.split('\n')[0]! }; }
  }
  return api;
}

/** Why the fast spawner cannot be used here (null: it can). */
export function fastSpawnUnavailable(): string | null {
  const a = bound();
  return 'error' in a ? a.error : null;
}

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export interface FastChild {
  pid: number;
  stdout: Readable;
  stderr: Readable;
  /** fd 3 of the child. */
  proto: Readable;
  /** Settles once the process has ended and its three pipes have closed (Node's 'close'). */
  closed: Promise<Exit>;
}

/** An error like Node's spawn errors: `spawn <file> ENOENT`, with `code`. */
function spawnError(file: string, errno: number, what?: string): NodeJS.ErrnoException {
  const [name, text] = getSystemErrorMap().get(-errno) ?? [`E${errno}`, `error ${errno}`];
  const e = new Error(`spawn ${file} ${name}${what ? ` (${what}: ${text})` : ''}`) as NodeJS.ErrnoException;
  e.code = name;
  e.errno = -errno;
  return e;
}

/**
 * The program execve is given: `file` itself when it has a slash (relative to `cwd`), else the
 * first executable `file` in the directories of env.PATH (absolute ones only). Throws ENOENT, or
 * EACCES when only non-executable files of that name exist.
 */
function program(file: string, cwd: string, env: NodeJS.ProcessEnv): string {
  if (file.includes('/')) return resolve(cwd, file);
  let denied = false;
  for (const d of (env.PATH ?? '').split(delimiter)) {
    if (!d || !isAbsolute(d)) continue;
    const p = join(d, file);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, fsConstants.X_OK);
      return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') denied = true;
    }
  }
  throw spawnError(file, denied ? osConstants.errno.EACCES : osConstants.errno.ENOENT);
}

const waiting = new Map<number, (status: number) => void>();
let listening = false;

function reapAll(): void {
  const a = api as Api;
  for (const [pid, done] of waiting) {
    const st = a.reap(pid) as number;
    if (st === -1) continue; // still running
    waiting.delete(pid);
    done(st);
  }
}

function decode(status: number): Exit {
  if (status < 0) return { code: null, signal: null }; // not ours to reap any more (cannot happen: libuv reaps by pid)
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  const name = Object.entries(osConstants.signals).find(([, n]) => n === sig)?.[0] as NodeJS.Signals | undefined;
  return { code: null, signal: name ?? (`SIG${sig}` as NodeJS.Signals) };
}

function pipeStream(fd: number): Readable {
  return new Socket({ fd, readable: true, writable: false });
}

/**
 * Starts `file args` in `cwd` with exactly `env`, as described above. Throws (synchronously) an
 * error with Node's codes when the program cannot be started (ENOENT, EACCES, a bad cwd…).
 * Call only when `fastSpawnUnavailable()` is null.
 */
export function fastSpawn(file: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): FastChild {
  const a = bound();
  if ('error' in a) throw new Error(`fast spawn unavailable: ${a.error}`);
  const envp: (string | null)[] = [];
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) envp.push(`${k}=${v}`);
  const argv: (string | null)[] = [file, ...args];
  for (const s of [...argv, ...envp, opts.cwd] as string[]) {
    if (s.includes('\0')) throw new Error(`cannot run '${file}': an argument or environment variable contains a null byte`);
  }
  const path = program(file, opts.cwd, opts.env);
  argv.push(null);
  envp.push(null);
  if (!listening) { process.on('SIGCHLD', reapAll); listening = true; }
  const r: { pid: number; out_fd: number; err_fd: number; proto_fd: number; error: number; stage: number } = {} as any;
  const rc = a.spawn(path, argv, envp, opts.cwd, r) as number;
  if (rc !== 0) {
    if (r.pid > 0) waiting.set(r.pid, () => undefined); // the child exited 127 after a failed exec: reap it
    queueMicrotask(reapAll);
    throw spawnError(file, r.error, ['pipe', 'vfork', 'child setup', `chdir ${opts.cwd}`, undefined][r.stage]);
  }
  let streams: Readable[];
  try {
    streams = [r.out_fd, r.err_fd, r.proto_fd].map(pipeStream);
  } catch (e) {
    for (const fd of [r.out_fd, r.err_fd, r.proto_fd]) try { closeSync(fd); } catch { /* already owned */ }
    throw e;
  }
  const exited = new Promise<number>((res) => waiting.set(r.pid, res));
  const pipesClosed = Promise.all(streams.map((s) => new Promise<void>((res) => s.once('close', () => res()))));
  // SIGCHLD reaps it; once every pipe has closed, look once more (and every 50 ms after) so a
  // status can never be missed
  void pipesClosed.then(() => {
    reapAll();
    if (!waiting.has(r.pid)) return;
    const t = setInterval(() => { reapAll(); if (!waiting.has(r.pid)) clearInterval(t); }, 50);
    void exited.then(() => clearInterval(t));
  });
  const closed = Promise.all([exited, pipesClosed]).then(([st]) => decode(st));
  return { pid: r.pid, stdout: streams[0]!, stderr: streams[1]!, proto: streams[2]!, closed };
}
