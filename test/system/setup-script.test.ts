/**
 * scripts/setup-system.sh against a fake machine: `dpkg`, `apt-get`, `id` and `sudo` are shell
 * stubs on PATH that report a chosen set of installed packages and log what they were asked to
 * do, so the script's decisions (what is missing, apt-get or sudo apt-get, nothing at all) are
 * checked exactly, without touching the real system.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../engine/helpers.js';

const SCRIPT = join(repoRoot, 'scripts', 'setup-system.sh');
const ALL = ['libopenblas-dev', 'gcc', 'libc6-dev', 'libxgboost0', 'fonts-dejavu-core'];

function fakeMachine(opts: { installed: string[]; uid?: number; sudo?: boolean; os?: string }): { run: (...args: string[]) => { code: number | null; out: string; log: string[] } } {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-setup-'));
  const bin = join(dir, 'bin');
  const log = join(dir, 'calls.log');
  spawnSync('mkdir', ['-p', bin]);
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('dpkg', `[ "$1" = -s ] || exit 2\ncase " ${opts.installed.join(' ')} " in *" $2 "*) echo "Package: $2"; echo "Status: install ok installed"; exit 0;; esac\necho "dpkg-query: package '$2' is not installed" >&2; exit 1`);
  stub('apt-get', `echo "apt-get $*" >> ${log}`);
  stub('id', `[ "$1" = -u ] && echo ${opts.uid ?? 0}`);
  if (opts.sudo) stub('sudo', `echo "sudo $1" >> ${log}; exec "$@"`);
  const osRelease = join(dir, 'os-release');
  writeFileSync(osRelease, opts.os ?? 'ID=debian\nVERSION_ID="12"\n');
  return {
    run: (...args: string[]) => {
      // PATH: the stubs, then only what bash itself needs (grep, sed, uname, env) — no real dpkg/apt-get/sudo
      const r = spawnSync('/bin/bash', [SCRIPT, ...args], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, PIPE_OS_RELEASE: osRelease } });
      return { code: r.status, out: r.stdout + r.stderr, log: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [] };
    },
  };
}

describe('scripts/setup-system.sh', () => {
  it('--dry-run lists exactly the missing packages and installs nothing', () => {
    const m = fakeMachine({ installed: ['gcc', 'libc6-dev', 'fonts-dejavu-core'] });
    const r = m.run('--dry-run');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^setup-system: missing: libopenblas-dev libxgboost0$/m);
    expect(r.out).toContain('would run: apt-get update -qq && env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libopenblas-dev libxgboost0');
    expect(r.log).toEqual([]);
  });

  it('--with-test-deps adds chromium, python3-numpy, python3-torch and tmux, and only when they are missing', () => {
    expect(fakeMachine({ installed: ALL }).run('--dry-run', '--with-test-deps').out).toMatch(/missing: chromium python3-numpy python3-torch tmux$/m);
    expect(fakeMachine({ installed: [...ALL, 'python3-numpy', 'python3-torch', 'tmux'] }).run('--dry-run', '--with-test-deps').out).toMatch(/missing: chromium$/m);
    const r = fakeMachine({ installed: [...ALL, 'chromium', 'python3-numpy', 'python3-torch', 'tmux'] }).run('--dry-run', '--with-test-deps');
    expect(r.out).toMatch(/all system packages present/);
  });

  it('does nothing when everything is present', () => {
    const r = fakeMachine({ installed: ALL }).run();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/all system packages present/);
    expect(r.log).toEqual([]);
  });

  it('as root it runs apt-get update and installs the missing packages', () => {
    const r = fakeMachine({ installed: ['gcc', 'libc6-dev'] }).run();
    expect(r.code, r.out).toBe(0);
    expect(r.log).toEqual([
      'apt-get update -qq',
      'apt-get install -y -qq --no-install-recommends libopenblas-dev libxgboost0 fonts-dejavu-core',
    ]);
  });

  it('not root: goes through sudo and says so', () => {
    const r = fakeMachine({ installed: ALL.filter((p) => p !== 'libxgboost0'), uid: 1000, sudo: true }).run();
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/not root, so apt-get runs through sudo/);
    expect(r.log).toEqual(['sudo apt-get', 'apt-get update -qq', 'sudo env', 'apt-get install -y -qq --no-install-recommends libxgboost0']);
  });

  it('not root and no sudo: exits 1 with the command to run as root', () => {
    const r = fakeMachine({ installed: ['gcc'], uid: 1000 }).run();
    expect(r.code).toBe(1);
    expect(r.out).toContain('apt-get install -y --no-install-recommends libopenblas-dev libc6-dev libxgboost0 fonts-dejavu-core');
    expect(r.log).toEqual([]);
  });

  it('elsewhere it prints the dnf / brew equivalents and changes nothing', () => {
    const r = fakeMachine({ installed: [], os: 'ID=fedora\nID_LIKE="rhel centos"\n' }).run();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/not a Debian\/Ubuntu system \(fedora\)/);
    expect(r.out).toMatch(/dnf install openblas-devel gcc glibc-devel dejavu-sans-fonts/);
    expect(r.log).toEqual([]);
  });

  it('.ci/run installs through this same script (one package list)', () => {
    const ci = readFileSync(join(repoRoot, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/scripts\/setup-system\.sh --with-test-deps/);
    expect(ci).not.toMatch(/apt-get install/);
  });
});
