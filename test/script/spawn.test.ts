/**
 * The process side of script and command stages (src/lib/script/spawn.ts), on both ways of
 * starting a process: the native spawner (native/pipe_spawn.c: vfork, the child sets its own
 * parent-death signal) and Node's spawn under setpriv (PIPE_FAST_SPAWN=0, the fallback). Each
 * promise — output and protocol, exit codes and signals, a clear error for a program that cannot
 * run, abort kills the process group, the script dies with its parent, every child reaped — is
 * checked on both.
 */
import { describe, it, expect, vi, beforeAll, afterAll } from 'vitest';
import { spawn as nodeSpawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { StageContext } from '../../src/sdk/stage.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number) => { try { process.kill(pid, 0); return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z'); } catch { return false; } };
/** Children of this process that have ended but were never reaped. */
const zombies = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
  try {
    const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return f[0] === 'Z' && Number(f[1]) === process.pid;
  } catch { return false; }
});

interface Captured { info: string[]; warn: string[]; progress: unknown[] }

function context(dir: string, signal = new AbortController().signal): { ctx: StageContext; got: Captured } {
  const got: Captured = { info: [], warn: [], progress: [] };
  const ctx = {
    projectDir: dir,
    signal,
    progress: (p: unknown) => got.progress.push(p),
    log: { info: (m: string) => got.info.push(m), warn: (m: string) => got.warn.push(m), debug: () => undefined },
  } as unknown as StageContext;
  return { ctx, got };
}

const linux = process.platform === 'linux';

