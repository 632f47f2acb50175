/** `pipe kinds | head`: when the reader of pipe's output goes away, pipe stops quietly (no EPIPE stack trace). */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { pipeBin, project } from '../engine/helpers.js';

function closedEarly(cwd: string, args: string[]): Promise<{ code: number | null; stderr: string; got: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [pipeBin, ...args], { cwd, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let got = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // like `… | head` once head has exited: the read end is closed before pipe writes
    child.stdout.destroy();
    child.on('close', (code) => res({ code, stderr, got }));
  });
}

describe('a closed output pipe', () => {
  it('pipe kinds | head: exits 0 without a stack trace', async () => {
    const dir = project({});
    for (let i = 0; i < 3; i++) {
      const r = await closedEarly(dir, ['kinds']);
      expect(r.stderr).not.toMatch(/internal error|EPIPE|at .*\.js:\d+/);
      expect(r.code).toBe(0);
    }
  });
});
