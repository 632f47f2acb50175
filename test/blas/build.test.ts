/**
 * The native build fails soft (npm ci must not break without OpenBLAS), and without the library
 * the loader reports the `blas` backend as unavailable with a reason instead of throwing at import.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { blasStatus } from '../../src/lib/ml/blas/native.js';

const root = new URL('../..', import.meta.url).pathname;
const build = join(root, 'native', 'build.mjs');

describe('native build and loader', () => {
  it('without OpenBLAS the build prints that blas is unavailable and exits 0 (1 with --strict)', () => {
    const out = mkdtempSync(join(tmpdir(), 'pipe-native-'));
    try {
      const env = { ...process.env, PIPE_OPENBLAS: '/nonexistent/libopenblas.so.0', PIPE_NATIVE_OUT: out };
      const soft = spawnSync(process.execPath, [build], { env, encoding: 'utf8' });
      expect(soft.status).toBe(0);
      expect(soft.stdout).toMatch(/blas backend unavailable: OpenBLAS not found/);
      expect(existsSync(join(out, 'libpipe_blas.so'))).toBe(false);
      const strict = spawnSync(process.execPath, [build, '--strict'], { env, encoding: 'utf8' });
      expect(strict.status).toBe(1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('PIPE_BLAS_DISABLE makes the loader report unavailability (no throw at import)', () => {
    const script = `import('${join(root, 'src/lib/ml/blas/native.ts')}').then((m) => console.log(JSON.stringify(m.blasStatus())))`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, PIPE_BLAS_DISABLE: '1' }, encoding: 'utf8', cwd: root });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ available: false, reason: expect.stringMatching(/disabled by PIPE_BLAS_DISABLE/) });
  });

  it.skipIf(!blasStatus().available)('with OpenBLAS the library loads and reports its version', () => {
    const s = blasStatus();
    expect(s).toMatchObject({ available: true, openblas: expect.stringMatching(/^\d+\.\d+/) });
  });
});
