/**
 * The process side of script stages, shared with `kind: command`: spawn with the line protocol on
 * fd 3, stdout/stderr into the stage log (the stderr tail kept for the error), abort → the
 * process group, the curves table of the protocol's rows, the GPUs handed to the stage. Kept
 * small and apart from the manifest and format conversion (exec.ts): it is in the code closure
 * of every `command` stage.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { StageContext } from '../../sdk/stage.js';
import { ProtocolReader, type MetricValue } from './protocol.js';
import { fastSpawn, fastSpawnUnavailable, type Exit } from './fast-spawn.js';

const TAIL_LINES = 20;

/**
 * A script has a parent-death signal: when the worker that spawned it dies — `kill -9` of the
 * run, the OOM killer — the kernel kills the script at once, so an orphan never runs on (and
 * writes checkpoints) after the run is gone. The native spawner (fast-spawn.ts) sets it in the
 * child itself; where that is unavailable, util-linux's setpriv (in every Debian/Ubuntu base
 * system) sets it before it execs the script. Without either (other systems) the worker's
 * disconnect handler still kills the process group when the coordinator goes.
 */
const SETPRIV = process.platform === 'linux' && existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : null;

/** Whether `file` can be found (a path, or a name on $PATH), so a missing program keeps its own error under setpriv. */
function findable(file: string, cwd: string, env: NodeJS.ProcessEnv): boolean {
  if (file.includes('/')) return existsSync(resolve(cwd, file));
  return (env.PATH ?? '').split(delimiter).some((d) => d && isAbsolute(d) && existsSync(join(d, file)));
}

export interface SpawnResult {
  code: number | string;
  stderrTail: string[];
  protocol: ProtocolReader;
}

/**
 * Spawns `file args` in the project root with the line protocol on fd 3 ($PIPE_PROTOCOL_FD):
 * stdout → the stage log, stderr → the log as warnings (and its last lines kept for the error),
 * protocol → progress, log lines, metrics, curve rows. Abort kills the process group.
 */
export function spawnWithProtocol(ctx: StageContext, file: string, args: string[], env: NodeJS.ProcessEnv): Promise<SpawnResult> {
  const protocol = new ProtocolReader({ progress: (p) => ctx.progress(p), log: (l, m) => ctx.log[l](m) });
  const stderrTail: string[] = [];
  const childEnv = { ...env, PIPE_PROTOCOL_FD: '3' };
  return new Promise((resolve, reject) => {
    const cantRun = (e: NodeJS.ErrnoException) => new Error(e.code === 'ENOENT' ? `cannot run '${file}': not found` : `cannot run '${file}': ${e.message}`);
    let child: Started;
    try {
      child = start(file, args, ctx.projectDir, childEnv);
    } catch (e) {
      reject(cantRun(e as NodeJS.ErrnoException));
      return;
    }
    const onAbort = () => { try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ } };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const lines = (level: 'info' | 'warn', keep?: string[]) => {
      let buf = '';
      const emit = (l: string) => {
        ctx.log[level](l);
        if (keep) { keep.push(l); if (keep.length > TAIL_LINES) keep.shift(); }
      };
      return {
        data: (chunk: Buffer) => {
          buf += chunk.toString('utf8');
          let i;
          while ((i = buf.indexOf('\n')) >= 0) { emit(buf.slice(0, i)); buf = buf.slice(i + 1); }
          if (buf.length > 65536) { emit(buf); buf = ''; }
        },
        end: () => { if (buf) emit(buf); buf = ''; },
      };
    };
    const out = lines('info');
    const err = lines('warn', stderrTail);
    child.stdout.on('data', out.data);
    child.stderr.on('data', err.data);
    child.proto.on('data', (c: Buffer) => protocol.feed(c));
    child.proto.on('error', () => undefined);
    child.closed.then(
      ({ code, signal }) => {
        ctx.signal.removeEventListener('abort', onAbort);
        out.end(); err.end(); protocol.end();
        resolve({ code: signal ?? code ?? 1, stderrTail, protocol });
      },
      (e: NodeJS.ErrnoException) => {
        ctx.signal.removeEventListener('abort', onAbort);
        reject(cantRun(e));
      },
    );
  });
}

/** A started process: its id (and process group), stdout, stderr, fd 3, and its end. */
interface Started {
  pid: number;
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  proto: NodeJS.ReadableStream;
  /** Its exit once it has ended and its pipes have closed; rejects when it could not start. */
  closed: Promise<Exit>;
}

/**
 * Starts `file args` in its own session (abort kills the group) with a parent-death signal:
 * through the native spawner where it is available (fast-spawn.ts), else through Node under
 * setpriv (or, on other systems, without one: the worker's disconnect handler still kills the group).
 */
function start(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Started {
  if (fastSpawnUnavailable() === null) return fastSpawn(file, args, { cwd, env });
  if (SETPRIV && !findable(file, cwd, env)) throw Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
  const [cmd, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', file, ...args]] : [file, args];
  const child = spawn(cmd, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true });
  const closed = new Promise<Exit>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code, signal) => res({ code, signal }));
  });
  // a failed spawn has no pid (its 'error' comes next): nothing to kill then
  return { pid: child.pid ?? 0, stdout: child.stdout!, stderr: child.stderr!, proto: child.stdio[3] as NodeJS.ReadableStream, closed };
}

/** The error of a script that did not exit 0: the exit code (or signal) and the tail of its stderr. */
export function exitError(what: string, r: SpawnResult): Error {
  const how = typeof r.code === 'string' ? `was killed by ${r.code}` : `exited with code ${r.code}`;
  const tail = r.stderrTail.length ? `\n--- last ${r.stderrTail.length} line(s) of stderr ---\n${r.stderrTail.join('\n')}` : ' (nothing on stderr)';
  return new Error(`${what} ${how}${tail}`);
}

/** A table of the protocol's curve rows (columns in order of first appearance). */
export async function writeCurves(path: string, rows: Record<string, MetricValue>[]): Promise<void> {
  const { Table, vectorFromArray, Float64, Int32, Utf8, Bool, tableToIPC } = await import('apache-arrow');
  const { writeFile } = await import('node:fs/promises');

  const names: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!names.includes(k)) names.push(k);
  const cols: Record<string, any> = {};
  for (const k of names) {
    const vals = rows.map((r) => (r[k] === undefined ? null : r[k]));
    const present = vals.filter((v) => v !== null);
    if (present.every((v) => typeof v === 'number')) {
      const ints = present.every((v) => Number.isInteger(v) && Math.abs(v as number) <= 2147483647);
      cols[k] = vectorFromArray(vals as (number | null)[], ints && present.length ? new Int32() : new Float64());
    } else if (present.every((v) => typeof v === 'boolean')) cols[k] = vectorFromArray(vals as (boolean | null)[], new Bool());
    else cols[k] = vectorFromArray(vals.map((v) => (v === null ? null : String(v))), new Utf8());
  }
  await writeFile(path, tableToIPC(new Table(cols), 'file'));
}

/** CUDA_VISIBLE_DEVICES of a stage the local executor gave devices to (or none, on a machine with GPUs). */
export function gpuEnv(ctx: StageContext): Record<string, string> {
  return ctx.gpus ? { CUDA_VISIBLE_DEVICES: ctx.gpus.join(',') } : {};
}

