/**
 * Integration of the `blas` backend: `auto` prefers it when the native library loads and falls
 * back to wasm when it does not; its runtime facts (backend, OpenBLAS version) enter the
 * fingerprint; the train stage on `blas` (native trainer) gives the wasm stage's curves,
 * predictions and a loadable model.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runStageDirect } from '../../src/engine/exec/context.js';
import { readTable } from '../../src/sdk/table.js';
import { loadTf, resolveBackend, backendRuntime, BACKENDS } from '../../src/lib/ml/backend.js';
import { Mlp, type SavedModel } from '../../src/lib/ml/mlp.js';
import { blasStatus } from '../../src/lib/ml/blas/native.js';
import train from '../../src/stages/train.js';
import { writeDataset, tmp, magic, slice } from '../ml/helpers.js';

const status = blasStatus();
if (!status.available) console.warn(`test/blas/stage: blas tests SKIPPED, the native blas library is unavailable: ${status.reason}`);
const root = new URL('../..', import.meta.url).pathname;

describe('blas backend selection', () => {
  it('is a selectable backend; without the native library auto falls back to wasm and blas is a clear error', () => {
    expect(BACKENDS).toContain('blas');
    const script = `import('${join(root, 'src/lib/ml/backend.ts')}').then((m) => {
      let err = ''; try { m.resolveBackend('blas'); } catch (e) { err = e.message; }
      console.log(JSON.stringify({ auto: m.resolveBackend('auto').backend, err }));
    })`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, PIPE_BLAS_DISABLE: '1' }, encoding: 'utf8', cwd: root });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { auto: string; err: string };
    expect(['wasm', 'tensorflow', 'tensorflow-gpu']).toContain(out.auto);
    expect(out.err).toMatch(/backend 'blas' was requested but .*disabled by PIPE_BLAS_DISABLE.*OpenBLAS/);
  });

  it.skipIf(!status.available)('auto resolves to blas; the runtime facts carry the OpenBLAS version', () => {
    expect(resolveBackend('auto').backend).toBe('blas');
    const rt = backendRuntime('blas');
    expect(rt).toMatchObject({ backend: 'blas', tfjs: '4.22.0', openblas: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(backendRuntime('auto')).toEqual(rt);
  });
});

describe.skipIf(!status.available)('train stage on blas', () => {
  const dir = tmp('pipe-blas-stage-');
  let files: { train: string; val: string; test: string };
  beforeAll(async () => {
    const all = magic(700, 3);
    files = {
      train: await writeDataset(dir, 'tr', slice(all, 0, 450), 'classification', ['g', 'h']),
      val: await writeDataset(dir, 'va', slice(all, 450, 575), 'classification', ['g', 'h']),
      test: await writeDataset(dir, 'te', slice(all, 575, 700), 'classification', ['g', 'h']),
    };
  });

  for (const activation of ['relu', 'actmix'] as const) {
    it(`${activation}: same curves, predictions and metrics as wasm; the model file loads`, async () => {
      const p = (backend: string) => ({
        backend, model: { activation, hidden: [24, 24], dropout: 0.1, actmix: { preset: 'actmix-paper', anneal_epochs: 5, warmup_epochs: 2 } },
        training: { max_epochs: 6, batch_size: 64, lr: 0.005, patience: 3 },
      });
      const blas = await runStageDirect(train, { params: p('blas'), inputs: files, seed: 11 });
      const wasm = await runStageDirect(train, { params: p('wasm'), inputs: files, seed: 11 });
      const mb = JSON.parse(readFileSync(blas.outputs.metrics!, 'utf8')), mw = JSON.parse(readFileSync(wasm.outputs.metrics!, 'utf8'));
      expect(mb.backend).toBe('blas');
      expect(mb.best_epoch).toBe(mw.best_epoch);
      expect(mb.test.roc_auc).toBeCloseTo(mw.test.roc_auc, 3);
      const a = (await readTable(blas.outputs.curves!)).toArray().map((x) => x.toJSON());
      const b = (await readTable(wasm.outputs.curves!)).toArray().map((x) => x.toJSON());
      expect(a.length).toBe(b.length);
      a.forEach((r, i) => {
        expect(r.train_loss).toBeCloseTo(b[i]!.train_loss, 4);
        expect(r.val_loss).toBeCloseTo(b[i]!.val_loss, 4);
        if (activation === 'actmix') expect(r.mean_entropy).toBeCloseTo(b[i]!.mean_entropy, 4);
      });
      const pa = (await readTable(blas.outputs.predictions!)).getChild('prob_h')!.toArray() as Float64Array;
      const pb = (await readTable(wasm.outputs.predictions!)).getChild('prob_h')!.toArray() as Float64Array;
      for (let i = 0; i < pa.length; i++) expect(Math.abs(pa[i]! - pb[i]!)).toBeLessThan(1e-3);
      // the saved model is the usual pipe-mlp/1 file and reproduces the predictions
      const saved = JSON.parse(readFileSync(blas.outputs.model!, 'utf8')) as SavedModel;
      expect(saved.format).toBe('pipe-mlp/1');
      const { tf } = await loadTf('wasm');
      const m = Mlp.load(tf, saved);
      const te = (await readTable(files.test));
      const X = tf.tensor2d(Float32Array.from({ length: te.numRows * 10 }, (_, k) => Number(te.getChild(`f${k % 10}`)!.get(Math.floor(k / 10)))), [te.numRows, 10]);
      const out = m.predict(X);
      for (let i = 0; i < te.numRows; i++) {
        const ph = 1 / (1 + Math.exp(out[2 * i]! - out[2 * i + 1]!));
        expect(Math.abs(ph - pa[i]!)).toBeLessThan(1e-4);
      }
      X.dispose(); m.dispose();
    });
  }
});
