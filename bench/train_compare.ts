/**
 * Training throughput side by side: the reference MLP (108→256→256→1, ReLU) and the ActMix MLP
 * (108→128→128→1, bases sin/tanh/relu/identity, λ = 0.01 entropy term) — batch 256, Adam
 * (AdamW, wd 0, lr 1e-3), BCE on one logit — on every available backend, and the same models in
 * PyTorch (Debian python3-torch, one thread, OPENBLAS_NUM_THREADS=1) in the same run.
 *
 *   npx tsx bench/train_compare.ts [--models relu,actmix] [--backends blas,blas-loop,blas-tfjs,wasm,cpu]
 *        [--rows 16384] [--epochs 2] [--batch 256] [--python /usr/bin/python3] [--repeat 3]
 *
 * Backends: `blas` = the native training step (src/lib/ml/blas/trainer.ts, what the train stage
 * runs on the blas backend), called in a bare loop; `blas-loop` = the same step through the whole
 * trainer the train stage runs (`trainMlpNative`: the kit's loop with shuffles, per-epoch
 * validation on 512 rows, best-checkpoint bookkeeping; 2-logit CE instead of BCE); `blas-tfjs` = the generic TF.js step (mlp.ts forward, variableGrads,
 * AdamW of optim.ts) on the registered `blas` TF.js backend (sgemm kernels); `wasm`, `cpu` = the
 * same TF.js step on those backends. Each figure is the best of --repeat timed runs.
 */
import { spawnSync } from 'node:child_process';
import type * as TF from '@tensorflow/tfjs';
import { loadTf, type BackendRequest } from '../src/lib/ml/backend.js';
import { Mlp, ACTMIX_PRESETS, type MlpSpec } from '../src/lib/ml/mlp.js';
import { AdamW } from '../src/lib/ml/optim.js';
import { Rng } from '../src/sdk/rng.js';
import { blasStatus, blasNative } from '../src/lib/ml/blas/native.js';
import { NativeMlp, trainMlpNative } from '../src/lib/ml/blas/trainer.js';
import { registerBlasBackend, BLAS_BACKEND } from '../src/lib/ml/blas/backend.js';

const arg = (k: string, d: string) => { const i = process.argv.indexOf(`--${k}`); return i >= 0 ? process.argv[i + 1]! : d; };
const models = arg('models', 'relu,actmix').split(',') as ('relu' | 'actmix')[];
const backends = arg('backends', 'blas,blas-loop,blas-tfjs,wasm,cpu').split(',');
const rows = Number(arg('rows', '16384'));
const epochs = Number(arg('epochs', '2'));
const B = Number(arg('batch', '256'));
const repeat = Number(arg('repeat', '3'));
const python = arg('python', '/usr/bin/python3');
const D = 108;
const HIDDEN = { relu: [256, 256], actmix: [128, 128] };
const LAMBDA = { relu: 0, actmix: 0.01 };

function data(): { X: Float32Array; y: Float32Array } {
  const rng = new Rng(0);
  const X = new Float32Array(rows * D).map(() => rng.normal());
  const y = new Float32Array(rows).map((_, i) => (X[i * D]! + X[i * D + 1]! > 0 ? 1 : 0));
  return { X, y };
}

const specOf = (m: 'relu' | 'actmix'): MlpSpec => ({ inputDim: D, outputDim: 1, hidden: HIDDEN[m], dropout: 0, activation: m, actmix: { ...ACTMIX_PRESETS['actmix-paper'], t0: 1 } });

/** best-of-repeat rows/s of `run(rowsToTrain)` */
function timeIt(run: (nRows: number) => void, nRows: number): number {
  run(Math.min(nRows, 4 * B)); // warm-up
  let best = 0;
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    run(nRows);
    best = Math.max(best, (nRows * 1000) / (performance.now() - t0));
  }
  return best;
}

function nativeRate(m: 'relu' | 'actmix', X: Float32Array, y: Float32Array): number {
  const api = blasNative();
  const net = new NativeMlp(api, specOf(m), 'bce', B);
  const init = new Float32Array(net.np).map(() => (Math.random() - 0.5) * 0.1);
  api.setParams(net.ctx, init);
  api.setOpt(net.ctx, 0.9, 0.999, 1e-8, 0, 0);
  api.setData(net.ctx, X, rows, D, y);
  const perm = Int32Array.from({ length: rows }, (_, i) => i);
  const drop = new Float64Array(8), losses = new Float64Array(3);
  const rate = timeIt((nRows) => {
    for (let done = 0; done < nRows; done += B) {
      const s = done % rows;
      api.trainBatch(net.ctx, perm, s, Math.min(B, rows - s), 1e-3, 1, LAMBDA[m], drop, losses);
    }
  }, epochs * rows);
  net.free();
  return rate;
}

