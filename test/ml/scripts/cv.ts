/**
 * Real-data CV runs (not a test): the data stage kinds and the training kinds chained in-process
 * exactly as pipelines/actmix_cv.yaml chains them — download-uci (mirror) → split (10-fold,
 * seed 1192, protocol) → encode → standardize → train | xgboost. One JSON line per fold × model.
 *
 *   npx tsx test/ml/scripts/cv.ts --dataset magic --models relu,actmix,xgboost --folds 0,1
 *        [--epochs 200] [--protocol clean|seed-parity] [--std-target] [--backend wasm] [--out dir]
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { runStageDirect } from '../../../src/engine/exec/context.js';

const arg = (k: string, d: string) => { const i = process.argv.indexOf(`--${k}`); return i >= 0 ? process.argv[i + 1]! : d; };
const dataset = arg('dataset', 'magic');
const models = arg('models', 'relu').split(',');
const folds = arg('folds', '0').split(',').map(Number);
const epochs = Number(arg('epochs', '200'));
const protocol = arg('protocol', 'clean');
const stdTarget = process.argv.includes('--std-target');
const backend = arg('backend', 'wasm');
const out = arg('out', '');
const mirror = new URL('../../../../shared/datasets', import.meta.url).pathname;

const kind = async (name: string) => (await import(`../../../src/stages/${name}.js`)).default;
const [download, split, encode, standardize, train, xgboost] = await Promise.all(['download-uci', 'split', 'encode', 'standardize', 'train', 'xgboost'].map(kind));

const data = await runStageDirect(download, { params: { dataset, mirror } });
for (const fold of folds) {
  const sp = await runStageDirect(split, { params: { method: 'stratified-kfold', k: 10, fold, seed: 1192, protocol, val_fraction: 0.1 }, inputs: { table: data.outputs.table! } });
  const parts = (o: Record<string, string>) => ({ train: o.train!, val: o.val!, test: o.test! });
  const en = await runStageDirect(encode, { params: { fit_on: protocol === 'seed-parity' ? 'all' : 'train' }, inputs: parts(sp.outputs) });
  const st = await runStageDirect(standardize, { params: { fit_on: protocol === 'seed-parity' ? 'all' : 'train', target: stdTarget }, inputs: parts(en.outputs) });
  for (const model of models) {
    const t0 = performance.now();
    const outDir = out ? `${out}/${dataset}${stdTarget ? '-std' : ''}-${protocol}-${model}-f${fold}` : undefined;
    if (outDir) mkdirSync(outDir, { recursive: true });
    const r = model === 'xgboost'
      ? await runStageDirect(xgboost, { params: {}, inputs: parts(st.outputs), seed: 42, outDir })
      : await runStageDirect(train, { params: { backend, model: { activation: model }, training: { max_epochs: epochs } }, inputs: parts(st.outputs), seed: 1192, outDir });
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    const key = m.task === 'classification' ? ['accuracy', 'roc_auc', 'f1_macro'] : ['rmse', 'r2', 'mae'];
    console.log(JSON.stringify({
      dataset, protocol, std_target: stdTarget, fold, model, ...Object.fromEntries(key.map((k) => [k, +m.test[k].toFixed(5)])),
      best_epoch: m.best_epoch, epochs_run: m.epochs_run, T_best: m.temperature_at_best, H_best: m.mean_entropy_at_best,
      n_train: m.n_train, n_val: m.n_val, n_test: m.n_test, d: m.n_features, seconds: +((performance.now() - t0) / 1000).toFixed(1),
    }));
  }
}
