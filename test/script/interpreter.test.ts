/**
 * Which Python a stage runs: the stage's `python:`, PIPE_PYTHON, pipe.config.json, the project's
 * .venv, the active virtualenv / conda env, python3 — in that order; a project .venv is used
 * without any setting; a missing interpreter is a preflight error naming the stage; `pipe doctor`
 * lists each Python stage's interpreter and modules.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pipeWithEnv, project, write } from '../engine/helpers.js';
import { choosePython } from '../../src/lib/script/python.js';

describe('choosing the interpreter', () => {
  it('follows the documented order', () => {
    const dir = project({ 'x': '' });
    const venvs = project({ 'v/bin/python': '', 'c/bin/python': '' });
    const env = { PIPE_PYTHON: '/opt/py/bin/python', VIRTUAL_ENV: join(venvs, 'v'), CONDA_PREFIX: join(venvs, 'c') };
    expect(choosePython(dir, 'tools/py', env)).toEqual({ path: join(dir, 'tools/py'), source: 'the stage (params.python)' });
    expect(choosePython(dir, undefined, env).source).toBe('PIPE_PYTHON');
    write(dir, 'pipe.config.json', '{"python": "/usr/bin/python3"}');
    expect(choosePython(dir, undefined, { ...env, PIPE_PYTHON: undefined })).toEqual({ path: '/usr/bin/python3', source: 'pipe.config.json' });
    write(dir, 'pipe.config.json', '{}');
    expect(choosePython(dir, undefined, { ...env, PIPE_PYTHON: undefined }).path).toBe(join(venvs, 'v/bin/python'));
    expect(choosePython(dir, undefined, { CONDA_PREFIX: join(venvs, 'c') }).path).toBe(join(venvs, 'c/bin/python'));
    write(dir, '.venv/bin/python', '');
    expect(choosePython(dir, undefined, { VIRTUAL_ENV: join(venvs, 'v') })).toEqual({ path: join(dir, '.venv/bin/python'), source: "the project's .venv" });
    expect(choosePython(project({ y: '' }), undefined, {})).toEqual({ path: 'python3', source: 'the PATH' });
  });
});

const PIPELINE = `
name: interp
stages:
  a:
    kind: python
    params: {script: s.py}
`;

describe('through the CLI', () => {
  it("uses the project's .venv without any setting", async () => {
    const dir = project({ 'pipelines/p.yaml': PIPELINE, 's.py': "import sys\nfrom pipe_stage import metric\nmetric('exe', sys.executable)\n" });
    mkdirSync(join(dir, '.venv/bin'), { recursive: true });
    symlinkSync('/usr/bin/python3', join(dir, '.venv/bin/python'));
    const r = await pipeWithEnv(dir, { PIPE_PYTHON: undefined, VIRTUAL_ENV: undefined, CONDA_PREFIX: undefined }, 'run', 'pipelines/p.yaml');
    expect(r.code, r.stderr).toBe(0);
    const show = JSON.parse((await pipeWithEnv(dir, {}, 'show', 'a', '--json')).stdout);
    expect(show.metrics.exe).toBe(join(dir, '.venv/bin/python'));
    const doc = await pipeWithEnv(dir, { PIPE_PYTHON: undefined, VIRTUAL_ENV: undefined, CONDA_PREFIX: undefined }, 'doctor');
    expect(doc.stdout).toMatch(/ok\s+python:s\.py\s+Python for s\.py: Python 3\.\d+\.\d+ \(.*\.venv\/bin\/python, from the project's \.venv\)/);
  }, 60_000);

  it('a missing interpreter is a preflight error naming the stage', async () => {
    const dir = project({ 'pipelines/p.yaml': PIPELINE, 's.py': 'print(1)\n' });
    const r = await pipeWithEnv(dir, { PIPE_PYTHON: '/nonexistent/python9' }, 'run', 'pipelines/p.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a needs python:s\.py: install Python 3, or point PIPE_PYTHON/);
    expect(r.stderr).toMatch(/Python interpreter '\/nonexistent\/python9' not found/);
    const doc = await pipeWithEnv(dir, { PIPE_PYTHON: '/nonexistent/python9' }, 'doctor');
    expect(doc.code).toBe(1);
    expect(doc.stdout).toMatch(/MISSING\s+python:s\.py/);
  }, 60_000);
});
