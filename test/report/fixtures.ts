/**
 * A small but real pipeline run for report tests: artifacts are produced by the real `plot` and
 * `animation` kinds, tables are Arrow files, and the ReportData has the shape the engine fills.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import plot from '../../src/stages/plot.js';
import animation from '../../src/stages/animation.js';
import { runStageDirect } from '../../src/engine/exec/context.js';
import type { ReportData, ReportStage } from '../../src/lib/report/types.js';
import { CASES, history, writeArrow, writeJson, fitData } from '../plot/fixtures.js';

function stage(p: Partial<ReportStage> & { id: string; kind: string }): ReportStage {
  return { base: p.id.replace(/\[.*$/, ''), state: 'fresh', reasons: [], params: {}, matrix: {}, deps: [], outputs: [], ...p };
}

/** Runs a plot case into dir/<name>/ and returns its outputs as report outputs. */
async function plotOutputs(dir: string, name: string, extra: Record<string, unknown> = {}) {
  const c = CASES.find((x) => x.name === name)!;
  const out = join(dir, 'objects', name);
  await mkdir(out, { recursive: true });
  const inputs: Record<string, string> = { data: await c.data(out) };
  if (c.overlay) inputs.overlay = await c.overlay(out);
  const r = await runStageDirect(plot, { params: { template: c.template, ...c.params, ...extra }, inputs, outDir: out });
  return {
    params: r.params,
    outputs: (['svg', 'png', 'spec'] as const).map((k) => ({ name: k, type: k === 'spec' ? 'json' : k, path: r.outputs[k]!, hash: `h-${name}-${k}` })),
  };
}

export async function buildRun(dir: string, opts: { sweep?: number } = {}): Promise<ReportData> {
  const stages: ReportStage[] = [];
  const objects = join(dir, 'objects');
  await mkdir(objects, { recursive: true });
  const table = await writeArrow(objects, 'prep-train', { age: [39, 50, 38, 53, 28], hours: [40, 13, 40, 40, 40], label: [0, 0, 0, 1, 1] });
  stages.push(stage({ id: 'prep', kind: 'encode', params: { onehot: ['workclass'], fit_on: 'train' }, durationMs: 412, outputs: [{ name: 'train', type: 'table', path: table, hash: 'h-prep' }] }));
  const models = ['relu', 'actmix'];
  for (let fold = 0; fold < 3; fold++) {
    for (const model of models) {
      const id = `train[fold=${fold},model=${model}]`;
      const h = history();
      const hp = await writeJson(objects, `hist-${fold}-${model}`, h);
      const metrics = { accuracy: 0.84 + 0.01 * fold + (model === 'actmix' ? 0.012 : 0), roc_auc: 0.9 + 0.003 * fold, best_epoch: 16 };
      const mp = await writeJson(objects, `metrics-${fold}-${model}`, metrics);
      const failed = fold === 2 && model === 'actmix';
      stages.push(stage({
        id, kind: 'train', matrix: { fold, model }, deps: ['prep'], params: { model, epochs: 25, lr: 0.001 },
        state: failed ? 'failed' : fold === 1 && model === 'relu' ? 'stale' : 'fresh',
        reasons: failed ? ['the last run failed'] : fold === 1 && model === 'relu' ? ['params changed: lr 0.01 → 0.001'] : [],
        ...(failed ? { error: 'Error: NaN loss at epoch 3 <check the learning rate>' } : { metrics, durationMs: 8200 + fold * 300 }),
        outputs: failed ? [] : [{ name: 'history', type: 'json', path: hp, hash: `h-${id}-h` }, { name: 'metrics', type: 'json', path: mp, hash: `h-${id}-m` }],
      }));
    }
  }
  const trainIds = stages.filter((s) => s.base === 'train').map((s) => s.id);
  const loss = await plotOutputs(dir, 'line-best');
  stages.push(stage({ id: 'loss_curves', kind: 'plot', deps: trainIds, params: loss.params, outputs: loss.outputs, durationMs: 640 }));
  const heat = await plotOutputs(dir, 'heatmap-alpha');
  stages.push(stage({ id: 'alpha_heatmap', kind: 'plot', deps: [trainIds[1]!], params: heat.params, outputs: heat.outputs, durationMs: 120 }));
  const land = await plotOutputs(dir, 'contour-landscape');
  stages.push(stage({ id: 'landscape', kind: 'plot', deps: [], params: land.params, outputs: land.outputs, durationMs: 300 }));
  // a GIF from the real animation kind
  const animDir = join(objects, 'anim');
  await mkdir(animDir, { recursive: true });
  // the playground's convergence GIF: data points + the fitted curve at each snapshot
  const step: number[] = [], x: number[] = [], y: number[] = [];
  for (let s = 0; s < 8; s++) for (let i = 0; i <= 40; i++) { const xv = -2 + (4 * i) / 40; step.push(s * 100); x.push(xv); y.push((1 - Math.exp(-s / 2)) * xv * xv); }
  const snaps = await writeArrow(animDir, 'snapshots', { step, x, y });
  const a = await runStageDirect(animation, {
    params: { frame: 'step', template: 'fit', x: 'x', y: 'y', title: 'Convergence', width: 240, height: 160, fps: 12 },
    inputs: { data: await writeArrow(animDir, 'points', fitData().points), overlay: snaps }, outDir: animDir,
  });
  stages.push(stage({ id: 'convergence', kind: 'animation', deps: ['landscape'], params: a.params, outputs: [{ name: 'gif', type: 'gif', path: a.outputs.gif!, hash: 'h-gif' }], durationMs: 900 }));
  const summary = join(objects, 'summary.json');
  await writeFile(summary, JSON.stringify({ best_model: 'actmix', folds: 3, note: '<b>not html</b>' }));
  stages.push(stage({ id: 'summary', kind: 'command', deps: trainIds, params: { cmd: 'python summarize.py' }, state: 'never-run', reasons: ['never run'], outputs: [{ name: 'summary', type: 'json', path: summary, hash: 'h-sum' }] }));
  if (opts.sweep) {
    const acts = ['relu', 'tanh', 'sigmoid', 'identity'];
    const sweepIds: string[] = [];
    for (let i = 0; i < opts.sweep; i++) {
      const m = { act: acts[i % 4]!, dim: [16, 32, 64][Math.floor(i / 4) % 3]!, seed: Math.floor(i / 12) + 1 };
      const id = `sweep[act=${m.act},dim=${m.dim},seed=${m.seed}]`;
      sweepIds.push(id);
      stages.push(stage({ id, kind: 'train', matrix: m, deps: ['prep'], params: { ...m }, state: i % 7 === 3 ? 'stale' : 'fresh', metrics: { eff_rank: 10 + (i % 5) }, durationMs: 1000 + i }));
    }
    stages.push(stage({ id: 'sweep_summary', kind: 'plot', deps: sweepIds, params: {}, state: 'stale', reasons: ['input sweep[*] changed'] }));
  }
  return { pipeline: { name: 'actmix-adult', file: 'pipelines/actmix.yaml', params: { seed: 42, folds: 3, models } }, generatedAt: '2026-11-23T05:00:00.000Z', stages };
}
