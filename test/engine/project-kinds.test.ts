import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codes, pipe, project, statusOf, summary, write } from './helpers.js';

const scaleKind = (version = '1') => `
import { double } from './lib/math.js';

interface ScaleParams { factor: number }
interface Ctx {
  params: ScaleParams;
  input(name: string): { readText(): Promise<string> };
  output(name: string): { writeText(text: string): Promise<void> };
}

// a TypeScript kind of the project: no build step, same API as pipe's own kinds
export default {
  kind: 'scale',
  version: '${version}',
  description: 'multiply a number',
  paramsSchema: { type: 'object', properties: { factor: { type: 'number', default: 2 } }, additionalProperties: false },
  inputs: { x: { type: 'text' } },
  outputs: { out: { type: 'text' } },
  async run(ctx: Ctx): Promise<void> {
    const v: number = Number((await ctx.input('x').readText()).trim());
    await ctx.output('out').writeText(String(double(v * ctx.params.factor)) + '\\n');
  },
};
`;

const pipeline = `
name: proj
stages:
  src:
    kind: command
    params: {cmd: 'echo 5 > \${outputs.out}', outs: {out: text}}
  scale:
    kind: scale
    matrix: {factor: [1, 2, 3]}
    inputs: {x: src.out}
    params: {factor: '\${matrix.factor}'}
  total:
    kind: command
    inputs: {all: 'scale[*].out'}
    params: {cmd: 'cat \${inputs.all} > \${outputs.out}', outs: {out: text}}
  other:
    kind: command
    params: {cmd: 'echo other > \${outputs.out}', outs: {out: text}}
`;

