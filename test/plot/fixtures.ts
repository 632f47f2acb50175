/**
 * Small, deterministic data shaped like what the seed codebases plot (ActMix α analysis,
 * InfoMax sweep summaries, playground fits and loss landscapes, AGF staircases, MNIST digits),
 * and the plot params for every built-in template.
 */
import { tableFromArrays } from 'apache-arrow';
import { writeTable } from '../../src/sdk/table.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());

export function history(): Record<string, number[]> {
  const r = lcg(1);
  const epoch: number[] = [], train: number[] = [], val: number[] = [];
  for (let e = 1; e <= 25; e++) {
    epoch.push(e);
    train.push(0.7 * Math.exp(-e / 6) + 0.08 + 0.005 * r());
    val.push(0.7 * Math.exp(-e / 6) + 0.1 + 0.0009 * (e - 14) ** 2 + 0.01 * r());
  }
  return { epoch, train_loss: train, val_loss: val };
}

export function alphas(): Record<string, (number | string)[]> {
  const r = lcg(2);
  const bases = ['sine', 'tanh', 'relu', 'identity'];
  const neuron: number[] = [], basis: string[] = [], alpha: number[] = [];
  for (let f = 0; f < 12; f++) {
    const w = bases.map(() => Math.exp(3 * r()));
    const s = w.reduce((a, b) => a + b, 0);
    bases.forEach((b, k) => { neuron.push(f); basis.push(b); alpha.push(w[k]! / s); });
  }
  return { neuron, basis, alpha };
}

export function entropies(): { entropy: number[] } {
  const r = lcg(3);
  return { entropy: Array.from({ length: 64 }, () => Math.max(0, Math.min(Math.log(4), 1.0 + 0.25 * gauss(r)))) };
}

export function dominance(): Record<string, (string | number)[]> {
  return { basis: ['sine', 'tanh', 'relu', 'identity'], neurons: [21, 17, 9, 3] };
}

export function basisMass(): Record<string, (string | number)[]> {
  const layer: string[] = [], basis: string[] = [], mass: number[] = [];
  const m = [[10, 6, 9, 7], [5, 12, 8, 7], [3, 4, 18, 7]];
  m.forEach((row, l) => row.forEach((v, k) => { layer.push(`layer ${l}`); basis.push(['sine', 'tanh', 'relu', 'identity'][k]!); mass.push(v); }));
  return { layer, basis, mass };
}

export function sweep(): Record<string, (string | number)[]> {
  const r = lcg(4);
  const activation: string[] = [], eff_rank: number[] = [], redundancy: number[] = [], dead_units: number[] = [], hidden_dim: number[] = [];
  const acts: [string, number][] = [['relu', 9], ['tanh', 12], ['sigmoid', 7], ['identity', 14], ['softplus', 10], ['elu', 11]];
  for (const [a, mu] of acts) for (const d of [16, 32, 64]) for (let s = 0; s < 4; s++) {
    activation.push(a); hidden_dim.push(d);
    eff_rank.push(mu + d / 16 + gauss(r));
    redundancy.push(1 + 2 * r());
    dead_units.push(Math.floor(r() * (a === 'relu' ? 6 : 2)));
  }
  return { activation, hidden_dim, eff_rank, redundancy, dead_units };
}

export function fitData(): { points: Record<string, number[]>; curves: Record<string, (number | string)[]> } {
  const r = lcg(5);
  const px: number[] = [], py: number[] = [];
  for (let i = 0; i < 40; i++) { const x = -2 + 4 * r(); px.push(x); py.push(x * x + 0.2 * gauss(r)); }
  const cx: number[] = [], cy: number[] = [], series: string[] = [];
  for (let i = 0; i <= 100; i++) {
    const x = -2 + (4 * i) / 100;
    cx.push(x); cy.push(x * x); series.push('true x²');
    cx.push(x); cy.push(1.9 * Math.max(0, x - 0.1) + 1.7 * Math.max(0, -x - 0.1)); series.push('fit (relu)');
  }
  return { points: { x: px, y: py }, curves: { x: cx, y: cy, series } };
}

