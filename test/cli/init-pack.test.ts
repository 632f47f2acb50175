/**
 * `pipe init` as a new user meets it, from the packed tarball (`npm pack`): init in an empty
 * directory, then `pipe run` from a subdirectory (the root is found by walking up), the
 * project's TypeScript kind and Python stages working, and the same project kind working in a
 * package without "type": "module". The tarball's dependencies are not fetched (tests stay off
 * the network): the extracted package links this checkout's node_modules, as `npm install` would
 * have installed them.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../engine/helpers.js';

const env = { ...process.env, CI: 'true', FORCE_COLOR: '0', PIPE_PYTHON: '/usr/bin/python3', PIPE_ROOT: undefined };
delete env.PIPE_ROOT;

function install(tgz: string, into: string): string {
  const pkg = join(into, 'node_modules', 'pipe-ml');
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', pkg, '--strip-components=1']);
  symlinkSync(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'));
  mkdirSync(join(into, 'node_modules', '.bin'), { recursive: true });
  symlinkSync('../pipe-ml/bin/pipe.js', join(into, 'node_modules', '.bin', 'pipe'));
  return join(into, 'node_modules', '.bin', 'pipe');
}

function pipeAt(bin: string, cwd: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [bin, ...args], { cwd, env });
    let stdout = '', stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => res({ code, stdout, stderr }));
  });
}

describe('pipe init from the packed tarball', () => {
  let base: string;
  let tgz: string;
  let exp: string;
  let bin: string;
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'pipe-init-'));
    // dist/ is built before the tests (npm test); --ignore-scripts skips a second tsc
    const name = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', base], { cwd: repoRoot, encoding: 'utf8' }).trim().split('\n').pop()!;
    tgz = join(base, name);
    const tool = install(tgz, join(base, 'npx-cache'));
    exp = join(base, 'empty', 'myexp');
    mkdirSync(join(base, 'empty'));
    const r = execFileSync(process.execPath, [tool, 'init', 'myexp'], { cwd: join(base, 'empty'), env, encoding: 'utf8' });
    expect(r).toMatch(/created 7 files in myexp/);
    bin = install(tgz, exp);
  }, 120_000);

  it('ships the Python helper and the files a project needs', () => {
    const files = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n');
    expect(files).toContain('package/python/pipe_stage/__init__.py');
    expect(files).toContain('package/dist/cli/init.js');
    expect(readdirSync(exp).sort()).toEqual(['.gitignore', 'README.md', 'node_modules', 'package.json', 'pipelines', 'scripts', 'stages']);
    const pj = JSON.parse(readFileSync(join(exp, 'package.json'), 'utf8'));
    expect(pj.type).toBe('module');
    expect(pj.dependencies['pipe-ml']).toMatch(/^\^\d+\.\d+\.\d+/);
  });

  it('runs from a subdirectory: the built-in kinds, the TS kind and the Python stages', async () => {
    const r = await pipeAt(bin, join(exp, 'pipelines'), 'run', 'example.yaml');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/14 ran, 0 cached, 0 failed/);
    expect(existsSync(join(exp, 'cache', 'pipe.db'))).toBe(true);
    expect(existsSync(join(exp, 'pipelines', 'cache'))).toBe(false);
    const folds = JSON.parse(readFileSync(join(exp, 'artifacts/example/summary/table.json'), 'utf8')) as { fold: number; accuracy: number }[];
    expect(folds.map((f) => f.fold)).toEqual([0, 1, 2]);
    for (const f of folds) expect(f.accuracy).toBeGreaterThan(0.8);
    const show = JSON.parse((await pipeAt(bin, exp, 'show', 'clip[fold=0]', '--json')).stdout);
    expect(show.metrics.clipped).toBeGreaterThanOrEqual(0);
  }, 120_000);

  it('from one folder up the root is found from the pipeline file; --root overrides', async () => {
    const up = join(base, 'empty');
    const st = await pipeAt(bin, up, 'status', 'myexp/pipelines/example.yaml', '--json');
    expect(st.code, st.stderr).toBe(0);
    expect((JSON.parse(st.stdout) as { state: string }[]).every((s) => s.state === 'fresh')).toBe(true);
    expect(existsSync(join(up, 'cache'))).toBe(false);
    // --root wins over the walk: a root without the project's kinds cannot load its pipeline
    const other = join(base, 'elsewhere');
    mkdirSync(other);
    const st2 = await pipeAt(bin, join(exp, 'pipelines'), '--root', other, 'status', 'example.yaml');
    expect(st2.code).toBe(2);
    expect(st2.stderr).toMatch(/unknown stage kind 'clip'|unknown kind 'clip'/);
    const st3 = await pipeAt(bin, other, '--root', exp, 'status', join(exp, 'pipelines/example.yaml'), '--json');
    expect((JSON.parse(st3.stdout) as { state: string }[]).every((s) => s.state === 'fresh')).toBe(true);
  }, 60_000);

  it('the project kind works in a package without "type": "module"', async () => {
    const pjPath = join(exp, 'package.json');
    const pj = JSON.parse(readFileSync(pjPath, 'utf8'));
    delete pj.type;
    writeFileSync(pjPath, JSON.stringify(pj, null, 2));
    const r = await pipeAt(bin, exp, 'run', 'pipelines/example.yaml', '--force', 'clip');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 ran, 11 cached, 0 failed/);
  }, 120_000);
});