// each test has its own project: they run side by side (each with a longer time limit: it
// shares the CPU with the others)
describe.concurrent('project stage kinds (stages/ beside pipelines/)', { timeout: 240_000 }, () => {
  it('runs a TS kind of the project; editing a file it imports makes exactly its stages stale, naming the file', async () => {
    const dir = project({
      'pipelines/p.yaml': pipeline,
      'stages/scale.ts': scaleKind(),
      'stages/lib/math.ts': 'export const double = (n: number): number => n * 2;\n',
    });
    const kinds = await pipe(dir, 'kinds');
    expect(kinds.code, kinds.stderr).toBe(0);
    expect(kinds.stdout).toMatch(/^scale\s+v1\s+project stages\/scale\.ts\s+multiply a number$/m);
    expect(kinds.stdout).toMatch(/^split\s+v\S+\s+built-in/m);

    const r1 = await pipe(dir, 'run', 'pipelines/p.yaml');
    expect(r1.code, r1.stderr + r1.stdout).toBe(0);
    expect(summary(r1)).toEqual({ ran: 6, cached: 0, failed: 0 });
    expect(readFileSync(join(dir, 'artifacts/proj/total/out.txt'), 'utf8')).toBe('10\n20\n30\n');
    expect(summary(await pipe(dir, 'run', 'pipelines/p.yaml'))).toEqual({ ran: 0, cached: 6, failed: 0 });

    write(dir, 'stages/lib/math.ts', 'export const double = (n: number): number => n * 2 + 1;\n');
    const st = await statusOf(dir, 'pipelines/p.yaml');
    for (const f of [1, 2, 3]) {
      expect(st[`scale[factor=${f}]`]!.reasons).toEqual([{ code: 'code-changed', files: ['stages/lib/math.ts'], text: 'code changed: stages/lib/math.ts' }]);
    }
    expect(codes(st.total)).toEqual({ state: 'stale', codes: ['upstream-stale'] });
    expect(st.src!.state).toBe('fresh');
    expect(st.other!.state).toBe('fresh');
    const text = await pipe(dir, 'status', 'pipelines/p.yaml');
    expect(text.stdout).toMatch(/scale\[factor=1\]\s+stale\s+code changed: stages\/lib\/math\.ts/);

    const r2 = await pipe(dir, 'run', 'pipelines/p.yaml', '--verbose');
    expect(summary(r2)).toEqual({ ran: 4, cached: 2, failed: 0 });
    expect(readFileSync(join(dir, 'artifacts/proj/total/out.txt'), 'utf8')).toBe('11\n21\n31\n');

    // `version` still forces a rerun without a code change
    write(dir, 'stages/scale.ts', scaleKind('2'));
    const st2 = await statusOf(dir, 'pipelines/p.yaml');
    expect(codes(st2['scale[factor=2]'])).toEqual({ state: 'stale', codes: ['code-changed', 'version-changed'] });
    expect(st2['scale[factor=2]']!.reasons[1]).toMatchObject({ before: '1', after: '2' });
  });

  it('code fingerprints ignore comments and formatting: a comment-only edit reruns nothing, one changed token reruns exactly the kind that imports it', async () => {
    const shiftKind = `
export default {
  kind: 'shift', version: '1', description: 'add one',
  paramsSchema: { type: 'object', properties: {}, additionalProperties: false },
  inputs: { x: { type: 'text' } },
  outputs: { out: { type: 'text' } },
  async run(ctx: any): Promise<void> {
    await ctx.output('out').writeText(String(Number((await ctx.input('x').readText()).trim()) + 1) + '\\n');
  },
};
`;
    const math = 'export const double = (n: number): number => n * 2;\n';
    const dir = project({
      'pipelines/p.yaml': pipeline + '  shifted:\n    kind: shift\n    inputs: {x: src.out}\n',
      'stages/scale.ts': scaleKind(),
      'stages/shift.ts': shiftKind,
      'stages/lib/math.ts': math,
    });
    expect(summary(await pipe(dir, 'run', 'pipelines/p.yaml'))).toEqual({ ran: 7, cached: 0, failed: 0 });

    // comments (line, block, JSDoc), blank lines and re-indentation: not a code change
    write(dir, 'stages/lib/math.ts', '/**\n * Doubles a number.\n * @param n any number\n */\nexport const double = (n: number): number =>\n    n * 2; // the factor of the seed\n\n/* end */\n');
    write(dir, 'stages/scale.ts', '// a comment at the top\n' + scaleKind().replace('interface ScaleParams', '/** params */\ninterface   ScaleParams'));
    const st = await statusOf(dir, 'pipelines/p.yaml');
    expect(Object.values(st).map((x) => x.state)).toEqual(Array(7).fill('fresh'));
    expect(summary(await pipe(dir, 'run', 'pipelines/p.yaml'))).toEqual({ ran: 0, cached: 7, failed: 0 });

    // one token of code: exactly the stages whose kind imports the module
    write(dir, 'stages/lib/math.ts', math.replace('n * 2', 'n * 3'));
    const st2 = await statusOf(dir, 'pipelines/p.yaml');
    for (const f of [1, 2, 3]) expect(st2[`scale[factor=${f}]`]!.reasons).toEqual([{ code: 'code-changed', files: ['stages/lib/math.ts'], text: 'code changed: stages/lib/math.ts' }]);
    for (const id of ['src', 'other', 'shifted']) expect(st2[id]!.state, id).toBe('fresh');
    expect(summary(await pipe(dir, 'run', 'pipelines/p.yaml'))).toEqual({ ran: 4, cached: 3, failed: 0 });
    expect(readFileSync(join(dir, 'artifacts/proj/total/out.txt'), 'utf8')).toBe('15\n30\n45\n');
  });

  it('a project kind named like a built-in is a clear error', async () => {
    const dir = project({ 'p.yaml': pipeline, 'stages/split.ts': 'export default {};\n' });
    const r = await pipe(dir, 'run', 'p.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("stages/split.ts: kind 'split' clashes with the built-in kind 'split' of pipe");
    expect((await pipe(dir, 'kinds')).code).toBe(2);
  });

  it('a project kind file must be named after its kind and export it', async () => {
    const dir = project({ 'p.yaml': 'name: x\nstages:\n  a: {kind: scale}\n', 'stages/scale.mjs': "export default { kind: 'scaler', run() {} };\n" });
    const r = await pipe(dir, 'run', 'p.yaml');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("stages/scale.mjs defines kind 'scaler'; a kind's file must be named after it");
  });
});