export function landscape(): { grid: Record<string, number[]>; traj: Record<string, number[]> } {
  const w: number[] = [], b: number[] = [], mse: number[] = [];
  for (let i = 0; i <= 40; i++) for (let j = 0; j <= 40; j++) {
    const wv = -4 + (8 * i) / 40, bv = -4 + (8 * j) / 40;
    w.push(wv); b.push(bv);
    mse.push(0.3 + 0.5 * (wv - 1.5) ** 2 + 0.3 * (bv + 0.5) ** 2 + 0.2 * Math.sin(wv) * Math.cos(bv));
  }
  const tw: number[] = [], tb: number[] = [], step: number[] = [];
  for (let s = 0; s <= 30; s++) { tw.push(-3 + 4.5 * (1 - Math.exp(-s / 8))); tb.push(3 - 3.5 * (1 - Math.exp(-s / 6))); step.push(s * 10); }
  return { grid: { w, b, mse }, traj: { w: tw, b: tb, step } };
}

export function staircase(): Record<string, number[]> {
  const step: number[] = [], loss: number[] = [];
  for (let s = 0; s <= 300; s += 3) {
    step.push(s);
    const l = 5 / (1 + Math.exp((s - 80) / 4)) + 0.45 / (1 + Math.exp((s - 190) / 5)) + 0.05 + 0.02 * Math.exp(-s / 50);
    loss.push(l);
  }
  return { step, loss };
}

/** Eight 8×8 "digits" (strokes), wide format p0..p63 plus label. */
export function digits(): Record<string, number[]> {
  const cols: Record<string, number[]> = { label: [] };
  for (let k = 0; k < 64; k++) cols[`p${k}`] = [];
  for (let n = 0; n < 8; n++) {
    cols.label!.push(n);
    for (let k = 0; k < 64; k++) {
      const r = Math.floor(k / 8), c = k % 8;
      const on = n % 2 === 0 ? (c === 2 + (n % 3) || r === 1 + (n % 5)) : Math.abs(r - c) <= 1 || r + c === 7 - (n % 3);
      cols[`p${k}`]!.push(on ? 1 : 0.05 * ((r * 7 + c * 3 + n) % 5));
    }
  }
  return cols;
}

export async function writeArrow(dir: string, name: string, cols: Record<string, unknown[]>): Promise<string> {
  const arrays: Record<string, any> = {};
  for (const [k, v] of Object.entries(cols)) arrays[k] = typeof v[0] === 'number' ? Float64Array.from(v as number[]) : (v as string[]);
  const path = join(dir, `${name}.arrow`);
  await writeTable(path, tableFromArrays(arrays) as any);
  return path;
}

export async function writeJson(dir: string, name: string, value: unknown): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(path, JSON.stringify(value));
  return path;
}

export interface Case {
  name: string;
  template: string;
  params: Record<string, unknown>;
  data: (dir: string) => Promise<string>;
  overlay?: (dir: string) => Promise<string>;
}