for (const mode of ['native', 'node+setpriv'] as const) {
  describe.runIf(linux)(`spawnWithProtocol (${mode})`, () => {
    let mod: typeof import('../../src/lib/script/spawn.js');
    let fast: typeof import('../../src/lib/script/fast-spawn.js');
    let dir: string;
    const saved = process.env.PIPE_FAST_SPAWN;
    beforeAll(async () => {
      vi.resetModules();
      if (mode === 'native') delete process.env.PIPE_FAST_SPAWN; else process.env.PIPE_FAST_SPAWN = '0';
      fast = await import('../../src/lib/script/fast-spawn.js');
      mod = await import('../../src/lib/script/spawn.js');
      dir = mkdtempSync(join(tmpdir(), 'pipe-spawn-'));
    });
    afterAll(() => {
      if (saved === undefined) delete process.env.PIPE_FAST_SPAWN; else process.env.PIPE_FAST_SPAWN = saved;
      rmSync(dir, { recursive: true, force: true });
    });
    const run = (ctx: StageContext, file: string, args: string[], env: NodeJS.ProcessEnv = process.env) => mod.spawnWithProtocol(ctx, file, args, env);

    it(mode === 'native' ? 'the native spawner is the one in use (CI builds it at npm ci)' : 'the native spawner is off', () => {
      if (mode === 'native') expect(fast.fastSpawnUnavailable()).toBeNull();
      else expect(fast.fastSpawnUnavailable()).toMatch(/PIPE_FAST_SPAWN=0/);
    });

    it('stdout to the log, stderr to warnings and the tail, the protocol on fd 3, the exit code', async () => {
      const { ctx, got } = context(dir);
      const r = await run(ctx, 'sh', ['-c', [
        'echo out-1; echo err-1 >&2; printf "no newline"',
        `echo '{"type":"metric","name":"acc","value":0.5}' >&$PIPE_PROTOCOL_FD`,
        `echo '{"type":"progress","done":1,"total":2}' >&3`,
        'exit 3',
      ].join('\n')]);
      expect(r.code).toBe(3);
      expect(got.info).toEqual(['out-1', 'no newline']);
      expect(got.warn).toEqual(['err-1']);
      expect(r.stderrTail).toEqual(['err-1']);
      expect(r.protocol.metrics).toEqual({ acc: 0.5 });
      expect(got.progress).toEqual([expect.objectContaining({ done: 1, total: 2 })]);
      expect(mod.exitError('command', r).message).toMatch(/exited with code 3\n.*err-1/s);
    });

    it('a process killed by a signal reports the signal', async () => {
      const { ctx } = context(dir);
      const r = await run(ctx, 'sh', ['-c', 'kill -USR1 $$; sleep 5']);
      expect(r.code).toBe('SIGUSR1');
    });

    it('runs in the project directory with exactly the given environment; stdin is empty; signals are default and unblocked', async () => {
      const { ctx, got } = context(dir);
      const r = await run(ctx, 'sh', ['-c', 'pwd; echo "$ONLY_THIS-${HOME:-nohome}"; cat; grep -E "^Sig(Ign|Blk)" /proc/self/status'], { PATH: process.env.PATH, ONLY_THIS: 'yes' });
      expect(r.code).toBe(0);
      // cat ends at once (stdin is /dev/null); Node ignores SIGPIPE, the child must not inherit that
      expect(got.info).toEqual([resolve(dir), 'yes-nohome', 'SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000']);
    });

    it('a program that cannot be started is a clear error, not an exit code', async () => {
      const { ctx } = context(dir);
      await expect(run(ctx, 'no-such-program-pipe-30d', [])).rejects.toThrow("cannot run 'no-such-program-pipe-30d': not found");
      await expect(run(ctx, './missing.sh', [])).rejects.toThrow("cannot run './missing.sh': not found");
      writeFileSync(join(dir, 'noexec.sh'), 'echo hi\n');
      chmodSync(join(dir, 'noexec.sh'), 0o644);
      // a script whose interpreter is missing: the kernel's ENOENT for a file that exists
      writeFileSync(join(dir, 'badshebang.sh'), '#!/no/such/interpreter\necho hi\n');
      chmodSync(join(dir, 'badshebang.sh'), 0o755);
      if (mode === 'native') {
        await expect(run(ctx, './noexec.sh', [])).rejects.toThrow(/cannot run '\.\/noexec\.sh': spawn \.\/noexec\.sh EACCES/);
        await expect(run(ctx, './badshebang.sh', [])).rejects.toThrow("cannot run './badshebang.sh': not found");
      } else {
        // setpriv found the file and then failed to exec it: its exit code and message
        for (const f of ['./noexec.sh', './badshebang.sh']) {
          const r = await run(ctx, f, []);
          expect(r.code).toBeGreaterThanOrEqual(126);
          expect(r.stderrTail.join('\n')).toMatch(/setpriv/);
        }
      }
      await sleep(100);
      expect(zombies()).toEqual([]);
    });

    it('abort kills the whole process group (a background child too)', async () => {
      const ac = new AbortController();
      const { ctx } = context(dir, ac.signal);
      const pidFile = join(dir, `bg-${mode}.pid`);
      const p = run(ctx, 'sh', ['-c', `sleep 60 & echo $! > ${pidFile}; wait`]);
      while (!existsSync(pidFile) || !readFileSync(pidFile, 'utf8').trim()) await sleep(10);
      const bg = Number(readFileSync(pidFile, 'utf8'));
      expect(alive(bg)).toBe(true);
      ac.abort();
      const r = await p;
      expect(r.code).toBe('SIGTERM');
      for (let i = 0; i < 100 && alive(bg); i++) await sleep(10);
      expect(alive(bg)).toBe(false);
    });

    it('many processes at once: each gets its own output and exit code, and every one is reaped', async () => {
      const runs = Array.from({ length: 24 }, (_, i) => {
        const { ctx, got } = context(dir);
        return run(ctx, 'sh', ['-c', `echo ${i}; exit ${i % 5}`]).then((r) => ({ r, got, i }));
      });
      for (const { r, got, i } of await Promise.all(runs)) {
        expect(r.code).toBe(i % 5);
        expect(got.info).toEqual([String(i)]);
      }
      await sleep(100);
      expect(zombies()).toEqual([]);
    });

    it('the script dies with the process that started it (kill -9 of that process)', async () => {
      const pidFile = join(dir, `orphan-${mode}.pid`);
      // a Node process that starts a long script through spawn.ts (the built one, as workers run it)
      const starter = join(dir, `starter-${mode}.mjs`);
      writeFileSync(starter, `
import { spawnWithProtocol } from ${JSON.stringify(resolve('dist/lib/script/spawn.js'))};
const ctx = { projectDir: ${JSON.stringify(dir)}, signal: new AbortController().signal, progress() {}, log: { info() {}, warn() {}, debug() {} } };
spawnWithProtocol(ctx, 'sh', ['-c', 'echo $$ > ${pidFile}; exec sleep 60'], process.env);
`);
      const parent = nodeSpawn(process.execPath, [starter], { stdio: 'inherit', env: { ...process.env } });
      const t0 = Date.now();
      while ((!existsSync(pidFile) || !readFileSync(pidFile, 'utf8').trim()) && Date.now() - t0 < 20_000) await sleep(10);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      try {
        expect(alive(pid)).toBe(true);
        parent.kill('SIGKILL');
        for (let i = 0; i < 200 && alive(pid); i++) await sleep(10);
        expect(alive(pid)).toBe(false);
      } finally {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }, 30_000);
  });
}
