import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { codes, pipe, pipeWithEnv, project, statusOf } from './helpers.js';

// A project kind whose runtime facts come from the environment (to change one on purpose).
const probe = `export default {
  kind: 'probe', version: '1', description: 'copies its input, with a runtime fact',
  paramsSchema: { type: 'object', properties: {}, additionalProperties: false },
  inputs: { x: { type: 'text' } }, outputs: { out: { type: 'text' } },
  runtime: () => ({ mode: process.env.PROBE_MODE ?? 'a' }),
  async run(ctx) { await ctx.output('out').writeText(await ctx.input('x').readText()); },
};
`;
const yaml = (word = 'one', extra = '') => `
name: reasons
seed: 1
stages:
  src:
    kind: command
    params: {cmd: 'echo ${word} > \${outputs.out}', outs: {out: text}}
  p:
    kind: probe
    inputs: {x: src.out}
  dep:
    kind: command
    params: {cmd: 'cat data.txt > \${outputs.out}', deps: [data.txt], outs: {out: text}}
${extra}`;

describe('status --json: every reason is {code, …fields, text}', () => {
  it('never-run, input-changed, seed-changed, runtime-changed, fingerprint-error, fingerprint-format-changed', async () => {
    const dir = project({ 'p.yaml': yaml(), 'stages/probe.mjs': probe, 'data.txt': 'x\n' });
    let st = await statusOf(dir, 'p.yaml');
    expect(st.src!.reasons).toEqual([{ code: 'never-run', text: 'never run' }]);
    expect(codes(st.p)).toEqual({ state: 'never-run', codes: ['never-run'] });
    expect((await pipe(dir, 'run', 'p.yaml')).code).toBe(0);

    // the producer reran with other bytes; the consumer is explained by input and producer
    const y2 = yaml('two');
    const { writeFileSync, rmSync } = await import('node:fs');
    writeFileSync(join(dir, 'p.yaml'), y2);
    expect((await pipe(dir, 'run', 'p.yaml', '--only', 'src')).code).toBe(0);
    st = await statusOf(dir, 'p.yaml');
    expect(st.p!.reasons).toEqual([{ code: 'input-changed', input: 'x', producers: ['src.out'], change: 'content', text: 'input x changed (from src.out)' }]);
    expect((await pipe(dir, 'run', 'p.yaml')).code).toBe(0);

    st = await statusOf(dir, 'p.yaml', '--set', 'seed=2');
    // the seed is every stage's: src is stale too, and p says both
    expect(st.src!.reasons).toEqual([{ code: 'seed-changed', before: 1, after: 2, text: 'seed changed 1 → 2' }]);
    expect(st.p!.reasons).toMatchObject([{ code: 'seed-changed', before: 1, after: 2 }, { code: 'upstream-stale', upstream: [{ stage: 'src', input: 'x', state: 'stale' }], text: 'input x: src is stale' }]);

    const r = await pipeWithEnv(dir, { PROBE_MODE: 'b' }, 'status', 'p.yaml', '--json');
    const p = (JSON.parse(r.stdout) as { id: string; reasons: unknown[] }[]).find((s) => s.id === 'p')!;
    expect(p.reasons).toEqual([{ code: 'runtime-changed', key: 'mode', before: 'a', after: 'b', text: 'runtime.mode changed "a" → "b"' }]);

    rmSync(join(dir, 'data.txt'));
    st = await statusOf(dir, 'p.yaml');
    expect(codes(st.dep)).toEqual({ state: 'stale', codes: ['fingerprint-error'] });
    expect(st.dep!.reasons[0]!.text).toContain("dependency file 'data.txt' does not exist");
    writeFileSync(join(dir, 'data.txt'), 'x\n');

    // a result recorded by an older pipe (FingerprintData format 1): a miss with a reason, never a crash
    const db = new Database(join(dir, 'cache/pipe.db'));
    const row = db.prepare(`SELECT id, fp_data FROM executions WHERE stage_id = 'src' AND state = 'done' ORDER BY id DESC LIMIT 1`).get() as { id: number; fp_data: string };
    const old = { ...JSON.parse(row.fp_data), format: 1 };
    delete old.code;
    db.prepare(`UPDATE executions SET fp_data = ?, fingerprint = 'old-' || fingerprint WHERE stage_id = 'src'`).run(JSON.stringify(old));
    db.close();
    st = await statusOf(dir, 'p.yaml');
    expect(st.src!.reasons).toEqual([{ code: 'fingerprint-format-changed', before: 1, after: 3, text: 'fingerprint format changed 1 → 3' }]);
    expect(codes(st.p)).toEqual({ state: 'stale', codes: ['upstream-stale'] });
    const run = await pipe(dir, 'run', 'p.yaml');
    expect(run.code, run.stderr).toBe(0);
    expect((await statusOf(dir, 'p.yaml')).src!.state).toBe('fresh');
  });

  it('--dry-run gives the reasons in words, forced stages as forced', async () => {
    const dir = project({ 'p.yaml': yaml(), 'stages/probe.mjs': probe, 'data.txt': 'x\n' });
    expect((await pipe(dir, 'run', 'p.yaml')).code).toBe(0);
    const dry = await pipe(dir, 'run', 'p.yaml', '--dry-run', '--force', 'dep', '--set', 'seed=3');
    expect(dry.stdout).toContain('would run dep: forced (--force)');
    expect(dry.stdout).toContain('would run p: seed changed 1 → 3');
    expect(dry.stdout).toMatch(/^3 would run, 0 cached \(dry run\)$/m);
  });
});
