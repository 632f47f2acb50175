/**
 * Test-only system packages (python3-numpy, python3-torch: `scripts/setup-system.sh
 * --with-test-deps`). A test that needs one asks `havePython(...)`: on a machine without it the
 * test skips with ONE visible line naming the package and how to install it; on CI (CI=true) or
 * with PIPE_REQUIRE naming the module, a missing package is an error, never a skip.
 */
import { spawnSync } from 'node:child_process';

export const PY = process.env.PIPE_PYTHON ?? '/usr/bin/python3';
const probed = new Map<string, string | null>();

/** Whether PY imports `module`; otherwise warns once (outside CI) or throws (CI / PIPE_REQUIRE). */
export function havePython(module: string, debianPackage: string, who: string): boolean {
  if (!probed.has(module)) {
    const r = spawnSync(PY, ['-c', `import ${module}`], { encoding: 'utf8' });
    probed.set(module, r.status === 0 ? null : (r.error?.message ?? r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`));
  }
  const why = probed.get(module);
  if (why === null) return true;
  const required = !!process.env.CI || (process.env.PIPE_REQUIRE ?? '').split(',').includes(module);
  const text = `${who}: needs ${debianPackage} (${PY} cannot import ${module}: ${why}); install it with: sudo bash scripts/setup-system.sh --with-test-deps`;
  if (required) throw new Error(`${text} — required on CI (CI=true) / PIPE_REQUIRE, so this is a failure, not a skip`);
  console.warn(`SKIPPED ${text}`);
  return false;
}