/** The train stage's native trainer end to end (loop, shuffles, per-epoch validation, checkpoints). */
async function nativeLoopRate(m: 'relu' | 'actmix', X: Float32Array, y: Float32Array): Promise<number> {
  const tf = await tfOn('cpu');
  const spec = { ...specOf(m), outputDim: 2 };
  const train = { X, n: rows, d: D, y: Float64Array.from(y) };
  const nv = 512;
  const val = { X: X.subarray(0, nv * D), n: nv, d: D, y: Float64Array.from(y.subarray(0, nv)) };
  const config = { max_epochs: epochs, batch_size: B, lr: 1e-3, weight_decay: 0, grad_clip: 0, patience: 0, min_delta: 0, eta_min_ratio: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  const run = async (nEpochs: number) => {
    const model = Mlp.create(tf, spec, new Rng(0));
    const t0 = performance.now();
    await trainMlpNative(tf, model, train, val, { task: 'classification', numClasses: 2, config: { ...config, max_epochs: nEpochs }, rng: new Rng(1) });
    const ms = performance.now() - t0;
    model.dispose();
    return ms;
  };
  await run(1); // warm-up
  let best = 0;
  for (let r = 0; r < repeat; r++) best = Math.max(best, (epochs * rows * 1000) / (await run(epochs)));
  return best;
}

/** TF.js with `backend` active (`blas`: the registered blas TF.js backend). */
async function tfOn(backend: string) {
  if (backend !== 'blas') return (await loadTf(backend as BackendRequest)).tf;
  const { tf } = await loadTf('cpu');
  registerBlasBackend(tf);
  await tf.setBackend(BLAS_BACKEND);
  return tf;
}

async function tfjsRate(backend: string, m: 'relu' | 'actmix', X: Float32Array, y: Float32Array): Promise<number> {
  const tf = await tfOn(backend);
  const model = Mlp.create(tf, specOf(m), new Rng(0));
  const opt = new AdamW(tf, model.variables);
  const Xt = tf.tensor2d(X, [rows, D]), Yt = tf.tensor2d(y, [rows, 1]);
  const lam = LAMBDA[m];
  const step = (s: number) => tf.tidy(() => {
    const idx = tf.range(s, Math.min(rows, s + B), 1, 'int32');
    const xb = tf.gather(Xt, idx) as TF.Tensor2D, yb = tf.gather(Yt, idx);
    const { grads } = tf.variableGrads(() => {
      const { out, entropy } = model.forward(xb, { training: true, temperature: 1 });
      const l = tf.losses.sigmoidCrossEntropy(yb, out) as TF.Scalar;
      return entropy && lam ? (tf.add(l, tf.mul(entropy, lam)) as TF.Scalar) : l;
    }, model.variables);
    opt.apply(model.variables.map((v) => grads[v.name]!), 1e-3);
  });
  // the pure-JS cpu backend is ~100× slower: time fewer rows
  const nRows = backend === 'cpu' ? Math.min(rows, 8 * B) : backend === 'blas' ? Math.min(rows, 16 * B) : epochs * rows;
  const rate = timeIt((n) => { for (let done = 0; done < n; done += B) step(done % rows); }, nRows);
  tf.dispose([Xt, Yt]); opt.dispose(); model.dispose();
  return rate;
}

function torchRate(m: 'relu' | 'actmix'): { rate: number; version: string } | { error: string } {
  let best = 0, version = '';
  for (let r = 0; r < repeat; r++) {
    const p = spawnSync(python, [new URL('./train_torch.py', import.meta.url).pathname, '--model', m, '--din', String(D), '--hidden', HIDDEN[m].join(','),
      '--batch', String(B), '--rows', String(rows), '--epochs', String(epochs)],
    { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } });
    if (p.status !== 0) return { error: (p.stderr || p.error?.message || 'failed').trim().split('\n').pop()! };
    const j = JSON.parse(p.stdout.trim().split('\n').pop()!) as { rows_per_s: number; torch: string };
    best = Math.max(best, j.rows_per_s);
    version = j.torch;
  }
  return { rate: best, version };
}

const { X, y } = data();
const table: { model: string; backend: string; rate: number | null; note: string }[] = [];
const st = blasStatus();
console.log(`OpenBLAS: ${st.available ? `${st.openblas} (${blasNative().openblasConfig})` : st.reason}`);
for (const m of models) {
  const torch = torchRate(m);
  const ref = 'rate' in torch ? torch.rate : null;
  table.push({ model: m, backend: 'pytorch', rate: ref, note: 'rate' in torch ? `torch ${torch.version}, 1 thread` : torch.error });
  for (const b of backends) {
    try {
      if (b === 'blas') {
        if (!st.available) throw new Error(st.reason);
        table.push({ model: m, backend: 'blas (native step)', rate: nativeRate(m, X, y), note: '' });
      } else if (b === 'blas-loop') {
        if (!st.available) throw new Error(st.reason);
        table.push({ model: m, backend: 'blas (native step, train loop)', rate: await nativeLoopRate(m, X, y), note: '' });
      } else if (b === 'blas-tfjs') {
        if (!st.available) throw new Error(st.reason);
        table.push({ model: m, backend: 'blas (TF.js step)', rate: await tfjsRate('blas', m, X, y), note: '' });
      } else {
        table.push({ model: m, backend: b, rate: await tfjsRate(b, m, X, y), note: '' });
      }
    } catch (e) {
      table.push({ model: m, backend: b, rate: null, note: `skipped: ${(e as Error).message.split('\n')[0]}` });
    }
  }
}

const name = (m: string) => (m === 'relu' ? `ReLU MLP ${D}→${HIDDEN.relu.join('→')}→1` : `ActMix MLP ${D}→${HIDDEN.actmix.join('→')}→1`);
console.log(`\nbatch ${B}, ${epochs}×${rows} rows, best of ${repeat}; Adam, BCE${models.includes('actmix') ? ', ActMix with λ·H̄' : ''}\n`);
console.log('| model | backend | rows/s | × PyTorch |');
console.log('|---|---|---:|---:|');
for (const r of table) {
  const ref = table.find((t) => t.model === r.model && t.backend === 'pytorch')?.rate ?? null;
  const ratio = r.rate !== null && ref ? (r.rate / ref).toFixed(2) : '–';
  console.log(`| ${name(r.model)} | ${r.backend} | ${r.rate !== null ? Math.round(r.rate).toLocaleString('en-US') : r.note} | ${ratio} |`);
}
