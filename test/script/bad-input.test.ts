/**
 * Script stages given bad input, through the real CLI: a non-zero exit fails the stage with the
 * tail of its stderr and records nothing; a missing or wrongly formatted output fails the stage
 * that produced it, naming the stage, the output, the file and what was expected; a malformed
 * protocol line is a warning naming the line; a killed script fails like a crashed stage.
 * Also `kind: script` (a shell program) and `kind: command` speaking the protocol.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeWithEnv, project, summary, write } from '../engine/helpers.js';

const env = { PIPE_PYTHON: '/usr/bin/python3' };
const run = (dir: string, ...args: string[]) => pipeWithEnv(dir, env, ...args);

const pipeline = (stage: string, extra = '') => `
name: bad
stages:
  s:
${stage}
  after:
    kind: command
    inputs: {x: s.out}
    params: {cmd: 'cat \${inputs.x} > \${outputs.y}', outs: {y: file}}
${extra}`;

// each test has its own project; they run side by side
describe.concurrent('script stages given bad input', () => {
  it('a non-zero exit fails the stage with the stderr tail, records nothing, skips downstream', async () => {
    const dir = project({
      'p.yaml': pipeline(`    kind: python\n    params: {script: s.py, outs: {out: json}}`),
      's.py': `import sys\nfrom pipe_stage import output, metric\nmetric('x', 1)\nopen(output('out'), 'w').write('{}')\nprint('line one', file=sys.stderr)\nprint('ValueError: the real reason', file=sys.stderr)\nsys.exit(3)\n`,
    });
    const r = await run(dir, 'run', 'p.yaml');
    expect(r.code).toBe(1);
    expect(summary(r).failed).toBe(1);
    expect(r.stderr).toMatch(/s failed: s\.py \(\/usr\/bin\/python3\) exited with code 3/);
    const show = await run(dir, 'show', 's', '--json');
    const s = JSON.parse(show.stdout);
    expect(JSON.stringify(s)).toContain('ValueError: the real reason');
    expect(existsSync(join(dir, 'artifacts/bad/s'))).toBe(false);
    const st = await run(dir, 'status', 'p.yaml', '--json');
    expect(JSON.parse(st.stdout).find((x: { id: string }) => x.id === 's').state).toBe('failed');
  }, 180_000);

  it('a wrongly formatted output fails the stage that wrote it, naming stage, output, file, expectation', async () => {
    const dir = project({
      'p.yaml': pipeline(`    kind: python\n    params: {script: s.py, outs: {out: table, notes: json}}`),
      's.py': `from pipe_stage import output\nopen(output('out'), 'w').write('a,b\\n1,2\\n')\nopen(output('notes'), 'w').write('{not json')\n`,
    });
    const r = await run(dir, 'run', 'p.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/✗ s failed: 2 outputs are wrong/);
    const show = JSON.parse((await run(dir, 'show', 's', '--json')).stdout);
    const err = JSON.stringify(show);
    expect(err).toMatch(/output 'out' \(declared arrow, file [^)]*out\.arrow\): not a readable arrow table/);
    expect(err).toMatch(/output 'notes' \(declared json, file [^)]*notes\.json\): not valid JSON/);
    expect(r.stderr).not.toMatch(/after failed/);
  }, 180_000);

  it('a missing output is named', async () => {
    const dir = project({
      'p.yaml': pipeline(`    kind: python\n    params: {script: s.py, outs: {out: csv}}`),
      's.py': `print('forgot to write')\n`,
    });
    const r = await run(dir, 'run', 'p.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/s failed: output 'out' \(declared csv, file .*out\.csv\): the script did not write it/);
  }, 180_000);

  it('a malformed protocol line is a warning naming the line; kind: script runs any program', async () => {
    const dir = project({
      'p.yaml': pipeline(`    kind: script\n    params: {run: [sh, scripts/s.sh], outs: {out: text}}`),
      'scripts/s.sh': [
        'echo \'{"type":"metric","name":"n","value":3}\' >&3',
        'echo \'this is not json\' >&3',
        'echo \'{"type":"nope"}\' >&3',
        'echo \'{"type":"progress","done":1,"total":2,"unit":"step"}\' >&3',
        'echo \'{"type":"curve","row":{"step":1,"loss":0.5}}\' >&3',
        'python3 -c "import json,os; m=json.load(open(os.environ[\'PIPE_MANIFEST\'])); open(m[\'outputs\'][\'out\'][\'path\'],\'w\').write(m[\'stage\'])"',
      ].join('\n') + '\n',
    });
    const r = await run(dir, 'run', 'p.yaml');
    expect(r.code, r.stderr).toBe(0);
    const show = JSON.parse((await run(dir, 'show', 's', '--json')).stdout);
    expect(show.metrics).toEqual({ n: 3 });
    const text = JSON.stringify(show);
    expect(text).toContain('protocol line 2: not JSON: this is not json');
    expect(text).toContain('protocol line 3: unknown type \\"nope\\"');
  }, 180_000);

  it('a killed script fails its stage and records nothing', async () => {
    const dir = project({
      'p.yaml': pipeline(`    kind: python\n    params: {script: s.py, outs: {out: json}}`),
      's.py': `import os, signal\nfrom pipe_stage import output\nopen(output('out'), 'w').write('{}')\nos.kill(os.getpid(), signal.SIGKILL)\n`,
    });
    const r = await run(dir, 'run', 'p.yaml');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/s failed: .*was killed by SIGKILL/);
    expect(existsSync(join(dir, 'artifacts/bad/s'))).toBe(false);
  }, 180_000);

  it('a command stage reports metrics and curves through the protocol', async () => {
    const dir = project({
      'p.yaml': `
name: cmd
stages:
  t:
    kind: command
    params:
      cmd: |
        for i in 1 2 3; do echo "{\\"type\\":\\"curve\\",\\"row\\":{\\"epoch\\":$i,\\"loss\\":0.$i}}" >&3; done
        echo '{"type":"metric","name":"p_value","value":0.03}' >&3
        echo done > \${outputs.out}
      outs: {out: text, curves: table}
`,
    });
    const r = await run(dir, 'run', 'p.yaml');
    expect(r.code, r.stderr).toBe(0);
    const show = JSON.parse((await run(dir, 'show', 't', '--json')).stdout);
    expect(show.metrics).toEqual({ p_value: 0.03 });
    const { readTable } = await import('../../src/sdk/table.js');
    const t = await readTable(join(dir, 'artifacts/cmd/t/curves.arrow'));
    expect(Array.from(t.getChild('loss')!.toArray() as Float64Array)).toEqual([0.1, 0.2, 0.3]);
  }, 180_000);
});

describe("the script's params against its JSON Schema", () => {
  it('defaults are filled in; a violation fails the stage naming the param and the schema', async () => {
    const schema = JSON.stringify({ type: 'object', properties: { lr: { type: 'number', exclusiveMinimum: 0 }, epochs: { type: 'integer', default: 7 } }, required: ['lr'], additionalProperties: false });
    const dir = project({
      'p.yaml': pipeline(`    kind: python\n    params: {script: s.py, schema: s.schema.json, outs: {out: json}, params: {lr: '\${params.lr}'}}`).replace('name: bad\n', 'name: bad\nparams: {lr: 0.1}\n'),
      's.schema.json': schema,
      's.py': "import json\nfrom pipe_stage import params, output\njson.dump(params, open(output('out'), 'w'))\n",
    });
    const ok = await run(dir, 'run', 'p.yaml');
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'artifacts/bad/s/out.json'), 'utf8'))).toEqual({ lr: 0.1, epochs: 7 });
    const bad = await run(dir, 'run', 'p.yaml', '--set', 'lr=-1');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/s failed: params do not satisfy s\.schema\.json: params\.lr must be > 0/);
    // the schema file is part of the fingerprint: editing it reruns the stage
    write(dir, 's.schema.json', schema.replace('"default":7', '"default":8'));
    const again = await run(dir, 'run', 'p.yaml');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'artifacts/bad/s/out.json'), 'utf8'))).toEqual({ lr: 0.1, epochs: 8 });
  }, 60_000);
});

describe('an input format pipe cannot convert', () => {
  it('is an error at load time, at the reference, before anything runs', async () => {
    const dir = project({
      'p.yaml': `
name: conv
stages:
  notes:
    kind: command
    params: {cmd: 'echo {} > \${outputs.j}', outs: {j: json}}
  s:
    kind: python
    inputs: {x: notes.j}
    params: {script: s.py, formats: {x: csv}}
`,
      's.py': 'print(1)\n',
    });
    const r = await run(dir, 'run', 'p.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/p\.yaml:\d+:\d+: stage 's': input 'x' asks for csv, but 'notes\.j' is a json output; only tables convert/);
    expect(existsSync(join(dir, 'artifacts'))).toBe(false);
  }, 60_000);
});
