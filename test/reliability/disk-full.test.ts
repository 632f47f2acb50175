/**
 * A full disk: the stage that hit it fails naming where it was writing and the free space, is
 * recorded failed (the partial output is removed first, so the index can take the write), the
 * coordinator exits cleanly (no stack trace), and after space is freed the next run recovers,
 * keeping every finished stage. On a real small filesystem: a tmpfs mounted by the test (root
 * only; on CI it must work, elsewhere the test says why it skips).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipe, statusOf, summary } from '../engine/helpers.js';

const mnt = mkdtempSync(join(tmpdir(), 'pipe-tmpfs-'));
let mounted = false;
let why = '';
// as root, or through passwordless sudo (as .ci/run installs packages)
const asRoot = (cmd: string, args: string[]) => (process.getuid?.() === 0 ? execFileSync(cmd, args, { stdio: 'pipe' }) : execFileSync('sudo', ['-n', cmd, ...args], { stdio: 'pipe' }));
try {
  asRoot('mount', ['-t', 'tmpfs', '-o', `size=8m,uid=${process.getuid?.() ?? 0}`, 'tmpfs', mnt]);
  mounted = true;
} catch (e) {
  why = String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim();
}
if (!mounted) {
  if (process.env.CI) throw new Error(`disk-full test: cannot mount a tmpfs on CI: ${why}`);
  console.warn(`test/reliability/disk-full: SKIPPED, mounting a tmpfs is not permitted here (${why})`);
}

describe.skipIf(!mounted)('a full disk', () => {
  afterAll(() => { try { asRoot('umount', [mnt]); } catch { /* already gone */ } rmSync(mnt, { recursive: true, force: true }); });

  it('fails the stage that hit it with the path and free space, exits cleanly, and the next run recovers after space is freed', async () => {
    const dir = join(mnt, 'proj');
    mkdirSync(dir);
    writeFileSync(join(dir, 'p.yaml', ), `
name: full
stages:
  small:
    kind: command
    params: {cmd: 'head -c 100000 /dev/zero > \${outputs.out}', outs: {out: file}}
  big:
    kind: generate-synthetic
    params: {generator: health_risk, n: 200000}
`);
    // fill the filesystem but for ~2 MB: the index and the small stages fit, the big table does not
    const filler = join(mnt, 'filler');
    execFileSync('sh', ['-c', `head -c ${5 * 1024 * 1024} /dev/zero > ${filler}`]);
    const r1 = await pipe(dir, 'run', 'p.yaml', '--jobs', '1');
    expect(r1.code, r1.stdout + r1.stderr).toBe(1);
    expect(r1.stderr).toMatch(/big failed: disk full writing the stage's outputs in .* \(.* free\)/);
    expect(r1.stderr).not.toMatch(/internal error|\n\s+at /);
    const st = await statusOf(dir, 'p.yaml');
    expect(st.big!.state).toBe('failed');
    expect(st.small!.state).toBe('fresh');

    rmSync(filler);
    const r2 = await pipe(dir, 'run', 'p.yaml');
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(summary(r2)).toEqual({ ran: 1, cached: 1, failed: 0 });
  }, 120_000);
});
