/** A reporter that throws cannot turn a stage that was recorded done into a failure. */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { executePipeline } from '../../src/engine/exec/execute.js';
import type { RunEvent } from '../../src/engine/exec/events.js';
import { loadGraph } from '../../src/engine/front/pipeline.js';
import { Workspace } from '../../src/engine/cache/workspace.js';
import { project, statusOf } from '../engine/helpers.js';

describe('observers cannot undo a recorded result', () => {
  it('a reporter that throws on every event: the run completes, every stage is recorded done with its outputs', async () => {
    const dir = project({
      'p.yaml': `
name: rep
stages:
  a:
    kind: command
    params: {cmd: 'echo a > \${outputs.out}', outs: {out: text}}
  b:
    kind: command
    inputs: {x: a.out}
    params: {cmd: 'cat \${inputs.x} > \${outputs.out}', outs: {out: text}}
`,
    });
    const g = await loadGraph(join(dir, 'p.yaml'), []);
    const ws = new Workspace(dir);
    const seen: string[] = [];
    const reporter = { on(e: RunEvent) { seen.push(e.type); if (e.type !== 'run-end') throw new Error(`display crashed on ${e.type}`); } };
    try {
      const s = await executePipeline(g, ws, { jobs: 1, keepGoing: false, wait: true, argv: [], reporter });
      expect({ ran: s.ran, failed: s.failed }).toEqual({ ran: 2, failed: 0 });
    } finally {
      ws.close();
    }
    expect(seen).toContain('run-end');
    const st = await statusOf(dir, 'p.yaml');
    expect(st.a!.state).toBe('fresh');
    expect(st.b!.state).toBe('fresh');
    expect(existsSync(join(dir, 'artifacts/rep/b/out.txt')) && readFileSync(join(dir, 'artifacts/rep/b/out.txt'), 'utf8')).toBe('a\n');
  });
});
