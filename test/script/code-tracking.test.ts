/**
 * Code tracking of Python stages through the real CLI: the fingerprint covers the script and
 * its local imports transitively (a package, a relative import, a module imported inside a
 * function), so editing one reruns the stage and `pipe status` names the file; editing an
 * unrelated file of the project reruns nothing. The interpreter version and the versions of the
 * imported third-party packages are runtime facts.
 */
import { havePython } from '../helpers/requires.js';
import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { pipeWithEnv, project, write, summary } from '../engine/helpers.js';
import { pythonClosure, pythonImports } from '../../src/lib/script/pyimports.js';

const PY = '/usr/bin/python3';
const env = { PIPE_PYTHON: PY };
const run = (dir: string, ...args: string[]) => pipeWithEnv(dir, env, ...args);

const FILES = {
  'p.yaml': `
name: code
stages:
  fit:
    kind: python
    params: {script: scripts/train.py, outs: {out: json}}
  other:
    kind: python
    params: {script: scripts/other.py, outs: {out: json}}
`,
  'scripts/train.py': `import json
import numpy as np
from models.actmix import mix
from pipe_stage import output
def late():
    from helpers import util   # imported inside a function
    return util.K
json.dump({'v': mix(2) + late()}, open(output('out'), 'w'))
`,
  'scripts/models/__init__.py': '',
  'scripts/models/actmix.py': 'from .basis import BASIS\ndef mix(x):\n    return x * BASIS\n',
  'scripts/models/basis.py': 'BASIS = 3\n',
  'scripts/helpers/__init__.py': '',
  'scripts/helpers/util.py': 'K = 1\n',
  'scripts/other.py': "import json\nfrom pipe_stage import output\njson.dump({'v': 0}, open(output('out'), 'w'))\n",
  'notes/unrelated.py': 'X = 1\n',
  'README.md': 'hello\n',
};

describe.skipIf(!havePython('numpy', 'python3-numpy', 'test/script/code-tracking'))('code tracking of python stages', () => {
  let dir: string;
  beforeAll(async () => {
    dir = project(FILES);
    const r = await run(dir, 'run', 'p.yaml');
    expect(r.code, r.stderr).toBe(0);
    expect(summary(r).ran).toBe(2);
  }, 60_000);

  it('the closure follows packages, relative imports and imports inside functions; third-party names are external', () => {
    const c = pythonClosure(dir, 'scripts/train.py');
    expect(c.files).toEqual(['scripts/train.py', 'scripts/helpers/__init__.py', 'scripts/helpers/util.py', 'scripts/models/__init__.py', 'scripts/models/actmix.py', 'scripts/models/basis.py']);
    expect(c.external).toEqual(['json', 'numpy', 'pipe_stage']);
    expect(pythonImports('from a.b import (c,\n   d as e)\nimport x.y as z, w\n')).toEqual([
      { level: 0, module: 'a.b', names: ['c', 'd'] }, { level: 0, module: 'x.y', names: [] }, { level: 0, module: 'w', names: [] },
    ]);
  });

  it('records the interpreter and numpy versions as runtime facts', async () => {
    const show = JSON.parse((await run(dir, 'show', 'fit', '--json')).stdout);
    const text = JSON.stringify(show);
    const pyv = execFileSync(PY, ['-c', 'import sys, numpy; print("%d.%d.%d" % sys.version_info[:3], numpy.__version__)'], { encoding: 'utf8' }).trim().split(' ');
    expect(text).toContain(`"python":"${pyv[0]}"`);
    expect(text).toMatch(new RegExp(`"py:numpy":"[^"]*${pyv[1]!.replace(/\./g, '\\.')}"`));
    // pipe's own code in the key is the python kind and what it imports: not the ML library or native sources
    const code = Object.keys(show.fingerprintData.code as Record<string, string>);
    expect(code).toContain('src/stages/python.ts');
    expect(code).toContain('scripts/models/basis.py');
    expect(code.filter((f) => f.startsWith('native/') || f.startsWith('src/lib/ml/') || f.startsWith('src/engine/'))).toEqual([]);
  });

  it('editing a local module reruns exactly its stage, and status names the file', async () => {
    write(dir, 'scripts/models/basis.py', 'BASIS = 4\n');
    const st = JSON.parse((await run(dir, 'status', 'p.yaml', '--json')).stdout) as { id: string; state: string; reasons: { text: string }[] }[];
    expect(st.find((s) => s.id === 'fit')!.reasons.map((r) => r.text)).toEqual(['code changed: scripts/models/basis.py']);
    expect(st.find((s) => s.id === 'other')!.state).toBe('fresh');
    const r = await run(dir, 'run', 'p.yaml');
    expect(summary(r)).toEqual({ ran: 1, cached: 1, failed: 0 });
  }, 60_000);

  it('editing an unrelated file reruns nothing', async () => {
    write(dir, 'notes/unrelated.py', 'X = 2\n');
    write(dir, 'README.md', 'changed\n');
    const r = await run(dir, 'run', 'p.yaml');
    expect(summary(r)).toEqual({ ran: 0, cached: 2, failed: 0 });
  }, 60_000);

  it('a missing third-party module is a preflight error naming the stage: nothing runs (exit 2)', async () => {
    const d2 = project({
      'p.yaml': 'name: miss\nstages:\n  ok:\n    kind: command\n    params: {cmd: "echo hi > ${outputs.o}", outs: {o: text}}\n  needs:\n    kind: python\n    params: {script: s.py}\n',
      's.py': 'import definitely_not_installed_pkg\n',
    });
    const r = await run(d2, 'run', 'p.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot start: a requirement is missing; nothing was run/);
    expect(r.stderr).toMatch(/needs needs python:s\.py: \/usr\/bin\/python3 -m pip install definitely_not_installed_pkg/);
    expect(r.stderr).toMatch(/s\.py imports definitely_not_installed_pkg, which \/usr\/bin\/python3 \(from PIPE_PYTHON\) cannot import/);
    expect(r.stdout).not.toMatch(/ran/);
  }, 60_000);
});
