/**
 * Training throughput of the §B InfoMax layer (784 → K, ReLU, loss −Σ log var + ‖R − I‖²_F with
 * the weight-redundancy term logged every step, Adam lr 1e-3, batch 128, shuffled epochs) at
 * K = 16, 32, 64: pipe's native step and TF.js step, and the same model in PyTorch (Debian
 * python3-torch, one thread, OPENBLAS_NUM_THREADS=1) in the same run.
 *
 *   npx tsx bench/infomax_compare.ts [--hidden 16,32,64] [--backends native,tfjs-blas,wasm]
 *        [--rows 16384] [--epochs 3] [--batch 128] [--python /usr/bin/python3] [--repeat 3]
 *
 * `native` = the native step (native/pb_infomax.c) driven by the kit's `fit` loop, exactly what
 * the train-infomax stage runs on the blas backend (shuffles, per-batch loss logging, epoch
 * means; no periodic metrics); `tfjs-blas` / `wasm` = the TF.js autodiff step with the kit's Adam
 * on those TF.js backends. Each figure is the best of --repeat timed runs.
 */
import { spawnSync } from 'node:child_process';
import { loadTf, type BackendRequest } from '../src/lib/ml/backend.js';
import { defaultSpec, nativeStep, tfStep, xavierInit, type InfomaxStep } from '../src/lib/ml/infomax.js';
import { fit } from '../src/lib/ml/kit/loop.js';
import { blasStatus } from '../src/lib/ml/blas/native.js';
import { registerBlasBackend, BLAS_BACKEND } from '../src/lib/ml/blas/backend.js';
import { Rng } from '../src/sdk/rng.js';

const arg = (k: string, d: string) => { const i = process.argv.indexOf(`--${k}`); return i >= 0 ? process.argv[i + 1]! : d; };
const hidden = arg('hidden', '16,32,64').split(',').map(Number);
const backends = arg('backends', 'native,tfjs-blas').split(',');
const rows = Number(arg('rows', '16384'));
const epochs = Number(arg('epochs', '3'));
const B = Number(arg('batch', '128'));
const repeat = Number(arg('repeat', '3'));
const python = arg('python', '/usr/bin/python3');
const D = 784;

const rng = new Rng(0);
const X = Float32Array.from({ length: rows * D }, () => (rng.random() < 0.8 ? 0 : rng.random()));
const opt = { optimizer: 'adam' as const, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

async function time(make: () => Promise<InfomaxStep>, eps: number): Promise<number> {
  let best = 0;
  for (let r = 0; r < repeat; r++) {
    const step = await make();
    const t0 = performance.now();
    await fit(step, { data: { mode: 'minibatch', rows, batchSize: B }, maxEpochs: eps, rng: new Rng(r), schedules: { lr: 1e-3 }, finite: ['train_total'] });
    const dt = (performance.now() - t0) / 1000;
    step.dispose();
    best = Math.max(best, (rows * eps) / dt);
  }
  return best;
}

function torch(K: number): { rows_per_s: number; torch: string } | null {
  const r = spawnSync(python, ['bench/infomax_torch.py', '--hidden', String(K), '--din', String(D), '--batch', String(B), '--rows', String(rows), '--epochs', String(epochs), '--repeat', String(repeat)], {
    encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  if (r.status !== 0) { console.error(`pytorch failed: ${r.stderr}`); return null; }
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

const rowsOut: string[] = [];
for (const K of hidden) {
  const spec = defaultSpec(D, K, 'relu');
  const init = () => xavierInit(D, K, new Rng(1));
  const pt = torch(K);
  const res: [string, number][] = [];
  if (pt) res.push([`pytorch ${pt.torch} (1 thread)`, pt.rows_per_s]);
  for (const b of backends) {
    if (b === 'native') {
      if (!blasStatus().available) { console.error('native: the blas library is unavailable'); continue; }
      res.push(['**native step** (blas)', await time(() => nativeStep(spec, init(), X, rows, opt, B), epochs)]);
    } else {
      const be = b === 'tfjs-blas' ? 'cpu' : (b as BackendRequest);
      const { tf } = await loadTf(be);
      if (b === 'tfjs-blas') { registerBlasBackend(tf); await tf.setBackend(BLAS_BACKEND); }
      // the TF.js step is ~10–100× slower: one epoch is enough to measure it
      res.push([`TF.js step (${b})`, await time(() => tfStep(tf as never, spec, init(), X, rows, opt), 1)]);
    }
  }
  const ref = pt?.rows_per_s ?? NaN;
  for (const [name, v] of res) rowsOut.push(`| 784→${K} ReLU | ${name} | ${Math.round(v).toLocaleString('en-US')} | ${(v / ref).toFixed(2)} |`);
}
console.log(`\nbatch ${B}, ${rows} rows × ${epochs} epochs, Adam, best of ${repeat}\n`);
console.log('| model | implementation | rows/s | × PyTorch |\n|---|---|---:|---:|');
console.log(rowsOut.join('\n'));
