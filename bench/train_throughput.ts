/**
 * Training throughput (rows/s) of the 108→256→256→1 MLP (ReLU, batch 256, Adam via the manual
 * AdamW with wd = 0, BCE on one logit) on the TF.js backends that are installed.
 *
 *   npx tsx bench/train_throughput.ts [--backends wasm,cpu] [--rows 16384] [--epochs 2]
 *        [--activation relu|actmix|gelu|…] [--hidden 256,256] [--batch 256]
 */
import type * as TF from '@tensorflow/tfjs';
import { loadTf, resolveBackend, type BackendRequest } from '../src/lib/ml/backend.js';
import { Mlp, ACTMIX_PRESETS } from '../src/lib/ml/mlp.js';
import { AdamW } from '../src/lib/ml/optim.js';
import { Rng } from '../src/sdk/rng.js';

const arg = (k: string, d: string) => { const i = process.argv.indexOf(`--${k}`); return i >= 0 ? process.argv[i + 1]! : d; };
const backends = arg('backends', 'wasm,cpu').split(',') as BackendRequest[];
const rows = Number(arg('rows', '16384'));
const epochs = Number(arg('epochs', '2'));
const D = 108;
const B = Number(arg('batch', '256'));
const hidden = arg('hidden', '256,256').split(',').map(Number);
const activation = arg('activation', 'relu') as 'relu';

for (const b of backends) {
  try { resolveBackend(b); } catch (e) { console.log(`${b}: skipped (${(e as Error).message})`); continue; }
  const { tf } = await loadTf(b);
  const rng = new Rng(0);
  const X = new Float32Array(rows * D).map(() => rng.normal());
  const y = new Float32Array(rows).map((_, i) => (X[i * D]! + X[i * D + 1]! > 0 ? 1 : 0));
  const model = Mlp.create(tf, { inputDim: D, outputDim: 1, hidden, dropout: 0, activation, actmix: ACTMIX_PRESETS['actmix-paper'] }, rng);
  const opt = new AdamW(tf, model.variables);
  const Xt = tf.tensor2d(X, [rows, D]), Yt = tf.tensor2d(y, [rows, 1]);
  const step = (s: number) => tf.tidy(() => {
    const idx = tf.range(s, Math.min(rows, s + B), 1, 'int32');
    const xb = tf.gather(Xt, idx) as TF.Tensor2D, yb = tf.gather(Yt, idx);
    const { grads } = tf.variableGrads(() => tf.losses.sigmoidCrossEntropy(yb, model.forward(xb, { training: true }).out) as TF.Scalar, model.variables);
    opt.apply(model.variables.map((v) => grads[v.name]!), 1e-3);
  });
  for (let s = 0; s < 4 * B; s += B) step(s); // warm-up
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  for (let e = 0; e < epochs; e++) for (let s = 0; s < rows; s += B) step(s);
  const sec = (performance.now() - t0) / 1000;
  console.log(`${b} ${activation} ${D}→${hidden.join('→')}→1 batch ${B}: ${Math.round((epochs * rows) / sec)} rows/s (${epochs}×${rows} rows in ${sec.toFixed(2)} s; tensors ${before} → ${tf.memory().numTensors})`);
  tf.dispose([Xt, Yt]); opt.dispose(); model.dispose();
}
