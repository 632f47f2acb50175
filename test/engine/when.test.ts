/**
 * `when:` — stages (or instances) that run only under a condition, evaluated after `--set` and
 * matrix substitution; a stage that needs a switched-off stage is an error at its reference.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { loadGraph } from '../../src/engine/front/pipeline.js';
import { PipeError, PipeErrors } from '../../src/engine/errors.js';
import { pipe, project, repoRoot, summary } from './helpers.js';

const ids = async (file: string, sets: string[] = []) => (await loadGraph(file, sets)).order.map((s) => s.id).sort();
const errorText = async (file: string, sets: string[] = []) => {
  const e = await loadGraph(file, sets).then(() => null, (x: unknown) => x);
  expect(e instanceof PipeError || e instanceof PipeErrors).toBe(true);
  return e instanceof PipeErrors ? e.errors.map((x) => x.format()).join('\n') : (e as PipeError).format();
};

const yaml = `name: w
params: {model: actmix, flag: true, list: [a, b]}
stages:
  train:
    kind: command
    params: {cmd: 'echo \${params.model} > \${outputs.out}', outs: {out: text}}
  analyze:
    kind: command
    when: {equals: ['\${params.model}', actmix]}
    inputs: {x: train.out}
    params: {cmd: 'cat \${inputs.x} > \${outputs.out}', outs: {out: text}}
  plot:
    kind: command
    when: {equals: ['\${params.model}', actmix]}
    inputs: {x: analyze.out}
    params: {cmd: 'cat \${inputs.x} > \${outputs.out}', outs: {out: text}}
  flagged:
    kind: command
    when: '\${params.flag}'
    params: {cmd: 'echo f > \${outputs.out}', outs: {out: text}}
  per_instance:
    kind: command
    matrix: {m: [a, b, c]}
    when: {in: ['\${matrix.m}', '\${params.list}']}
    params: {cmd: 'echo \${matrix.m} > \${outputs.out}', outs: {out: text}}
  not_relu:
    kind: command
    when: {not_equals: ['\${params.model}', relu]}
    params: {cmd: 'echo n > \${outputs.out}', outs: {out: text}}
`;

describe('when: conditional stages', () => {
  it('keeps or drops stages and instances by the condition, after --set', async () => {
    const dir = project({ 'p.yaml': yaml });
    const f = join(dir, 'p.yaml');
    expect(await ids(f)).toEqual(['analyze', 'flagged', 'not_relu', 'per_instance[m=a]', 'per_instance[m=b]', 'plot', 'train']);
    expect(await ids(f, ['model=relu', 'flag=false', 'list=[c]'])).toEqual(['per_instance[m=c]', 'train']);
    expect(await ids(f, ['model=gelu'])).toEqual(['flagged', 'not_relu', 'per_instance[m=a]', 'per_instance[m=b]', 'train']);
  });

  it('runs through the CLI: the switched-off stages are absent, not failed', async () => {
    const dir = project({ 'p.yaml': yaml });
    const r = await pipe(dir, 'run', 'p.yaml', '--set', 'model=relu');
    expect(r.code, r.stderr).toBe(0);
    expect(summary(r)).toMatchObject({ ran: 4, failed: 0 }); // train, flagged, per_instance a and b; analyze, plot, not_relu off
  }, 60_000);

  it('a stage that needs a switched-off stage is an error at its reference, naming the condition', async () => {
    const dir = project({ 'p.yaml': yaml.replace(`  plot:
    kind: command
    when: {equals: ['\${params.model}', actmix]}
`, `  plot:
    kind: command
`) });
    const text = await errorText(join(dir, 'p.yaml'), ['model=relu']);
    expect(text).toMatch(/p\.yaml:\d+:\d+: stage 'plot': input refers to 'analyze', which its `when:` switches off here \(relu ≠ actmix\); switch 'plot' off under the same condition/);
  });

  it('a condition that is not a boolean is an error at the when', async () => {
    const dir = project({ 'p.yaml': `name: w
params: {flag: maybe}
stages:
  a:
    kind: command
    when: '\${params.flag}'
    params: {cmd: 'echo > \${outputs.out}', outs: {out: text}}
` });
    expect(await errorText(join(dir, 'p.yaml'))).toMatch(/p\.yaml:6:\d+: stage 'a': when: \$\{params\.flag\} gives maybe, not true or false/);
    const dir2 = project({ 'p.yaml': `name: w
stages:
  a:
    kind: command
    when: {same: [1, 1]}
    params: {cmd: 'echo > \${outputs.out}', outs: {out: text}}
` });
    expect(await errorText(join(dir2, 'p.yaml'))).toMatch(/p\.yaml:5:\d+:.*when/);
  });

  it('pipelines/actmix.yaml: the ActMix analysis exists only for model=actmix, at both checkpoints', async () => {
    const f = join(repoRoot, 'pipelines/actmix.yaml');
    const on = await ids(f, ['dataset=adult', 'model=actmix']);
    expect(on).toContain('analyze[checkpoint=last]');
    expect(on).toContain('analyze[checkpoint=best]');
    expect(on).toContain('alpha_gif');
    expect(await ids(f, ['model=relu'])).toEqual(['curves', 'data', 'encode', 'prep', 'split', 'train']);
  });

  it('report.headline: resolved at load time (a typo fails before the run), switched-off stages left out', async () => {
    const head = (h: string) => yaml.replace('stages:\n', `report:\n  headline: ${h}\nstages:\n`);
    const dir = project({ 'p.yaml': head('[train.out, plot.out, per_instance.out]') });
    const g = await loadGraph(join(dir, 'p.yaml'));
    expect(g.headline.map((h) => h.bindings.map((b) => b.stage))).toEqual([['train'], ['plot'], ['per_instance[m=a]', 'per_instance[m=b]']]);
    const off = await loadGraph(join(dir, 'p.yaml'), ['model=relu']);
    expect(off.headline.map((h) => h.text)).toEqual(['train.out', 'per_instance.out']);
    const bad = project({ 'p.yaml': head('[train.out, trian.out]') });
    expect(await errorText(join(bad, 'p.yaml'))).toMatch(/p\.yaml:4:\d+: .*unknown stage 'trian' \(did you mean 'train'\?\)/);
    const badOut = project({ 'p.yaml': head('[train.metrics]') });
    expect(await errorText(join(badOut, 'p.yaml'))).toMatch(/p\.yaml:4:\d+: 'train\.metrics': stage 'train' \(command\) has no output 'metrics'/);
  });
});
