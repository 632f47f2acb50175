/**
 * Preflight: the needs of every stage about to run are checked before any stage starts.
 * Unit level with a fake checker (cached stages never block; each requirement is checked once;
 * `prefers` are warnings), then through the CLI: with libxgboost hidden, `pipe run` and
 * `--dry-run` of actmix_quick stop with exit 2 and the fix, and nothing runs.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { enforcePreflight, preflight } from '../../src/engine/exec/preflight.js';
import type { PlannedStage } from '../../src/engine/front/graph.js';
import type { CheckResult } from '../../src/lib/system/requirements.js';
import { PipeError } from '../../src/engine/errors.js';
import { pipeWithEnv, project, repoRoot } from '../engine/helpers.js';

function stage(id: string, needs: string[], prefers: string[] = []): PlannedStage {
  return { id, params: {}, kind: { kind: id.split('[')[0]!, needs: () => needs, prefers: () => prefers } } as unknown as PlannedStage;
}

function checker(bad: Record<string, CheckResult['status']>) {
  const calls: string[] = [];
  const check = async (name: string): Promise<CheckResult> => {
    calls.push(name);
    const status = bad[name] ?? 'ok';
    return { name, title: name, status, detail: status === 'ok' ? 'fine' : `${name} not found`, fix: status === 'ok' ? undefined : `install ${name}` };
  };
  return { check, calls };
}

describe('preflight (unit)', () => {
  it('blocks only on stages that will run, checks each requirement once, and names fix and stages', async () => {
    const stages = [stage('xgboost[fold=0]', ['libxgboost']), stage('xgboost[fold=1]', ['libxgboost']), stage('xgboost[fold=2]', ['libxgboost']), stage('plot', ['fonts'])];
    const { check, calls } = checker({ libxgboost: 'missing' });
    let asked = 0;
    const r = await preflight(stages, async () => { asked++; return new Set(['xgboost[fold=1]', 'xgboost[fold=2]', 'plot']); }, check);
    expect(calls.sort()).toEqual(['fonts', 'libxgboost']);
    expect(asked).toBe(1);
    expect(r.missing).toHaveLength(1);
    expect(r.missing[0]).toMatchObject({ requirement: 'libxgboost', stages: ['xgboost[fold=1]', 'xgboost[fold=2]'] });
    expect(() => enforcePreflight(r)).toThrow(PipeError);
    try { enforcePreflight(r); } catch (e) {
      expect((e as PipeError).exitCode).toBe(2);
      expect((e as PipeError).message).toContain('2 stages (xgboost[fold=1], xgboost[fold=2]) need libxgboost: install libxgboost');
      expect((e as PipeError).message).toContain('nothing was run');
    }
  });

  it('a missing requirement of cached stages only does not stop the run', async () => {
    const { check } = checker({ libxgboost: 'missing' });
    const r = await preflight([stage('xgboost', ['libxgboost']), stage('train', [])], async () => new Set(['train']), check);
    expect(r.missing).toEqual([]);
    expect(enforcePreflight(r)).toEqual([]);
  });

  it('when everything is present the run set is never computed (no-op reruns stay cheap)', async () => {
    const { check } = checker({});
    const r = await preflight([stage('xgboost', ['libxgboost'])], async () => { throw new Error('must not be asked'); }, check);
    expect(r).toEqual({ missing: [], warnings: [] });
  });

  it('a missing preference is a warning, not a stop', async () => {
    const { check } = checker({ blas: 'missing' });
    const r = await preflight([stage('train[m=a]', [], ['blas'])], async () => new Set(['train[m=a]']), check);
    expect(r.missing).toEqual([]);
    const w = enforcePreflight(r);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^warning: train\[m=a\] prefers blas: install blas/);
  });
});

describe('preflight through the CLI', () => {
  it('actmix_quick with libxgboost hidden: exit 2 before any stage runs, for run and --dry-run', async () => {
    const dir = project({});
    cpSync(join(repoRoot, 'pipelines'), join(dir, 'pipelines'), { recursive: true });
    const env = { PIPE_LIBXGBOOST: join(dir, 'no-such-libxgboost.so'), PIPE_DATA_MIRROR: join(repoRoot, '..', 'shared', 'datasets') };
    for (const extra of [['--dry-run'], []]) {
      const r = await pipeWithEnv(dir, env, 'run', 'pipelines/actmix_quick.yaml', ...extra);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toMatch(/cannot start: a requirement is missing; nothing was run/);
      expect(r.stderr).toMatch(/3 stages \(xgboost\[dataset=magic,fold=0\], xgboost\[dataset=magic,fold=1\], xgboost\[dataset=magic,fold=2\]\) need libxgboost: point PIPE_LIBXGBOOST at a libxgboost shared library, or unset it/);
      expect(r.stderr).toMatch(/npx pipe doctor/);
    }
    // nothing ran: no artifacts, no execution recorded
    expect(existsSync(join(dir, 'artifacts'))).toBe(false);
    if (existsSync(join(dir, 'cache', 'pipe.db'))) {
      const db = new Database(join(dir, 'cache', 'pipe.db'), { readonly: true });
      expect((db.prepare('SELECT COUNT(*) AS n FROM executions').get() as { n: number }).n).toBe(0);
      db.close();
    }
  }, 60_000);
});
