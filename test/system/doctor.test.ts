/**
 * `pipe doctor` through the CLI: with the libraries hidden it reports them missing with the fix
 * and exits 1; what no installed pipeline needs does not fail it; a damaged cache database is
 * reported; `--json` carries the same rows.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeWithEnv, project, repoRoot } from '../engine/helpers.js';
import type { DoctorReport } from '../../src/cli/doctor.js';

const hidden = (dir: string) => ({ PIPE_LIBXGBOOST: join(dir, 'nowhere', 'libxgboost.so'), PIPE_BLAS_DISABLE: '1', PIPE_DATA_MIRROR: undefined });

describe('pipe doctor', () => {
  it('libraries hidden: both reported missing with the fix and the pipelines that need them; exit 1', async () => {
    const dir = project({});
    cpSync(join(repoRoot, 'pipelines'), join(dir, 'pipelines'), { recursive: true });
    const r = await pipeWithEnv(dir, hidden(dir), 'doctor', '--json');
    expect(r.code, r.stderr).toBe(1);
    const rep = JSON.parse(r.stdout) as DoctorReport;
    expect(rep.ok).toBe(false);
    const by = Object.fromEntries(rep.checks.map((c) => [c.name, c]));
    expect(by.libxgboost).toMatchObject({ status: 'missing', required: true, fix: 'point PIPE_LIBXGBOOST at a libxgboost shared library, or unset it' });
    expect(by.libxgboost!.neededBy).toEqual(expect.arrayContaining(['actmix_cv (xgboost)', 'actmix_quick (xgboost)']));
    expect(by.blas).toMatchObject({ status: 'missing', required: true, fix: 'unset PIPE_BLAS_DISABLE' });
    expect(by.blas!.neededBy).toEqual(expect.arrayContaining(['actmix_quick (train)']));
    expect(by.node!.status).toBe('ok');
    expect(rep.pipelines.map((p) => p.name)).toEqual(expect.arrayContaining(['actmix_cv', 'actmix_quick']));

    const text = await pipeWithEnv(dir, hidden(dir), 'doctor');
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/MISSING\s+libxgboost/);
    expect(text.stdout).toMatch(/fix: point PIPE_LIBXGBOOST at a libxgboost shared library/);
    expect(text.stdout).toMatch(/MISSING\s+blas/);
    expect(text.stdout).toMatch(/problem\(s\) to fix: blas, libxgboost/);
  }, 60_000);

  it('what the installed pipelines do not use is reported but does not fail; a damaged cache is', async () => {
    const dir = project({
      'pipelines/p.yaml': 'name: p\nstages:\n  s:\n    kind: generate-synthetic\n    params: {generator: synthetic_2d, per_cluster: 5}\n',
    });
    const r = await pipeWithEnv(dir, hidden(dir), 'doctor', '--json');
    expect(r.code, r.stdout).toBe(0);
    const rep = JSON.parse(r.stdout) as DoctorReport;
    const by = Object.fromEntries(rep.checks.map((c) => [c.name, c]));
    expect(by.libxgboost).toMatchObject({ status: 'missing', required: false, neededBy: [] });
    expect(by.cache).toMatchObject({ status: 'ok' });

    mkdirSync(join(dir, 'cache'), { recursive: true });
    writeFileSync(join(dir, 'cache', 'pipe.db'), 'this is not an SQLite database, just some bytes '.repeat(200));
    const bad = await pipeWithEnv(dir, hidden(dir), 'doctor', '--json');
    expect(bad.code).toBe(1);
    const cache = (JSON.parse(bad.stdout) as DoctorReport).checks.find((c) => c.name === 'cache')!;
    expect(cache.status).toBe('degraded');
    expect(cache.detail).toMatch(/not a database|malformed|quick_check/);
    expect(cache.fix).toMatch(/npx pipe doctor --repair \(rebuilds the index from the store; nothing is recomputed\)/);
  }, 60_000);

  it('a data mirror that is not a directory is a problem when it is set', async () => {
    const dir = project({ 'pipelines/p.yaml': 'name: p\nstages:\n  s:\n    kind: generate-synthetic\n    params: {generator: synthetic_2d}\n' });
    const r = await pipeWithEnv(dir, { ...hidden(dir), PIPE_DATA_MIRROR: join(dir, 'no-mirror') }, 'doctor', '--json');
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as DoctorReport).checks.find((c) => c.name === 'data-mirror')).toMatchObject({ status: 'missing', detail: 'not a directory' });
    const ok = await pipeWithEnv(dir, { ...hidden(dir), PIPE_DATA_MIRROR: join(repoRoot, '..', 'shared', 'datasets') }, 'doctor', '--json');
    expect((JSON.parse(ok.stdout) as DoctorReport).checks.find((c) => c.name === 'data-mirror')).toMatchObject({ status: 'ok', detail: 'has adult, magic, ccpp, mnist' });
  }, 60_000);
});
