/** The worker pool when a worker dies between tasks: the coordinator never crashes, the task runs on another worker. */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerPool } from '../../src/engine/exec/pool.js';
import type { TaskSpec } from '../../src/engine/exec/context.js';
import { loadKinds } from '../../src/engine/front/registry.js';
import { validateParams } from '../../src/engine/front/params.js';

async function echoTask(dir: string, n: number): Promise<TaskSpec> {
  const kind = (await loadKinds()).get('command')!;
  const params = validateParams(kind, { cmd: `echo task-${n} > \${outputs.out}`, outs: { out: 'text' } });
  mkdirSync(join(dir, `scratch-${n}`), { recursive: true });
  return {
    id: `echo-${n}`, kind: 'command', params, matrix: {}, seed: 0, runtime: {}, inputs: {},
    outputs: { out: { path: join(dir, `out-${n}.txt`), type: 'text' } }, tmpDir: join(dir, `scratch-${n}`), projectDir: dir,
  };
}

describe('worker pool', () => {
  it('a worker that died while idle is replaced: the next task runs, nothing is thrown into the coordinator', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-pool-'));
    const pool = new WorkerPool();
    const signal = new AbortController().signal;
    try {
      const a = await pool.run(await echoTask(dir, 1), {}, signal);
      expect(a.ok, JSON.stringify(a)).toBe(true);
      const idle = (pool as unknown as { idle: { proc: import('node:child_process').ChildProcess }[] }).idle;
      expect(idle.length).toBe(1);
      const victim = idle[0]!.proc;
      victim.kill('SIGKILL');
      // block the event loop while it dies: the pool has not seen its 'exit' yet
      execFileSync('sleep', ['0.3']);
      expect(victim.exitCode).toBeNull();
      const b = await pool.run(await echoTask(dir, 2), {}, signal);
      expect(b.ok, JSON.stringify(b)).toBe(true);
      expect(readFileSync(join(dir, 'out-2.txt'), 'utf8')).toBe('task-2\n');
    } finally {
      await pool.close();
    }
  });
});
