/**
 * The Hebbian pipeline's kinds end to end on generated data: train-hebbian (a stable recipe lands
 * near the Bayes accuracy of §E.7; the seed's γ = 0 Hebbian recipe is reported as diverged and
 * scored from its best epoch; the seed's CSV columns; the npz; multi-task; meta-tuner choices), split's
 * permutation rule, load-csv's schema detection, fit-separator's fits.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStageDirect } from '../../src/engine/exec/context.js';
import gen from '../../src/stages/generate-synthetic.js';
import split from '../../src/stages/split.js';
import standardize from '../../src/stages/standardize.js';
import hebb from '../../src/stages/train-hebbian.js';
import loadCsv, { detectSchema } from '../../src/stages/load-csv.js';
import sep, { logistic, perceptron } from '../../src/stages/fit-separator.js';
import { readTable, tableMeta } from '../../src/sdk/table.js';

let study: Record<string, string>, health: Record<string, string>;

async function prep(generator: string, n: number): Promise<Record<string, string>> {
  const g = await runStageDirect(gen, { params: { generator, n }, seed: 42 });
  const s = await runStageDirect(split, { params: { method: 'permutation', val_fraction: 0.15, test_fraction: 0.15 }, inputs: { table: g.outputs.table! }, seed: 42 });
  const info = JSON.parse(readFileSync(s.outputs.info!, 'utf8'));
  expect(info.sizes).toEqual({ train: Math.floor(0.7 * n), val: Math.floor(0.15 * n), test: n - Math.floor(0.7 * n) - Math.floor(0.15 * n) });
  const p = await runStageDirect(standardize, { params: { eps: 1e-8 }, inputs: { train: s.outputs.train!, val: s.outputs.val!, test: s.outputs.test! } });
  return { train: p.outputs.train!, val: p.outputs.val!, test: p.outputs.test! };
}

beforeAll(async () => {
  study = await prep('study_success', 1200);
  health = await prep('health_risk', 1500);
});

describe('train-hebbian', () => {
  it('the health Adam recipe lands within 3 points of the Bayes accuracy (0.962); CSV, curves, npz, metrics', async () => {
    const r = await runStageDirect(hebb, { params: { hidden: [32, 16], lr: 0.03, optimizer: 'adam', weight_decay: 5e-4 }, inputs: health, seed: 1 });
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    expect(m.diverged).toBe(0);
    expect(m.test.accuracy).toBeGreaterThan(0.962 - 0.03);
    expect(m.epochs_run).toBe(25);
    const csv = readFileSync(r.outputs.log!, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('timestamp,epoch,train_loss,val_loss,lr,hebbian_alpha,wnorm_l0,wnorm_l1,wnorm_l2,diverged');
    expect(csv).toHaveLength(26);
    const curves = (await readTable(r.outputs.curves!)).toArray().map((x) => x.toJSON());
    const best = curves.filter((c) => c.best === 1);
    expect(best).toHaveLength(1);
    expect(best[0]!.epoch).toBe(m.best_epoch);
    expect(best[0]!.val_loss).toBe(Math.min(...curves.map((c) => c.val_loss as number)));
    const npz = readFileSync(r.outputs.weights!);
    expect(npz.subarray(0, 2).toString()).toBe('PK');
    const model = JSON.parse(readFileSync(r.outputs.model!, 'utf8'));
    expect(model.sizes).toEqual([3, 32, 16, 1]);
  });

  it("the seed's study recipe (Hebbian α 0.02, γ 0, meta-tuner) blows up: reported as diverged, stopped, scored from the best epoch", async () => {
    // it diverges in most seeds (not all): take the first seed that does
    let r!: Awaited<ReturnType<typeof runStageDirect>>, m: any = null;
    for (let seed = 0; seed < 8; seed++) {
      r = await runStageDirect(hebb, { params: { hidden: [16, 8], lr: 0.05, use_hebbian: true, hebbian_alpha: 0.02, use_meta: true }, inputs: study, seed });
      m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
      if (m.diverged === 1 && m.best_epoch > 0) break;
    }
    expect(m.diverged).toBe(1);
    // stopped at the blow-up, scored from the restored best-validation weights (an earlier epoch), flagged
    expect(m.test.diverged).toBe(1);
    expect(m.best_epoch).toBeLessThan(m.diverged_epoch);
    expect(m.diverged_after_best).toBe(1);
    expect(m.test.accuracy).toBeGreaterThan(0.5);
    expect(m.diverged_reason).toMatch(/loss/);
    expect(m.epochs_run).toBe(m.diverged_epoch);
    const csv = readFileSync(r.outputs.log!, 'utf8').trim().split('\n');
    expect(csv.at(-1)!.endsWith(',1')).toBe(true);
    // the tuner chose per epoch from its 2 × 3 grid
    expect(m.meta.trials).toBe(6 * m.epochs_run);
    for (const c of m.meta.choices) { expect([0.025, 0.05]).toContain(c.lr); expect([0, 0.01, 0.02]).toContain(c.alpha); }
  });

  it('Oja-stabilised Hebbian (γ = 1) trains without diverging; multi-task reports BCE and MSE; meta + multi-task is refused', async () => {
    const r = await runStageDirect(hebb, { params: { hidden: [16, 8], lr: 0.05, use_hebbian: true, hebbian_alpha: 0.02, hebbian_decay: 1, epochs: 10 }, inputs: study, seed: 0 });
    expect(JSON.parse(readFileSync(r.outputs.metrics!, 'utf8')).test.accuracy).toBeGreaterThan(0.85);
    const mt = await runStageDirect(hebb, { params: { hidden: [32, 16], lr: 0.01, optimizer: 'adam', weight_decay: 1e-3, epochs: 8, multi_task: true, mt_weight: 0.25 }, inputs: health, seed: 0 });
    const m = JSON.parse(readFileSync(mt.outputs.metrics!, 'utf8'));
    expect(m.test.mse).toBeLessThan(0.02); // risk_score/100 ∈ [0, 1]
    expect(m.test.accuracy).toBeGreaterThan(0.9);
    await expect(runStageDirect(hebb, { params: { multi_task: true, use_meta: true }, inputs: health })).rejects.toThrow(/single-task only/);
  });
});

describe('load-csv', () => {
  it("detects the seed's study and health schemas by column names; refuses an unknown header with the schemas listed", async () => {
    expect(detectSchema(['hours_studied', 'sleep_hours', 'attendance_rate', 'has_breakfast', 'final_score', 'passed'])).toMatchObject({ name: 'study_success', target: 'passed' });
    expect(detectSchema(['bmi', 'steps_per_day', 'daily_calories', 'risk_score', 'high_risk'])).toMatchObject({ name: 'health_risk', features: ['bmi', 'steps_per_day', 'daily_calories'] });
    expect(detectSchema(['a', 'b'])).toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'pipe-csv-'));
    writeFileSync(join(dir, 'h.csv'), 'bmi,steps_per_day,daily_calories,risk_score,high_risk\n31.5,4000,2500,80.1,1\n21,12000,1900,20.5,0\n');
    const r = await runStageDirect(loadCsv, { params: { path: 'h.csv' }, projectDir: dir });
    const t = await readTable(r.outputs.table!);
    expect(tableMeta(t)).toMatchObject({ target: 'high_risk', features: ['bmi', 'steps_per_day', 'daily_calories'], task: 'classification', dataset: 'health_risk' });
    expect(t.numRows).toBe(2);
    writeFileSync(join(dir, 'x.csv'), 'a,b\n1,2\n');
    await expect(runStageDirect(loadCsv, { params: { path: 'x.csv' }, projectDir: dir })).rejects.toThrow(/do not match the study_success or health_risk schema/);
  });
});

describe('load-csv: bad data is an error at file:line', () => {
  const H = 'bmi,steps_per_day,daily_calories,risk_score,high_risk\n';
  const run = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-csv-'));
    writeFileSync(join(dir, 'h.csv'), text);
    return runStageDirect(loadCsv, { params: { path: 'h.csv' }, projectDir: dir });
  };
  it('a ragged row names the file and its line (blank lines counted)', async () => {
    await expect(run(H + '31.5,4000,2500,80.1,1\n\n21,12000,1900,0\n')).rejects.toThrow(/^h\.csv:4: 4 fields, the header has 5$/);
  });
  it('a non-numeric cell names the line, the column and the value', async () => {
    await expect(run(H + '31.5,4000,2500,80.1,1\n21,lots,1900,20.5,0\n')).rejects.toThrow(/^h\.csv:3: column 'steps_per_day': "lots" is not a number$/);
  });
  it("hex, Infinity and NaN spellings are not numbers ('0x1F' is not read as 31)", async () => {
    await expect(run(H + '31.5,0x1F,2500,80.1,1\n')).rejects.toThrow(/^h\.csv:2: column 'steps_per_day': "0x1F" is not a number$/);
    await expect(run(H + '31.5,Infinity,2500,80.1,1\n')).rejects.toThrow(/"Infinity" is not a number/);
    const ok = await run(H + '31.5,4e3,2500,-.5,1\n');
    expect((ok.result as { metrics: object }).metrics).toMatchObject({ rows: 1 });
  });
  it('unreadable CSV (an unclosed quote) names the file', async () => {
    await expect(run(H + '31.5,"4000,2500,80.1,1\n')).rejects.toThrow(/^h\.csv(:\d+)?: not readable as CSV/);
  });
});

describe('fit-separator', () => {
  it('perceptron separates separable data; logistic GD reaches its optimum (zero gradient); lines stay in the data box', async () => {
    const X = Float64Array.from([-2, -1, -1, -2, -1.5, -1.5, 1, 2, 2, 1, 1.5, 1.5]);
    const y = Int8Array.from([-1, -1, -1, 1, 1, 1]);
    const l = perceptron(X, y, 10, 0.1, () => Int32Array.from([0, 1, 2, 3, 4, 5]));
    for (let i = 0; i < 6; i++) expect(Math.sign(l.w[0] * X[2 * i]! + l.w[1] * X[2 * i + 1]! + l.b)).toBe(y[i]);
    // non-separable data with L2: gradient descent converges to the stationary point
    const Xn = Float64Array.from([0, 0, 1, 0, 0, 1, 1, 1, 0.5, 0.2, 0.3, 0.9]);
    const yn = Float64Array.from([0, 1, 0, 1, 1, 0]);
    const g = logistic(Xn, yn, 20000, 0.5, 0.1);
    const grad = [0, 0, 0];
    for (let i = 0; i < 6; i++) {
      const p = 1 / (1 + Math.exp(-(g.w[0] * Xn[2 * i]! + g.w[1] * Xn[2 * i + 1]! + g.b)));
      grad[0] += (p - yn[i]!) * Xn[2 * i]! / 6; grad[1] += (p - yn[i]!) * Xn[2 * i + 1]! / 6; grad[2] += (p - yn[i]!) / 6;
    }
    expect(Math.abs(grad[0] + 0.1 * g.w[0])).toBeLessThan(1e-9);
    expect(Math.abs(grad[1] + 0.1 * g.w[1])).toBeLessThan(1e-9);
    expect(Math.abs(grad[2])).toBeLessThan(1e-9);
    const gen2 = await runStageDirect(gen, { params: { generator: 'health_risk', n: 400 }, seed: 3 });
    const r = await runStageDirect(sep, { params: { x: 'bmi', y: 'steps', logistic: true }, inputs: { table: gen2.outputs.table! } });
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    expect(m.perceptron.train_accuracy).toBeGreaterThan(0.75);
    expect(m['logistic p = 0.5'].train_accuracy).toBeGreaterThan(0.8);
    const lines = (await readTable(r.outputs.lines!)).toArray().map((x) => x.toJSON());
    expect(new Set(lines.map((x) => x.series))).toEqual(new Set(['perceptron', 'logistic p = 0.5']));
    for (const p of lines) { expect(p.bmi).toBeGreaterThanOrEqual(15); expect(p.bmi).toBeLessThanOrEqual(45); }
  });
});
