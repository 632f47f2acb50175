/**
 * End to end, as a researcher uses pipe: a project outside this repository, pipe installed into
 * it from the packed tarball (`npm pack`), the project's own TypeScript kind in stages/ and a
 * pipeline in pipelines/. Run, edit a file the kind imports, `status` says why, the rerun
 * recomputes only that kind's stages.
 *
 * The install is offline and self-contained: `npm ci --offline` against a lock file derived from
 * pipe's own (same dependency tree), served from the npm cache that `npm ci` of this repository
 * filled. Install scripts are skipped (pipe's native blas build is not needed here); the one
 * compiled dependency, better-sqlite3, gets the binary this checkout built — what its install
 * script (prebuild-install) would otherwise download for the same version and Node ABI.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../engine/helpers.js';

const kind = `import { defineStage } from 'pipe-ml';
import { double } from './lib/math.js';

export default defineStage<{ factor: number }>({
  kind: 'scale',
  version: '1',
  description: 'multiply a number',
  paramsSchema: { type: 'object', properties: { factor: { type: 'number', default: 2 } }, additionalProperties: false },
  inputs: { x: { type: 'text' } },
  outputs: { out: { type: 'text' } },
  async run(ctx) {
    const v = Number((await ctx.input('x').readText()).trim());
    await ctx.output('out').writeText(String(double(v * ctx.params.factor)) + '\\n');
  },
});
`;

const pipeline = `name: proj
stages:
  src:
    kind: command
    params: {cmd: 'echo 5 > \${outputs.out}', outs: {out: text}}
  scale:
    kind: scale
    matrix: {factor: [1, 2, 3]}
    inputs: {x: src.out}
    params: {factor: '\${matrix.factor}'}
  other:
    kind: split
    inputs: {table: gen.table}
    params: {method: holdout}
  gen:
    kind: generate-synthetic
    params: {generator: study_success, n: 200}
`;

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('pipe installed from its npm tarball into a user project', () => {
  it('runs the project\'s own kind; a code edit recomputes exactly that kind\'s stages', { timeout: 120_000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'pipe-packed-'));
    const t0 = Date.now();
    sh('npm', ['pack', '--ignore-scripts', '--pack-destination', work], repoRoot); // dist/ is built (npm test builds first)
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    const proj = join(work, 'proj');
    mkdirSync(join(proj, 'stages', 'lib'), { recursive: true });
    mkdirSync(join(proj, 'pipelines'));
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'pipe-user-project', private: true, type: 'module', dependencies: { 'pipe-ml': `file:../${tarball}` } }));
    const integrity = 'sha512-' + createHash('sha512').update(readFileSync(join(work, tarball))).digest('base64');
    writeFileSync(join(proj, 'package-lock.json'), sh(process.execPath, [join(repoRoot, 'test/system/packed-lock.mjs'), repoRoot, `../${tarball}`, integrity], proj));
    sh('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], proj);
    cpSync(join(repoRoot, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), join(proj, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'));
    const installMs = Date.now() - t0;
    console.log(`packed-tarball install: ${(installMs / 1000).toFixed(1)} s`);
    // the installed pipe starts its coordinator's bundle: mtimes reset by the tarball, and
    // better-sqlite3 (whose JavaScript the bundle carries) hoisted beside it, are no reason not to
    const installed = join(proj, 'node_modules', 'pipe-ml');
    const { coordinatorEntry } = await import(pathToFileURL(join(installed, 'bin', 'entry.mjs')).href) as typeof import('../../bin/entry.mjs');
    expect(coordinatorEntry(pathToFileURL(join(installed, 'dist') + '/')).bundled).toBe(true);

    writeFileSync(join(proj, 'stages/scale.ts'), kind);
    writeFileSync(join(proj, 'stages/lib/math.ts'), 'export const double = (n: number): number => n * 2;\n');
    writeFileSync(join(proj, 'pipelines/p.yaml'), pipeline);
    const pipe = (...args: string[]) => spawnSync(join(proj, 'node_modules/.bin/pipe'), args, { cwd: proj, encoding: 'utf8', env: { ...process.env, CI: 'true' } });

    const kinds = pipe('kinds');
    expect(kinds.status, kinds.stderr).toBe(0);
    expect(kinds.stdout).toMatch(/^scale\s+v1\s+project stages\/scale\.ts/m);
    const r1 = pipe('run', 'pipelines/p.yaml');
    expect(r1.status, r1.stderr + r1.stdout).toBe(0);
    expect(r1.stdout).toMatch(/^6 ran, 0 cached, 0 failed/m);
    expect(readFileSync(join(proj, 'artifacts/proj/scale[factor=3]/out.txt'), 'utf8')).toBe('30\n');

    writeFileSync(join(proj, 'stages/lib/math.ts'), 'export const double = (n: number): number => n * 2 + 1;\n');
    const st = pipe('status', 'pipelines/p.yaml', '--json');
    expect(st.status, st.stderr).toBe(0);
    const rows = JSON.parse(st.stdout) as { id: string; state: string; reasons: { code: string; files?: string[]; text: string }[] }[];
    const stale = rows.filter((r) => r.state !== 'fresh');
    expect(stale.map((r) => r.id).sort()).toEqual(['scale[factor=1]', 'scale[factor=2]', 'scale[factor=3]']);
    for (const r of stale) expect(r.reasons).toEqual([{ code: 'code-changed', files: ['stages/lib/math.ts'], text: 'code changed: stages/lib/math.ts' }]);

    const r2 = pipe('run', 'pipelines/p.yaml');
    expect(r2.status, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/^3 ran, 3 cached, 0 failed/m);
    expect(readFileSync(join(proj, 'artifacts/proj/scale[factor=3]/out.txt'), 'utf8')).toBe('31\n');
  });
});
