/**
 * The remote cache with the `dir` backend: two workspaces on one machine stand in for two
 * machines sharing a directory (NFS, a USB disk). B gets A's results without running anything,
 * byte for byte; every kind of damage on the remote is a miss with a warning, never a wrong result.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { files, TREE_STAGE } from './helpers.js';
import { pipe, project, startPipe, summary } from '../engine/helpers.js';

const PIPELINE = `name: shared
params: {n: 3}
stages:
  gen:
    kind: command
    params:
      cmd: "printf 'n=%s\\\\n' \${params.n} > \${outputs.out}"
      outs: {out: text}
${TREE_STAGE}  both:
    kind: command
    inputs: {g: gen.out, t: tree.d}
    params:
      cmd: "cat \${inputs.g} \${inputs.t}/a.txt \${inputs.t}/sub/b.txt > \${outputs.out}"
      outs: {out: text}
`;

function workspaceWith(remoteDir: string, push = 'auto'): string {
  return project({
    'pipelines/shared.yaml': PIPELINE,
    'pipe.config.json': JSON.stringify({ remotes: { team: { type: 'dir', path: remoteDir, push } }, remote: 'team' }),
  });
}


const remoteKeys = (root: string, sub: string) => Object.keys(files(join(root, sub)));

// the tests wait on their CLI runs (each its own remote and workspaces): they run side by side
describe.concurrent('remote cache: dir backend', () => {
  it('B pulls what A pushed and runs nothing; artifacts are byte-identical; status shows what the remote has', async () => {
    const remote = mkdtempSync(join(tmpdir(), 'pipe-remote-'));
    const a = workspaceWith(remote);
    const b = workspaceWith(remote);
    const ra = await pipe(a, 'run', 'pipelines/shared.yaml');
    expect(ra.code, ra.stderr).toBe(0);
    expect(summary(ra)).toMatchObject({ ran: 3 });
    // blobs first, manifests last: one manifest per stage, one tree for the directory output
    expect(remoteKeys(remote, 'results')).toHaveLength(3);
    expect(remoteKeys(remote, 'trees')).toHaveLength(1);
    expect(remoteKeys(remote, 'blobs').length).toBeGreaterThanOrEqual(4);
    expect(ra.stderr).toMatch(/remote 'team': 0 result\(s\) pulled .*3 pushed/);

    const st = await pipe(b, 'status', 'pipelines/shared.yaml');
    expect(st.stdout).toMatch(/gen\s+never-run.*\[on remote 'team': pipe pull fetches it\]/);
    expect(st.stdout).toMatch(/2 of them on remote 'team'/); // `both` has no fingerprint until its inputs exist

    const pl = await pipe(b, 'pull', 'pipelines/shared.yaml');
    expect(pl.code, pl.stderr).toBe(0);
    expect(pl.stdout).toMatch(/pulled 3 result\(s\) from remote 'team', 0 already local/);
    const rb = await pipe(b, 'run', 'pipelines/shared.yaml');
    expect(summary(rb)).toEqual({ ran: 0, cached: 3, failed: 0 });
    expect(files(join(b, 'artifacts'))).toEqual(files(join(a, 'artifacts')));
    expect(Object.keys(files(join(b, 'artifacts'))).length).toBeGreaterThanOrEqual(4);
    const show = await pipe(b, 'show', 'pipelines/shared.yaml', 'gen');
    expect(show.stdout + show.stderr).toMatch(/pulled from remote 'team'/);

    // a third workspace runs directly: hits from the remote, said so per stage and in the summary
    const c = workspaceWith(remote);
    const rc = await pipe(c, 'run', 'pipelines/shared.yaml', '--progress', 'plain');
    expect(summary(rc)).toEqual({ ran: 0, cached: 3, failed: 0 });
    expect(rc.stdout).toMatch(/3 of the cached from the remote/);
    expect(rc.stderr).toMatch(/↓ tree from remote 'team'/);
    const json = await pipe(c, 'run', 'pipelines/shared.yaml', '--set', 'n=4', '--progress', 'json');
    const ends = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; id?: string; outcome?: string; remote?: string }).filter((e) => e.event === 'end');
    expect(ends.find((e) => e.id === 'tree')).toMatchObject({ outcome: 'cached' });
    expect(ends.find((e) => e.id === 'gen')).toMatchObject({ outcome: 'ran' });
  }, 120_000);

  it('damage on the remote is a miss with a warning, and the recomputed push repairs it', async () => {
    const remote = mkdtempSync(join(tmpdir(), 'pipe-remote-'));
    const a = workspaceWith(remote);
    expect((await pipe(a, 'run', 'pipelines/shared.yaml')).code).toBe(0);
    const genOut = readFileSync(join(a, 'artifacts/shared/gen/out.txt'));
    const blobOf = (content: Buffer) => join(remote, 'blobs', createHash('sha256').update(content).digest('hex').slice(0, 2), createHash('sha256').update(content).digest('hex'));
    const genBlob = blobOf(genOut);
    expect(existsSync(genBlob)).toBe(true);

    // 1. a corrupted blob (same length, other bytes)
    writeFileSync(genBlob, Buffer.from(genOut.toString().replace('3', '9')));
    const b = workspaceWith(remote);
    const rb = await pipe(b, 'run', 'pipelines/shared.yaml');
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stderr).toMatch(/gen: the remote 'team' result cannot be used — output 'out': blob [0-9a-f]{12}… is damaged on the remote/);
    expect(summary(rb)).toEqual({ ran: 1, cached: 2, failed: 0 });
    expect(readFileSync(join(b, 'artifacts/shared/gen/out.txt'))).toEqual(genOut);
    expect(readFileSync(genBlob)).toEqual(genOut); // B's push repaired the blob

    // 2. a manifest that names a missing blob
    rmSync(blobOf(readFileSync(join(a, 'artifacts/shared/both/out.txt'))));
    const c = workspaceWith(remote);
    const rc = await pipe(c, 'run', 'pipelines/shared.yaml');
    expect(rc.stderr).toMatch(/both: the remote 'team' result cannot be used — output 'out': blob [0-9a-f]{12}… is missing on the remote/);
    expect(summary(rc)).toEqual({ ran: 1, cached: 2, failed: 0 });

    // 3. a half-written manifest (an upload cut off by a crash of a writer that did not rename)
    const manifests = remoteKeys(remote, 'results').map((k) => join(remote, 'results', k));
    for (const m of manifests) truncateSync(m, Math.floor(statSync(m).size / 2));
    const d = workspaceWith(remote);
    const rd = await pipe(d, 'run', 'pipelines/shared.yaml');
    expect(rd.code).toBe(0);
    expect(rd.stderr).toMatch(/is not valid JSON \(truncated or damaged\)/);
    expect(summary(rd)).toEqual({ ran: 3, cached: 0, failed: 0 });
    // ... and D's pushes replaced the damaged manifests: E gets every result from the remote
    const e = workspaceWith(remote);
    expect(summary(await pipe(e, 'run', 'pipelines/shared.yaml'))).toEqual({ ran: 0, cached: 3, failed: 0 });

    // 4. a missing manifest is a plain miss
    for (const m of remoteKeys(remote, 'results')) rmSync(join(remote, 'results', m));
    const f = workspaceWith(remote);
    const rf = await pipe(f, 'run', 'pipelines/shared.yaml');
    expect(summary(rf)).toEqual({ ran: 3, cached: 0, failed: 0 });
    expect(rf.stderr).not.toMatch(/cannot be used/);
  }, 180_000);

  it('two pushers of the same results at once leave one consistent copy', async () => {
    const remote = mkdtempSync(join(tmpdir(), 'pipe-remote-'));
    const a = workspaceWith(remote);
    const b = workspaceWith(remote);
    const [ra, rb] = await Promise.all([startPipe(a, ['run', 'pipelines/shared.yaml']).done, startPipe(b, ['run', 'pipelines/shared.yaml']).done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect(ra.stderr + rb.stderr).not.toMatch(/failed/);
    expect(remoteKeys(remote, 'results')).toHaveLength(3);
    expect(remoteKeys(remote, 'results').concat(remoteKeys(remote, 'blobs')).filter((k) => k.includes('.tmp-'))).toEqual([]);
    const c = workspaceWith(remote);
    const pl = await pipe(c, 'pull', 'pipelines/shared.yaml');
    expect(pl.stdout).toMatch(/pulled 3 result/);
    expect(files(join(c, 'artifacts'))).toEqual(files(join(a, 'artifacts')));
  }, 120_000);

  it('push: manual uploads only on `pipe push`; an unusable remote is an error, or a warning with --remote-optional', async () => {
    const remote = mkdtempSync(join(tmpdir(), 'pipe-remote-'));
    const a = workspaceWith(remote, 'manual');
    expect((await pipe(a, 'run', 'pipelines/shared.yaml')).code).toBe(0);
    expect(remoteKeys(remote, 'results')).toHaveLength(0);
    const p1 = await pipe(a, 'push', 'pipelines/shared.yaml', 'gen');
    expect(p1.code, p1.stderr).toBe(0);
    expect(p1.stdout).toMatch(/1 result\(s\) pushed/);
    const p2 = await pipe(a, 'push', 'pipelines/shared.yaml');
    expect(p2.stdout).toMatch(/2 result\(s\) pushed .*1 already there/);

    const gone = join(remote, 'not-mounted');
    const b = workspaceWith(gone);
    const bad = await pipe(b, 'run', 'pipelines/shared.yaml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/remote 'team' \(.*not-mounted\) cannot be used: the directory .*not-mounted does not exist/);
    expect(bad.stderr).toMatch(/--remote-optional/);
    const opt = await pipe(b, 'run', 'pipelines/shared.yaml', '--remote-optional');
    expect(opt.code).toBe(0);
    expect(opt.stderr).toMatch(/cannot be used .*working locally \(--remote-optional\)/);
    expect(summary(opt)).toMatchObject({ ran: 3 });
    const none = await pipe(b, 'run', 'pipelines/shared.yaml', '--no-remote');
    expect(none.code).toBe(0);
    const unknown = await pipe(b, 'run', 'pipelines/shared.yaml', '--remote', 'elsewhere');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/remote 'elsewhere' is not defined \(defined: team\)/);
  }, 120_000);
});
