/** The project root: --root, $PIPE_ROOT, then the walk up from the current directory (then from the pipeline file). */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { project } from '../engine/helpers.js';
import { findUp, projectRoot } from '../../src/cli/root.js';

describe('project root', () => {
  it('walks up to pipe.config.json, cache/pipe.db or a package.json depending on pipe-ml', () => {
    const a = project({ 'pipe.config.json': '{}', 'pipelines/x.yaml': '' });
    expect(findUp(join(a, 'pipelines'))).toBe(a);
    const b = project({ 'cache/pipe.db': '', 'deep/er/f': '' });
    expect(findUp(join(b, 'deep', 'er'))).toBe(b);
    const c = project({ 'package.json': '{"dependencies": {"pipe-ml": "^0.1.0"}}', 'scripts/s.py': '' });
    expect(findUp(join(c, 'scripts'))).toBe(c);
    const d = project({ 'package.json': '{"dependencies": {"left-pad": "1"}}', 'sub/f': '' });
    expect(findUp(join(d, 'sub'))).toBeUndefined();
  });

  it('--root and $PIPE_ROOT win; outside any project the pipeline file is the start; else the current directory', () => {
    const p = project({ 'pipe.config.json': '{}', 'pipelines/x.yaml': 'name: x\n' });
    const outside = project({ 'f': '' });
    expect(projectRoot({ root: outside, cwd: join(p, 'pipelines'), env: {} })).toBe(outside);
    expect(projectRoot({ cwd: join(p, 'pipelines'), env: { PIPE_ROOT: outside } })).toBe(outside);
    expect(projectRoot({ cwd: join(p, 'pipelines'), env: {}, argv: [] })).toBe(p);
    expect(projectRoot({ cwd: outside, env: {}, argv: ['status', join(p, 'pipelines/x.yaml')] })).toBe(p);
    expect(projectRoot({ cwd: outside, env: {}, argv: ['status'] })).toBe(outside);
  });
});
