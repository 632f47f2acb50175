/**
 * The remote cache with the Slurm executor: the coordinator looks results up on the remote
 * before it submits anything, and pushes what the jobs computed. Required where CI=true (like
 * test/engine/slurm.test.ts); elsewhere it skips with the reason printed.
 */
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRequirement } from '../../src/lib/system/requirements.js';
import { pipeWithEnv, project, summary } from '../engine/helpers.js';

const slurm = await checkRequirement('slurm');
const required = process.env.CI === 'true' || (process.env.PIPE_REQUIRE ?? '').split(',').map((s) => s.trim()).includes('slurm');
if (slurm.status !== 'ok' && !required) console.log(`slurm-remote.test.ts: skipping: ${slurm.detail} (fix: ${slurm.fix})`);

const PIPELINE = `name: dag
resources: {time: "5", mem: 128M}
params: {k: 2}
stages:
  gen:
    kind: command
    params: {cmd: 'seq 1 50 > \${outputs.nums}', outs: {nums: text}}
  scale:
    kind: command
    inputs: {nums: gen.nums}
    params:
      cmd: 'awk -v k=\${params.k} "{print \\$1 * k}" \${inputs.nums} > \${outputs.out}'
      outs: {out: text}
`;

const jobs = (dir: string) => {
  const db = new Database(join(dir, 'cache/pipe.db'), { readonly: true });
  try { return (db.prepare('SELECT stage_id FROM slurm_jobs').all() as { stage_id: string }[]).map((r) => r.stage_id); } finally { db.close(); }
};

describe.runIf(slurm.status === 'ok' || required)('remote cache with the Slurm executor', () => {
  it('the coordinator pulls before it submits, and pushes what the jobs computed', { timeout: 150_000 }, async () => {
    expect(slurm.status, `${slurm.detail}; fix: ${slurm.fix}`).toBe('ok');
    const remote = mkdtempSync(join(tmpdir(), 'pipe-remote-'));
    const mk = () => project({ 'p.yaml': PIPELINE, 'pipe.config.json': JSON.stringify({ remotes: { team: { type: 'dir', path: remote } }, remote: 'team' }) });
    const env = (dir: string) => ({ XDG_CONFIG_HOME: join(dir, '.config'), PIPE_CONFIG: undefined });
    const a = mk();
    const ra = await pipeWithEnv(a, env(a), 'run', 'p.yaml');
    expect(ra.code, ra.stderr).toBe(0);
    const b = mk();
    const rb = await pipeWithEnv(b, env(b), 'run', 'p.yaml', '--executor', 'slurm', '--set', 'k=3');
    expect(rb.code, rb.stderr).toBe(0);
    expect(summary(rb)).toEqual({ ran: 1, cached: 1, failed: 0 });
    expect(rb.stdout).toMatch(/1 of the cached from the remote/);
    expect(jobs(b)).toEqual(['scale']); // gen came from the remote: never submitted
    const c = mk();
    const rc = await pipeWithEnv(c, env(c), 'run', 'p.yaml', '--set', 'k=3');
    expect(summary(rc)).toEqual({ ran: 0, cached: 2, failed: 0 });
    expect(rc.stdout).toMatch(/2 of the cached from the remote/);
  });
});
