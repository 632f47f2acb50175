import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadGraph } from '../../src/engine/front/pipeline.js';
import { PipeError } from '../../src/engine/errors.js';
import { pipe, project } from './helpers.js';

/** Loads a pipeline text and returns the formatted error (or throws if it loads). */
async function errorOf(yaml: string, sets: string[] = []): Promise<string> {
  const dir = project({ 'bad.yaml': yaml });
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    await loadGraph(join(dir, 'bad.yaml'), sets);
  } catch (e) {
    if (e instanceof PipeError) return e.format();
    throw e;
  } finally {
    process.chdir(cwd);
  }
  throw new Error('pipeline loaded without error');
}

const ok = (extra = '') => `name: t
params:
  lr: 0.01
  training:
    max_epochs: 5
stages:
  a:
    kind: command
    params:
      cmd: echo \${params.lr} > \${outputs.out}
      outs: {out: text}
${extra}`;

describe('configuration errors point at file:line:col', () => {
  it('an unquoted ${…} in a flow map: the located YAML error says to quote it', async () => {
    const e = await errorOf('name: t\nstages:\n  a:\n    kind: command\n    params: {cmd: echo ${params.x}, outs: {out: text}}\n');
    expect(e).toMatch(/^bad\.yaml:5:25: YAML syntax error: Unexpected flow-map-start at node end — an unquoted \$\{params\.x\} inside a flow map or list \(\{…\} \/ \[…\]\) starts a nested map; quote it: '\$\{params\.x\}'/);
  });

  it('YAML syntax error', async () => {
    expect(await errorOf('name: t\nstages:\n  a: [unclosed\n')).toMatch(/^bad\.yaml:4:1: YAML syntax error/);
  });

  it('schema violation: unknown field with did-you-mean', async () => {
    const e = await errorOf(ok().replace('    kind: command', '    kind: command\n    inptus: {}'));
    expect(e).toBe("bad.yaml:9:5: unknown field 'inptus' in stages.a (did you mean 'inputs'?)");
  });

  it('schema violation: missing required field and wrong type', async () => {
    expect(await errorOf('stages: {a: {kind: command}}\n')).toBe("bad.yaml:1:1: pipeline: missing required field 'name'");
    expect(await errorOf('name: t\nstages:\n  a:\n    kind: command\n    params: 5\n')).toBe('bad.yaml:5:13: stages.a.params must be object');
  });

  it('unknown stage kind with did-you-mean', async () => {
    expect(await errorOf(ok().replace('kind: command', 'kind: comand'))).toBe("bad.yaml:8:11: stage 'a': unknown stage kind 'comand' (did you mean 'command'?)");
  });

  it('unknown stage reference and unknown output reference', async () => {
    const refStage = await errorOf(ok(`  b:
    kind: command
    inputs: {x: aa.out}
    params: {cmd: 'true', outs: {}}
`));
    expect(refStage).toBe("bad.yaml:14:17: stage 'b': input refers to unknown stage 'aa' (did you mean 'a'?)");
    const refOut = await errorOf(ok(`  b:
    kind: command
    inputs: {x: a.otu}
    params: {cmd: 'true', outs: {}}
`));
    expect(refOut).toBe("bad.yaml:14:17: 'a.otu': stage 'a' (command) has no output 'otu' (did you mean 'out'?); its outputs: out");
  });

  it('cycle: prints the cycle path', async () => {
    const e = await errorOf(`name: t
stages:
  a:
    kind: command
    inputs: {x: c.out}
    params: {cmd: 'true', outs: {out: text}}
  b:
    kind: command
    inputs: {x: a.out}
    params: {cmd: 'true', outs: {out: text}}
  c:
    kind: command
    inputs: {x: b.out}
    params: {cmd: 'true', outs: {out: text}}
`);
    expect(e).toMatch(/^bad\.yaml:\d+:5: dependency cycle: (a → b → c → a|b → c → a → b|c → a → b → c)$/);
  });

  it('bad override: unknown param with did-you-mean, and malformed', async () => {
    expect(await errorOf(ok(), ['training.max_epoch=3'])).toBe("bad.yaml:2:1: --set training.max_epoch=3: no pipeline param 'training.max_epoch' (did you mean 'training.max_epochs'?) (use --set +training.max_epoch=… to add one)");
    expect(await errorOf(ok(), ['lr'])).toContain('--set lr: expected path=value');
  });

  it('--set values are validated like the YAML: a non-integer seed is an error, not a stream', async () => {
    expect(await errorOf(ok(), ['seed=abc'])).toBe('bad.yaml:1:1: --set seed=abc: seed must be an integer (as `seed:` in the file), got "abc"');
    expect(await errorOf('seed: 3\n' + ok(), ['seed=1.5'])).toBe('bad.yaml:1:1: --set seed=1.5: seed must be an integer (as `seed:` in the file), got 1.5');
  });

  it('a YAML alias without its anchor is an error at the alias', async () => {
    expect(await errorOf(ok().replace('lr: 0.01', 'lr: *rate'))).toBe('bad.yaml:3:7: YAML: alias *rate has no anchor &rate before it');
  });

  it('params that violate the kind schema, and unknown interpolation', async () => {
    expect(await errorOf(ok().replace('outs: {out: text}', 'outs: {out: txt}'))).toMatch(/^bad\.yaml:11:19: stage 'a' \(command\): params\.outs\.out: must be one of/);
    expect(await errorOf(ok().replace('${params.lr}', '${params.rl}'))).toBe("bad.yaml:10:12: ${params.rl}: no pipeline param 'rl' (did you mean 'lr'?)");
    expect(await errorOf(ok().replace('kind: command', 'kind: command\n    seed: ${matrix.fold}'))).toContain("${matrix.fold}: this stage has no matrix");
  });

  it('matrix reference that is ambiguous asks for a selector or a gather', async () => {
    const e = await errorOf(`name: t
stages:
  a:
    kind: command
    matrix: {fold: [0, 1]}
    params: {cmd: 'true', outs: {out: text}}
  b:
    kind: command
    inputs: {x: a.out}
    params: {cmd: 'true', outs: {}}
`);
    expect(e).toContain("'a.out' matches 2 instances of 'a'");
    expect(e).toContain('a[*].out');
  });

  it('the CLI prints the error without a stack trace and exits 2', async () => {
    const dir = project({ 'p.yaml': ok().replace('kind: command', 'kind: comand') });
    const r = await pipe(dir, 'run', 'p.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("p.yaml:8:11: stage 'a': unknown stage kind 'comand' (did you mean 'command'?)");
    const missing = await pipe(dir, 'run', 'nope.yaml');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('pipeline file not found: nope.yaml');
    const badFlag = await pipe(dir, 'run', 'p.yaml', '--jobz', '2');
    expect(badFlag.code).toBe(2);
  });
});
