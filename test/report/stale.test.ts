/**
 * A report built with `--set` describes that configuration only: a downstream stage that last
 * ran under another value is shown as not current (left out of the summary with a note, struck
 * through in the results), never as the answer.
 */
import { describe, it, expect } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipe, project } from '../engine/helpers.js';

const PIPELINE = `name: stale
params:
  lr: 0.001
report:
  headline: [summary.out]
stages:
  train:
    kind: command
    params: {cmd: 'echo "{\\\\"score\\\\": \${params.lr}}" > \${outputs.out}', outs: {out: json}}
  summary:
    kind: command
    inputs: {m: train.out}
    params: {cmd: 'printf "| lr | score |\\\\n|---|---:|\\\\n| \${params.lr} | SCORE-\${params.lr} |\\\\n" > \${outputs.out}', outs: {out: text}}
`;

describe('pipe report --set with a stale downstream stage', () => {
  it('never shows the earlier configuration’s summary as current', async () => {
    const dir = project({ 'p.yaml': PIPELINE });
    const r0 = await pipe(dir, 'run', 'p.yaml');
    expect(r0.code, r0.stderr).toBe(0);
    // fresh: the summary is the answer
    await pipe(dir, 'report', 'p.yaml', '-o', 'r0');
    const fresh = await readFile(join(dir, 'r0', 'index.html'), 'utf8');
    expect(fresh).toContain('SCORE-0.001');
    expect(fresh).not.toContain('not current');
    // only the upstream stage reruns under lr=0.003; summary stays at lr=0.001
    const r1 = await pipe(dir, 'run', 'p.yaml', '--set', 'lr=0.003', '--only', 'train');
    expect(r1.code, r1.stderr).toBe(0);
    const r2 = await pipe(dir, 'report', 'p.yaml', '--set', 'lr=0.003', '-o', 'r1');
    expect(r2.code, r2.stderr).toBe(0);
    const html = await readFile(join(dir, 'r1', 'index.html'), 'utf8');
    const summary = html.slice(html.indexOf('<section id="summary">'), html.indexOf('</section>', html.indexOf('<section id="summary">')));
    expect(summary).not.toContain('SCORE-0.001');
    expect(summary).toContain('not current');
    expect(summary).toMatch(/<code>summary<\/code> is stale: built under an earlier configuration \(params.cmd changed .*input m changed/);
    expect(html).toContain('<b>1 of 2 stage instances not current</b>');
    const md = await readFile(join(dir, 'r1', 'REPORT.md'), 'utf8');
    expect(md).not.toContain('SCORE-0.001');
    expect(md).toContain('**not current** — `summary` is stale');
  });
});
