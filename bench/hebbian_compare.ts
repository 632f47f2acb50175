/**
 * The Hebbian seed's recipe (seed-systems §E.4: backprop + clip + L2 + EMA momentum or Adam + the
 * Oja-like Hebbian increment, batch 64) — pipe's `train-hebbian` step through the kit's loop
 * (src/lib/ml/hebbian.ts, typed-array loops) against the seed's own NumPy formulation
 * (bench/hebbian_numpy.py, float32, OPENBLAS_NUM_THREADS=1), same sizes and data size, one run.
 *
 *   npx tsx bench/hebbian_compare.ts [--rows 840] [--epochs 25] [--repeat 3] [--python /usr/bin/python3]
 *
 * Both do per epoch what the seed does: a full evaluation of the train and val sets (BCE) and the
 * weight norms; pipe also keeps its best-val checkpoint and a weight snapshot every epoch.
 * Settings: Hebbian α 0.005 with Oja's γ = 1 (the seed's α 0.02, γ 0 diverges, which would time
 * NaN arithmetic), lr 0.05 (EMA momentum) / 0.01 (Adam), L2 1e-4, clip 5.
 */
import { spawnSync } from 'node:child_process';
import { Rng } from '../src/sdk/rng.js';
import { HebbianMlp, HebbianStep, resolveHebbianBackend, type Data, type HebbianBackend } from '../src/lib/ml/hebbian.js';
import { fit } from '../src/lib/ml/kit/loop.js';

const arg = (k: string, d: string) => { const i = process.argv.indexOf(`--${k}`); return i >= 0 ? process.argv[i + 1]! : d; };
const rows = Number(arg('rows', '840')), epochs = Number(arg('epochs', '25')), repeat = Number(arg('repeat', '3'));
const python = arg('python', '/usr/bin/python3');

function data(n: number, d: number, seed: number): Data {
  const r = new Rng(seed);
  const X = new Float32Array(n * d), y = new Float32Array(n);
  for (let i = 0; i < n; i++) { let s = 0; for (let k = 0; k < d; k++) { X[i * d + k] = r.normal(); s += X[i * d + k]! * (k + 1); } y[i] = s > 0 ? 1 : 0; }
  return { X, n, d, y, score: null };
}

async function pipeRate(sizes: number[], adam: boolean, backend: HebbianBackend): Promise<number> {
    const tr = data(rows, sizes[0]!, 0), va = data(180, sizes[0]!, 1);
  let best = Infinity;
  for (let k = 0; k < repeat; k++) {
    const net = new HebbianMlp({ sizes, activations: [...sizes.slice(2).map(() => 'relu' as const), 'linear'] }, new Rng(42), backend);
    const step = new HebbianStep(net, tr, va, { optimizer: adam ? 'adam' : 'momentum', momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4, clip: 5, useHebbian: true, gamma: 1, mtWeight: 0.5 });
    const t0 = performance.now();
    await fit(step, { data: { mode: 'minibatch', rows, batchSize: 64 }, maxEpochs: epochs, rng: new Rng(42), schedules: { lr: adam ? 0.01 : 0.05, alpha: 0.005 }, best: { monitor: 'val_loss' }, snapshots: { every: 1 } });
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return (rows * epochs) / best;
}

function numpyRate(sizes: number[], adam: boolean): number | null {
  const r = spawnSync(python, ['bench/hebbian_numpy.py', '--rows', String(rows), '--sizes', sizes.join(','), '--epochs', String(epochs), '--repeat', String(repeat), '--alpha', '0.005', ...(adam ? ['--adam', '--lr', '0.01'] : [])], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) { console.error(`numpy run failed: ${r.stderr.trim().split('\n').pop()}`); return null; }
  return JSON.parse(r.stdout.trim()).rows_per_s;
}

const blas = resolveHebbianBackend('auto') === 'blas';
console.log(`Hebbian MLP training, ${rows} rows × ${epochs} epochs, batch 64, rows/s (best of ${repeat}); NumPy 1 thread, OpenBLAS 1 thread`);
console.log('| model | optimizer | pipe, blas backend | pipe, js backend | NumPy (seed formulation) | pipe blas / NumPy | pipe js / NumPy |');
console.log('|---|---|---:|---:|---:|---:|---:|');
const f = (x: number | null) => (x ? Math.round(x).toLocaleString('en') : 'n/a');
for (const [name, sizes] of [['study 4→16→8→1', [4, 16, 8, 1]], ['health 3→32→16→1', [3, 32, 16, 1]]] as const) {
  for (const adam of [false, true]) {
    const pb = blas ? await pipeRate([...sizes], adam, 'blas') : null;
    const pj = await pipeRate([...sizes], adam, 'js');
    const n = numpyRate([...sizes], adam);
    console.log(`| ${name} | ${adam ? 'Adam' : 'EMA momentum'} | ${f(pb)} | ${f(pj)} | ${f(n)} | ${pb && n ? (pb / n).toFixed(2) + '×' : 'n/a'} | ${n ? (pj / n).toFixed(2) + '×' : 'n/a'} |`);
  }
}
