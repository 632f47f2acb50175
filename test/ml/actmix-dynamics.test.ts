/**
 * α over training: the train stage's `alpha` snapshots (both step implementations), the
 * `actmix-dynamics` tables computed from them, and `analyze-actmix` on the last checkpoint.
 * Checked against closed forms (the initial α of the relu_bias init, the T schedule) and
 * against the saved best checkpoint (the snapshot after the best epoch holds its exact logits).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { runStageDirect } from '../../src/engine/exec/context.js';
import { readTable } from '../../src/sdk/table.js';
import { actmixAlpha, paramValues, type SavedModel } from '../../src/lib/ml/mlp.js';
import { temperatureAt } from '../../src/lib/ml/schedules.js';
import { readAlphaSnapshots } from '../../src/lib/ml/actmix-analysis.js';
import { blasStatus } from '../../src/lib/ml/blas/native.js';
import train from '../../src/stages/train.js';
import dynamics from '../../src/stages/actmix-dynamics.js';
import analyze from '../../src/stages/analyze-actmix.js';
import { writeDataset, tmp, moons, slice } from './helpers.js';

const dir = tmp('pipe-ml-dyn-');
let files: { train: string; val: string; test: string };
const blas = blasStatus();
if (!blas.available) console.warn(`test/ml/actmix-dynamics: blas case SKIPPED, the native blas library is unavailable: ${blas.reason}`);

beforeAll(async () => {
  const all = moons(700, 3);
  files = {
    train: await writeDataset(dir, 'tr', slice(all, 0, 500), 'classification', ['a', 'b']),
    val: await writeDataset(dir, 'va', slice(all, 500, 600), 'classification', ['a', 'b']),
    test: await writeDataset(dir, 'te', slice(all, 600, 700), 'classification', ['a', 'b']),
  };
});

const params = (backend: string, extra: Record<string, unknown> = {}) => ({
  backend,
  model: { activation: 'actmix', hidden: [12, 8], dropout: 0, actmix: { preset: 'actmix-paper', anneal_epochs: 4 } },
  training: { max_epochs: 5, batch_size: 50, lr: 0.02, patience: 0 },
  ...extra,
});
const rows = async (path: string) => (await readTable(path)).toArray().map((x) => x.toJSON() as Record<string, any>);

describe.each([['wasm'], ...(blas.available ? [['blas']] : [])])('ActMix α snapshots on %s', (backend) => {
  it('every epoch: the initial α is the relu_bias closed form, T follows the schedule, the best snapshot is the saved model', async () => {
    const r = await runStageDirect(train, { params: params(backend), inputs: files, seed: 11 });
    const t = await readTable(r.outputs.alpha!);
    const s = readAlphaSnapshots(t);
    expect(s.epoch).toEqual([-1, 0, 1, 2, 3, 4]);
    expect(s.bases).toEqual(['sin', 'tanh', 'relu', 'identity']);
    expect(s.layers.map((l) => [l.F, l.K])).toEqual([[12, 4], [8, 4]]);
    // before training T = t0 = 1; the snapshot after epoch e holds the T that epoch trained at
    expect(s.temperature[0]).toBe(1);
    for (let i = 1; i < s.epoch.length; i++) expect(s.temperature[i]).toBeCloseTo(temperatureAt(s.epoch[i]!, 1, 0.01, 4), 6);
    // init: logits 0 except the relu column = relu_bias 1.5 → α_relu = e^1.5 / (e^1.5 + 3), the others 1 / (e^1.5 + 3)
    const z = Math.exp(1.5) + 3;
    for (const L of s.layers) {
      const { alpha } = actmixAlpha(L.logits[0]!, L.F, L.K, 1);
      for (let f = 0; f < L.F; f++) {
        expect(alpha[f * 4 + 2]).toBeCloseTo(Math.exp(1.5) / z, 12);
        for (const k of [0, 1, 3]) expect(alpha[f * 4 + k]).toBeCloseTo(1 / z, 12);
      }
      expect(L.logits.at(-1)).not.toEqual(L.logits[0]); // training moved them
    }
    // the saved model is the best checkpoint: the snapshot after the best epoch holds exactly its logits and T
    const m = JSON.parse(readFileSync(r.outputs.model!, 'utf8')) as SavedModel & { best_epoch: number };
    expect(s.bestEpoch).toBe(m.best_epoch);
    const at = s.epoch.indexOf(m.best_epoch);
    s.layers.forEach((L, l) => expect(Array.from(L.logits[at]!)).toEqual(Array.from(paramValues(m.params[`act${l}/logits`]!))));
    expect(s.temperature[at]).toBeCloseTo(m.temperature, 6);
  }, 60_000);
});

describe('alpha_every, actmix-dynamics and analyze-actmix on the last checkpoint', () => {
  let out: Record<string, string>;
  beforeAll(async () => {
    out = (await runStageDirect(train, { params: params('wasm', { alpha_every: 2 }), inputs: files, seed: 11 })).outputs;
  }, 60_000);

  it('alpha_every 2 keeps the init, every 2nd epoch and the last; other activations have no alpha output', async () => {
    expect(readAlphaSnapshots(await readTable(out.alpha!)).epoch).toEqual([-1, 1, 3, 4]);
    const relu = await runStageDirect(train, { params: { ...params('wasm'), model: { activation: 'relu', hidden: [8] } }, inputs: files, seed: 1 });
    expect(relu.outputs.alpha).toBeUndefined();
  }, 60_000);

  it('dynamics: basis mass Σ_f α and dominance per snapshot, epochs as epochs trained', async () => {
    const s = readAlphaSnapshots(await readTable(out.alpha!));
    const d = await runStageDirect(dynamics, { params: {}, inputs: { alpha: out.alpha! } });
    const mass = await rows(d.outputs.mass!);
    expect(mass).toHaveLength(4 * 2 * 4); // snapshots × layers × bases
    expect([...new Set(mass.map((m) => m.epoch))]).toEqual([0, 2, 4, 5]);
    const z = Math.exp(1.5) + 3;
    for (const m of mass.filter((x) => x.epoch === 0)) {
      const F = m.layer === 0 ? 12 : 8;
      expect(m.mass).toBeCloseTo(F * (m.basis === 'relu' ? Math.exp(1.5) : 1) / z, 10);
      expect(m.dominant).toBe(m.basis === 'relu' ? F : 0);
      expect(m.temperature).toBe(1);
    }
    // every row against a direct computation from the snapshot's logits and T
    for (const m of mass) {
      const si = s.epoch.indexOf(m.epoch - 1);
      const L = s.layers[m.layer]!;
      const { alpha, entropy } = actmixAlpha(L.logits[si]!, L.F, L.K, s.temperature[si]!);
      const k = s.bases.indexOf(m.basis);
      let mk = 0, dom = 0;
      for (let f = 0; f < L.F; f++) {
        mk += alpha[f * L.K + k]!;
        let b = 0;
        for (let j = 1; j < L.K; j++) if (alpha[f * L.K + j]! > alpha[f * L.K + b]!) b = j;
        if (b === k) dom++;
      }
      expect(m.mass).toBeCloseTo(mk, 10);
      expect(m.fraction).toBeCloseTo(mk / L.F, 10);
      expect(m.dominant).toBe(dom);
      expect(m.mean_entropy).toBeCloseTo(entropy.reduce((a, v) => a + v, 0) / L.F, 6);
    }
    const group = (e: number, l: number) => mass.filter((x) => x.epoch === e && x.layer === l);
    for (const e of [0, 2, 4, 5]) for (const l of [0, 1]) {
      expect(group(e, l).reduce((a, x) => a + x.fraction, 0)).toBeCloseTo(1, 10);
      expect(group(e, l).reduce((a, x) => a + x.dominant, 0)).toBe(l === 0 ? 12 : 8);
    }
    const alpha = await rows(d.outputs.alpha!);
    expect(alpha).toHaveLength(4 * (12 + 8) * 4);
    const sum = JSON.parse(readFileSync(d.outputs.summary!, 'utf8'));
    expect(sum).toMatchObject({ snapshots: 4, epochs: [0, 2, 4, 5] });
    expect(sum.layers.actmix_layer_0.first.fraction.relu).toBeCloseTo(Math.exp(1.5) / z, 10);
    expect(d.result!.metrics).toMatchObject({ snapshots: 4, epochs: 5 });
  }, 60_000);

  it('checkpoint: last analyses the state after the last epoch (logits and T of the last snapshot), labelled', async () => {
    const s = readAlphaSnapshots(await readTable(out.alpha!));
    const last = await runStageDirect(analyze, { params: { checkpoint: 'last' }, inputs: { model: out.model!, alpha: out.alpha! } });
    const best = await runStageDirect(analyze, { params: {}, inputs: { model: out.model! } });
    const m = JSON.parse(readFileSync(out.model!, 'utf8'));
    expect(last.result!.metrics).toMatchObject({ epoch: 5, temperature: s.temperature.at(-1) });
    expect(best.result!.metrics).toMatchObject({ epoch: m.best_epoch + 1, temperature: m.temperature });
    const a = await rows(last.outputs.alpha!);
    s.layers.forEach((L, l) => {
      const { alpha } = actmixAlpha(L.logits.at(-1)!, L.F, L.K, s.temperature.at(-1)!);
      const mine = a.filter((x) => x.layer === l);
      expect(mine).toHaveLength(L.F * L.K);
      mine.forEach((x) => expect(x.alpha).toBeCloseTo(alpha[x.neuron * L.K + s.bases.indexOf(x.basis)]!, 6));
    });
    const meta = JSON.parse((await readTable(last.outputs.alpha!)).schema.metadata.get('pipe')!);
    expect(meta).toMatchObject({ checkpoint: 'last', epoch: 5 });
    await expect(runStageDirect(analyze, { params: { checkpoint: 'last' }, inputs: { model: out.model! } })).rejects.toThrow(/checkpoint: last needs .*alpha/);
  }, 60_000);
});
