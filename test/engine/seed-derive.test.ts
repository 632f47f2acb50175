import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { loadGraph } from '../../src/engine/front/pipeline.js';
import { deriveSeed } from '../../src/engine/front/expand.js';
import { PipeError } from '../../src/engine/errors.js';
import { loadTf } from '../../src/lib/ml/backend.js';
import { Mlp, ACTMIX_PRESETS, type MlpSpec } from '../../src/lib/ml/mlp.js';
import type { Tf } from '../../src/lib/ml/optim.js';
import { Rng } from '../../src/sdk/rng.js';
import { project, repoRoot } from './helpers.js';

let tf: Tf;
beforeAll(async () => { tf = (await loadTf('wasm')).tf as unknown as Tf; });

async function seedsOf(file: string, sets: string[] = []): Promise<Map<string, { seed: number; matrix: Record<string, unknown> }>> {
  const g = await loadGraph(file, sets);
  return new Map(g.pipeline.instances.map((i) => [i.id, { seed: i.seed, matrix: i.matrix }]));
}

describe('seed: {derive: [keys]} — per-instance seeds from chosen matrix keys', () => {
  it('actmix_quick: the models of a fold share a seed, folds differ; xgboost gets its fold\'s seed', async () => {
    const s = await seedsOf(join(repoRoot, 'pipelines/actmix_quick.yaml'));
    const train = [...s.entries()].filter(([id]) => id.startsWith('train['));
    expect(train).toHaveLength(3 * 4);
    const byFold = new Map<number, Set<number>>();
    for (const [, v] of train) {
      const f = Number(v.matrix.fold);
      if (!byFold.has(f)) byFold.set(f, new Set());
      byFold.get(f)!.add(v.seed);
    }
    expect([...byFold.values()].map((x) => x.size)).toEqual([1, 1, 1]); // one seed per fold
    const perFold = [0, 1, 2].map((f) => [...byFold.get(f)!][0]!);
    expect(new Set(perFold).size).toBe(3); // folds differ
    expect(perFold[0]).toBe(deriveSeed(1192, { dataset: 'magic', fold: 0 }));
    expect(s.get('xgboost[dataset=magic,fold=1]')!.seed).toBe(perFold[1]);
    // the pipeline seed moves every derived seed; a stage without `seed:` keeps the pipeline seed
    const s7 = await seedsOf(join(repoRoot, 'pipelines/actmix_quick.yaml'), ['seed=7']);
    expect(s7.get('train[dataset=magic,fold=0,model=relu]')!.seed).toBe(deriveSeed(7, { dataset: 'magic', fold: 0 }));
    expect(s7.get('train[dataset=magic,fold=0,model=relu]')!.seed).not.toBe(perFold[0]);
    expect(s.get('results')!.seed).toBe(1192);
    // the same in actmix_cv
    const cv = await seedsOf(join(repoRoot, 'pipelines/actmix_cv.yaml'));
    expect(cv.get('train[dataset=adult,fold=4,model=actmix]')!.seed).toBe(cv.get('train[dataset=adult,fold=4,model=prelu]')!.seed);
    expect(cv.get('train[dataset=adult,fold=4,model=actmix]')!.seed).not.toBe(cv.get('train[dataset=adult,fold=5,model=actmix]')!.seed);
  });

  it('same initial weights across models within a fold, different across folds (as train.ts inits)', async () => {
    const s = await seedsOf(join(repoRoot, 'pipelines/actmix_quick.yaml'));
    const spec = (activation: MlpSpec['activation']): MlpSpec => ({
      inputDim: 10, outputDim: 2, hidden: [128, 128], dropout: 0.1, activation,
      ...(activation === 'actmix' ? { actmix: ACTMIX_PRESETS['actmix-paper'] } : {}),
    });
    // train.ts: Mlp.create(tf, spec, ctx.rng.fork('init')) with ctx.rng = new Rng(instance seed)
    const dense = (model: string, fold: number) => {
      const seed = s.get(`train[dataset=magic,fold=${fold},model=${model}]`)!.seed;
      const m = Mlp.create(tf, spec(model as MlpSpec['activation']), new Rng(seed).fork('init'));
      const w = m.params.filter((p) => p.name.startsWith('dense')).map((p) => Array.from((p.v as TF.Variable).dataSync()));
      m.dispose();
      return w;
    };
    const a0 = dense('actmix', 0);
    expect(a0.length).toBe(6); // 3 × (W, b)
    for (const model of ['relu', 'gelu', 'prelu']) expect(dense(model, 0)).toEqual(a0);
    const a1 = dense('actmix', 1);
    expect(a1[0]).not.toEqual(a0[0]);
  });

  it('a key that is not in the matrix is an error at the seed', async () => {
    const dir = project({ 'p.yaml': `name: t
stages:
  a:
    kind: command
    matrix: {fold: [0, 1]}
    seed: {derive: [flod]}
    params: {cmd: 'echo > \${outputs.out}', outs: {out: text}}
` });
    const err = await loadGraph(join(dir, 'p.yaml')).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(PipeError);
    expect((err as PipeError).format()).toMatch(/p\.yaml:6:\d+: stage 'a\[fold=0\]': seed\.derive names 'flod', not a matrix key of this stage \(did you mean 'fold'\?\)/);
  });
});
