/**
 * A small real project for the run-comparison tests: a project stage kind `fit` that "trains"
 * for a few epochs (a deterministic function of lr, width and seed), writes a `curves` table
 * (Arrow, one row per epoch) and returns test metrics, behind a `command` data stage.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { project, repoRoot } from '../engine/helpers.js';

const arrowUrl = pathToFileURL(createRequire(repoRoot + '/package.json').resolve('apache-arrow')).href;

export const FIT_KIND = `
import { tableFromArrays, tableToIPC } from '${arrowUrl}';
import { writeFile } from 'node:fs/promises';

interface P { lr: number; width: number; epochs: number }
interface Ctx {
  params: P; seed: number;
  input(name: string): { readText(): Promise<string> };
  output(name: string): { path: string; writeText(t: string): Promise<void> };
}

export default {
  kind: 'fit',
  version: '1',
  description: 'toy training: curves and test metrics from lr, width and seed',
  paramsSchema: {
    type: 'object',
    properties: { lr: { type: 'number' }, width: { type: 'integer', default: 8 }, epochs: { type: 'integer', default: 6 } },
    required: ['lr'], additionalProperties: false,
  },
  inputs: { data: { type: 'text' } },
  outputs: { curves: { type: 'table' }, model: { type: 'text' } },
  async run(ctx: Ctx) {
    const n = Number((await ctx.input('data').readText()).trim());
    const { lr, width, epochs } = ctx.params;
    const noise = ((ctx.seed * 7919) % 13) / 1000;
    const epoch = new Int32Array(epochs), val_loss = new Float64Array(epochs), val_accuracy = new Float64Array(epochs);
    for (let e = 0; e < epochs; e++) {
      epoch[e] = e + 1;
      // overfits after epoch 4: the best validation loss is not the last
      val_loss[e] = 1 / (1 + lr * 10 * (e + 1)) + (e > 3 ? 0.02 * (e - 3) : 0) + noise;
      val_accuracy[e] = 1 - val_loss[e] / 2;
    }
    await writeFile(ctx.output('curves').path, tableToIPC(tableFromArrays({ epoch, val_loss, val_accuracy }), 'file'));
    await ctx.output('model').writeText(JSON.stringify({ lr, width, n }) + '\\n');
    const acc = Math.min(0.99, 0.7 + 0.5 * lr + 0.004 * width + noise);
    return { metrics: { test_accuracy: acc, rmse: 1 - acc, epochs_run: epochs } };
  },
};
`;

export const FIT_PIPELINE = (extra = '') => `
name: toy
params:
  lr: 0.1
  width: 8
  label: base
${extra}
stages:
  data:
    kind: command
    params: {cmd: 'echo 100 > \${outputs.out}', outs: {out: text}}
  fit:
    kind: fit
    inputs: {data: data.out}
    params: {lr: '\${params.lr}', width: '\${params.width}'}
  note:
    kind: command
    params: {cmd: 'echo \${params.label} > \${outputs.out}', outs: {out: text}}
`;

export const GOALS = `metrics:
  test_accuracy: {goal: max}
  rmse: {goal: min}
  val_loss: {goal: min}`;

export const MATRIX_PIPELINE = `
name: grid
seed: 3
params:
  lr: 0.1
metrics:
  test_accuracy: {goal: max}
stages:
  data:
    kind: command
    params: {cmd: 'echo 100 > \${outputs.out}', outs: {out: text}}
  fit:
    kind: fit
    matrix: {width: [4, 16], fold: {range: 3}}
    seed: {derive: [fold]}
    inputs: {data: data.out}
    params: {lr: '\${params.lr}', width: '\${matrix.width}'}
`;

export function toyProject(pipeline: string, file = 'p.yaml'): string {
  return project({ [file]: pipeline, 'stages/fit.ts': FIT_KIND });
}
