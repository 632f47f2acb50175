/**
 * The §C playground stages end to end on small settings: generate-synthetic (playground, named
 * and user polynomials), fit-neuron (seed-order init positions, outputs, bad params), the
 * convergence GIF (one frame per snapshot, size, 12 fps, y range following the prediction) and
 * playground-report listing all 30 runs.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runStageDirect } from '../../src/engine/exec/context.js';
import gen from '../../src/stages/generate-synthetic.js';
import fitNeuron from '../../src/stages/fit-neuron.js';
import landscape from '../../src/stages/neuron-landscape.js';
import animation, { fixedDomains } from '../../src/stages/animation.js';
import report from '../../src/stages/playground-report.js';
import { readTable, numericColumn, stringColumn, tableMeta } from '../../src/sdk/table.js';
import { parseGif } from '../plot/gif-reader.js';
import { decodeGif } from '../plot/gif-decode.js';
import * as nm from '../../src/lib/ml/neuron.js';

const POLYS = ['linear_pos', 'quadratic_u', 'cubic_s', 'cubic_neg', 'quartic_w'];
const ACTS = ['tanh', 'relu', 'sigmoid', 'leaky_relu', 'sine', 'identity'];
const data: Record<string, string> = {};
const small = { training: { epochs: 100, snapshot_every: 25, halving_every: 50 }, optimum: { w: [-6, 6, 49], b: [-8, 8, 65] } };

beforeAll(async () => {
  for (const p of POLYS) data[p] = (await runStageDirect(gen, { params: { generator: 'playground', polynomial: p } })).outputs.table!;
});

describe('generate-synthetic playground (§C.1)', () => {
  it('200 points of numpy.linspace(−2.5, 2.5) and the five targets, quartic_w = (0.2x²)²', async () => {
    const t = await readTable(data.quartic_w!);
    const x = numericColumn(t, 'x').values, y = numericColumn(t, 'y').values;
    expect(x).toHaveLength(200);
    expect([x[0], x[199]]).toEqual([-2.5, 2.5]);
    expect(x[1]).toBeCloseTo(-2.5 + 5 / 199, 15);
    for (let i = 0; i < 200; i += 37) expect(y[i]).toBeCloseTo(0.04 * x[i]! ** 4, 12);
    const c = numericColumn(await readTable(data.cubic_s!), 'y').values;
    expect(c[0]).toBeCloseTo(0.4 * -15.625 - 0.8 * 6.25 + 1.5 * -2.5 + 0.5, 12);
    expect((tableMeta(t).generator as any).coefficients).toMatchObject({ b: 0.2, form: 'square' });
  });
  it('user coefficients', async () => {
    const r = await runStageDirect(gen, { params: { generator: 'playground', coefficients: { a: 1, d: -1 }, name: 'mine', points: 11 } });
    const t = await readTable(r.outputs.table!);
    expect(numericColumn(t, 'y').values[10]).toBeCloseTo(2.5 ** 3 - 1, 12);
    expect(tableMeta(t).dataset).toBe('playground_mine');
  });
});

describe('fit-neuron', () => {
  it('writes metrics, snapshots (initial + every N + final), the fit table and frames', async () => {
    const r = await runStageDirect(fitNeuron, { params: { model: { activation: 'tanh' }, ...small }, inputs: { data: data.cubic_s! } });
    const m = JSON.parse(await readFile(r.outputs.metrics!, 'utf8'));
    expect(m.polynomial).toBe('cubic_s');
    expect(m.var_y).toBeCloseTo(22.3154, 3);
    expect(m.best_mse).toBeLessThan(m.var_y * 1.5);
    expect(m.optimum_mse).toBeLessThanOrEqual(m.best_mse);
    expect(m.gap).toBeCloseTo(m.best_mse - m.optimum_mse, 12);
    const s = await readTable(r.outputs.snapshots!);
    expect(numericColumn(s, 'updates').values).toEqual(Float64Array.of(0, 25, 50, 75, 100));
    // the restored parameters have the reported MSE
    const p = Float64Array.of(m.w, m.b, m.v, m.c);
    const d = await readTable(data.cubic_s!);
    expect(nm.neuronModel(nm.activation('tanh')).lossGrad(p, numericColumn(d, 'x').values, numericColumn(d, 'y').values)).toBeCloseTo(m.best_mse, 12);
    const f = await readTable(r.outputs.fit!);
    expect(f.numRows).toBe(3 * 600);
    expect(new Set(stringColumn(f, 'curve')).size).toBe(3);
    expect(stringColumn(f, 'notes')[0]).toMatch(/^x∈\[-2\.50,2\.50\]\nw=.*\nb=.*\nv=.*\nc=.*\nŷ∈\[/);
  });
  it('seed-order init: the position follows the seed order, independent init follows the stage seed', async () => {
    const init = async (params: object, d = data.cubic_s!) => JSON.parse(await readFile((await runStageDirect(fitNeuron, { params: { ...params, training: { epochs: 1, snapshot_every: 1 }, optimum: { enabled: false } }, inputs: { data: d } })).outputs.metrics!, 'utf8'));
    const a = await init({ model: { activation: 'sigmoid' }, init: { stream: 'seed-order' } });
    expect(a.init_position).toBe(2 * 6 + 2);
    const b = await init({ model: { activation: 'tanh' }, init: { stream: 'seed-order', position: 14 } });
    expect([b.init_w, b.init_b, b.init_v, b.init_c]).toEqual([a.init_w, a.init_b, a.init_v, a.init_c]);
    const c = await init({ model: { activation: 'sigmoid' } });
    expect(c.init_w).not.toBe(a.init_w);
  });
  it('bad params give clear errors', async () => {
    await expect(runStageDirect(fitNeuron, { params: { model: { activation: 'gelu' } }, inputs: { data: data.cubic_s! } })).rejects.toThrow(/activation/);
    const custom = (await runStageDirect(gen, { params: { generator: 'playground', coefficients: { c: 1 } } })).outputs.table!;
    await expect(runStageDirect(fitNeuron, { params: { init: { stream: 'seed-order' } }, inputs: { data: custom } })).rejects.toThrow(/polynomial 'custom' is not in init.order.polynomials.*give init.position/);
  });
  it('the tiny MLP with Adam fits cubic_s far better than the constant', async () => {
    const r = await runStageDirect(fitNeuron, { params: { model: { type: 'mlp', hidden: [8] }, training: { optimizer: 'adam', lr: 0.01, epochs: 1500, snapshot_every: 500, halving_every: 0 } }, inputs: { data: data.cubic_s! } });
    const m = JSON.parse(await readFile(r.outputs.metrics!, 'utf8'));
    expect(m.parameters).toBe(25);
    expect(m.best_mse).toBeLessThan(0.05 * m.var_y);
  });
});

describe('figures and report', () => {
  it('convergence GIF: one frame per snapshot, 480×320, 12 fps, y range following the prediction ±0.5', async () => {
    const r = await runStageDirect(fitNeuron, { params: { model: { activation: 'relu' }, ...small }, inputs: { data: data.quadratic_u! } });
    const params = { frame: 'snapshot', template: 'fit', x: 'x', y: 'y', color: 'curve', notes_field: 'notes', follow_y: 0.5, fps: 12, width: 480, height: 320, hold_last_ms: 0 };
    const g = await runStageDirect(animation, { params, inputs: { data: data.quadratic_u!, overlay: r.outputs.frames! } });
    const bytes = await readFile(g.outputs.gif!);
    const gif = parseGif(bytes);
    expect([gif.width, gif.height]).toEqual([480, 320]);
    expect(gif.frames).toHaveLength(5);
    expect(gif.frames.every((f) => f.delayCs === 8)).toBe(true); // 1/12 s
    const frames = decodeGif(bytes).frames;
    expect(frames).toHaveLength(5);
    expect(Buffer.from(frames[0]!).equals(Buffer.from(frames[4]!))).toBe(false);
    // follow_y: frame 0 equals the figure drawn directly with y domain = extent of its rows ± 0.5
    const { tableRows } = await import('../../src/lib/plot/data.js');
    const { buildFigureSpec } = await import('../../src/lib/plot/figure.js');
    const { renderVegaLite } = await import('../../src/lib/plot/render.js');
    const pts = tableRows(await readTable(data.quadratic_u!));
    const all = tableRows(await readTable(r.outputs.frames!));
    const f0 = all.filter((row) => row.snapshot === null || row.snapshot === 0);
    const ys = [...pts, ...f0].map((row) => row.y as number);
    const fp = { ...params, ...fixedDomains(params as any, pts, all), title: 'snapshot 0', y_domain: [+(Math.min(...ys) - 0.5).toPrecision(6), +(Math.max(...ys) + 0.5).toPrecision(6)] };
    const direct = await renderVegaLite(buildFigureSpec(fp as any, { data: pts, overlay: f0 }), { width: 480, height: 320, scale: 1 });
    // (within the GIF's palette: mean error per channel, pixels off by more than 32)
    const err = (gif: Uint8Array, rgba: Uint8Array) => {
      let sum = 0, far = 0;
      for (let k = 0; k < rgba.length; k += 4) {
        let m = 0;
        for (let c = 0; c < 3; c++) { const e = Math.abs(gif[k + c]! - rgba[k + c]!); sum += e; m = Math.max(m, e); }
        if (m > 32) far++;
      }
      return { mean: sum / (rgba.length * 3 / 4), far };
    };
    const e0 = err(frames[0]!, direct.pixels);
    expect(e0.mean).toBeLessThan(0.5);
    expect(e0.far).toBe(0);
    // and a different margin gives a different picture
    const wide = await renderVegaLite(buildFigureSpec({ ...fp, y_domain: [fp.y_domain[0]! - 2, fp.y_domain[1]! + 2] } as any, { data: pts, overlay: f0 }), { width: 480, height: 320, scale: 1 });
    expect(err(frames[0]!, wide.pixels).far).toBeGreaterThan(1000);
  });
  it('the landscape kind: 151×151 grid and the activation table', async () => {
    const r = await runStageDirect(landscape, { params: { activation: 'relu' }, inputs: { data: data.cubic_s! } });
    const g = await readTable(r.outputs.grid!);
    expect(g.numRows).toBe(151 * 151);
    const a = await readTable(r.outputs.activation!);
    expect(numericColumn(a, 'df').values[0]).toBe(0);
    await expect(runStageDirect(landscape, { params: { w: [1, 1, 10] }, inputs: { data: data.cubic_s! } })).rejects.toThrow(/range \[1, 1\] is empty/);
  });
  it('the report lists all 30 runs, sorted by MSE per polynomial, with winners', async () => {
    const runs = [];
    for (const p of POLYS) for (const a of ACTS) {
      const r = await runStageDirect(fitNeuron, { params: { model: { activation: a }, training: { epochs: 50, snapshot_every: 25 }, optimum: { w: [-6, 6, 13], b: [-8, 8, 17] } }, inputs: { data: data[p]! } });
      runs.push({ path: r.outputs.metrics!, hash: '', from: `fit[polynomial=${p},activation=${a}]`, output: 'metrics', matrix: { polynomial: p, activation: a } });
    }
    const r = await runStageDirect(report, { inputs: { runs } });
    const md = await readFile(join(r.outputs.markdown!, 'REPORT.md'), 'utf8');
    const rows = md.split('\n').filter((l) => /^\| \d+ \| /.test(l));
    expect(rows).toHaveLength(30);
    for (const p of POLYS) {
      const sec = md.split(`## ${p}\n`)[1]!.split('\n## ')[0]!;
      const mses = sec.split('\n').filter((l) => /^\| \d+ \| /.test(l)).map((l) => Number(l.split('|')[3]));
      expect(mses).toHaveLength(6);
      expect([...mses].sort((a, b) => a - b)).toEqual(mses);
    }
    expect(md).toMatch(/## Winners/);
    const res = JSON.parse(await readFile(r.outputs.results!, 'utf8'));
    expect(res.runs).toHaveLength(30);
    expect(res.winners).toHaveLength(5);
    expect(await readdir(r.outputs.markdown!)).toEqual(expect.arrayContaining(['REPORT.md', 'index.html', 'figures']));
  });
});