/** One case per template (plus facets), each drawing a figure the seeds draw. */
export const CASES: Case[] = [
  { name: 'line-best', template: 'line', params: { title: 'Loss curves (best epoch marked)', x: 'epoch', y: ['train_loss', 'val_loss'], best: 'min', best_field: 'val_loss', y_title: 'BCE loss' }, data: (d) => writeJson(d, 'history', history()) },
  { name: 'line-staircase', template: 'line', params: { title: 'AGF staircase', x: 'step', y: 'loss', log_y: true, rules: [{ y: 5, label: 'L0 = 5.0' }, { y: 0.5, label: 'L1 = 0.5' }], y_title: 'MSE (log)' }, data: (d) => writeArrow(d, 'stair', staircase()) },
  { name: 'heatmap-alpha', template: 'heatmap', params: { title: 'α per neuron', x: 'basis', y: 'neuron', color: 'alpha', domain: [0, 1], labels: true, color_title: 'α' }, data: (d) => writeArrow(d, 'alpha', alphas()) },
  { name: 'histogram-entropy', template: 'histogram', params: { title: 'Neuron entropy', x: 'entropy', bins: 20, mean_line: true, rules: [{ x: Math.log(4), label: 'ln K' }] }, data: (d) => writeArrow(d, 'entropy', entropies()) },
  { name: 'pie-dominance', template: 'pie', params: { title: 'Dominant basis', color: 'basis', theta: 'neurons' }, data: (d) => writeArrow(d, 'dom', dominance()) },
  { name: 'bar-grouped', template: 'bar', params: { title: 'α of selected neurons', x: 'neuron', y: 'alpha', color: 'basis', filter: 'datum.neuron < 4' }, data: (d) => writeArrow(d, 'alpha', alphas()) },
  { name: 'stacked-bar-mass', template: 'stacked-bar', params: { title: 'Basis mass per layer', x: 'layer', y: 'mass', color: 'basis' }, data: (d) => writeArrow(d, 'mass', basisMass()) },
  { name: 'box-eff-rank', template: 'box', params: { title: 'Effective rank by activation', x: 'activation', y: 'eff_rank' }, data: (d) => writeArrow(d, 'sweep', sweep()) },
  { name: 'scatter-redundancy', template: 'scatter', params: { title: 'Redundancy vs dead units', x: 'redundancy', y: 'dead_units', color: 'activation' }, data: (d) => writeArrow(d, 'sweep', sweep()) },
  { name: 'facet-scatter', template: 'scatter', params: { title: 'Per hidden width', x: 'redundancy', y: 'eff_rank', color: 'activation', facet: 'hidden_dim', columns: 3 }, data: (d) => writeArrow(d, 'sweep', sweep()) },
  { name: 'fit-relu', template: 'fit', params: { title: 'Single ReLU neuron fit', x: 'x', y: 'y', color: 'series', notes: ['x ∈ [-2, 2]', 'w = 1.90, b = -0.19', 'v = 1.00, c = 0.00'] }, data: (d) => writeArrow(d, 'points', fitData().points), overlay: (d) => writeArrow(d, 'curves', fitData().curves) },
  { name: 'image-grid-digits', template: 'image-grid', params: { title: 'Digits', shape: [8, 8], label: 'label', columns: 4 }, data: (d) => writeArrow(d, 'digits', digits()) },
  { name: 'band-folds', template: 'band', params: { title: 'Validation loss over 5 folds (mean ± std)', x: 'epoch', y: 'val_loss', color: 'act' }, data: (d) => writeArrow(d, 'folds', foldCurves()) },
  { name: 'forest-paired', template: 'forest', params: { title: 'ActMix − baseline (95% CI)', x: 'mean', lo: 'ci_low', hi: 'ci_high', y: 'label', facet: 'metric' }, data: (d) => writeArrow(d, 'paired', pairedRows()) },
  { name: 'contour-landscape', template: 'contour', params: { title: 'ReLU (w, b) loss landscape', x: 'w', y: 'b', color: 'mse', levels: 8, order: 'step' }, data: (d) => writeArrow(d, 'grid', landscape().grid), overlay: (d) => writeArrow(d, 'traj', landscape().traj) },
];

/** Validation curves of 2 activations × 5 folds, rows tagged by source as a gather tags them. */
export function foldCurves(): Record<string, unknown[]> {
  const cols: Record<string, unknown[]> = { epoch: [], val_loss: [], act: [], fold: [], source: [] };
  for (const act of ['relu', 'tanh']) for (let fold = 0; fold < 5; fold++) for (let e = 1; e <= 12; e++) {
    cols.epoch!.push(e);
    cols.val_loss!.push((act === 'relu' ? 0.4 : 0.5) + Math.exp(-e / 4) + 0.01 * fold);
    cols.act!.push(act);
    cols.fold!.push(String(fold));
    cols.source!.push(`train[act=${act},fold=${fold}]`);
  }
  return cols;
}

/** An aggregate stage's paired table, reduced to what a forest plot needs. */
export function pairedRows(): Record<string, unknown[]> {
  const labels = ['adult · actmix − relu', 'adult · actmix − gelu', 'magic · actmix − relu', 'magic · actmix − gelu'];
  const cols: Record<string, unknown[]> = { label: [], metric: [], mean: [], ci_low: [], ci_high: [], p_adj: [] };
  for (const metric of ['accuracy', 'roc_auc']) labels.forEach((l, i) => {
    const m = (i - 1.5) * 0.002 * (metric === 'accuracy' ? 1 : 0.5);
    cols.label!.push(l); cols.metric!.push(metric); cols.mean!.push(m); cols.ci_low!.push(m - 0.003); cols.ci_high!.push(m + 0.003); cols.p_adj!.push(0.2 + i / 10);
  });
  return cols;
}
