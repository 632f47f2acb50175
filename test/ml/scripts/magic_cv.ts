/**
 * Real-data check (not a test): MAGIC gamma, clean protocol — stratified 10-fold (seed 1192),
 * per fold z-score fit on the training part, 10 % inner validation split for early stopping,
 * the seed's hyperparameters. Runs the `train` (and optionally `xgboost`) kinds in-process.
 *
 *   npx tsx test/ml/scripts/magic_cv.ts --models relu,actmix,xgboost --folds 0,1 [--epochs 200]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { runStageDirect } from '../../../src/engine/context.js';
import { Rng } from '../../../src/lib/rng.js';
import { writeDataset, tmp, type Rows } from '../helpers.js';

const arg = (k: string, d: string) => { const i = process.argv.indexOf(`--${k}`); return i >= 0 ? process.argv[i + 1]! : d; };
const models = arg('models', 'relu').split(',');
const folds = arg('folds', '0').split(',').map(Number);
const epochs = Number(arg('epochs', '200'));
const K = 10;

const text = readFileSync(new URL('../../../../shared/datasets/magic/magic04.data', import.meta.url), 'utf8');
const lines = text.trim().split('\n').map((l) => l.split(','));
const X = lines.map((l) => l.slice(0, 10).map(Number));
const y = lines.map((l) => (l[10]!.trim() === 'h' ? 1 : 0));
// stratified folds
const rng = new Rng(1192);
const foldOf = new Int32Array(X.length);
for (const c of [0, 1]) {
  const idx = [...y.keys()].filter((i) => y[i] === c);
  rng.shuffle(idx);
  idx.forEach((i, r) => { foldOf[i] = r % K; });
}
const dir = tmp('pipe-magic-cv-');
const zscore = (tr: number[][], others: number[][][]) => {
  const d = tr[0]!.length;
  const m = Array.from({ length: d }, (_, j) => tr.reduce((a, r) => a + r[j]!, 0) / tr.length);
  const s = Array.from({ length: d }, (_, j) => Math.sqrt(tr.reduce((a, r) => a + (r[j]! - m[j]!) ** 2, 0) / tr.length));
  return [tr, ...others].map((M) => M.map((r) => r.map((v, j) => (v - m[j]!) / s[j]!)));
};
const { default: train } = await import('../../../src/stages/train.js');
let xgb: typeof train | null = null;
if (models.includes('xgboost')) xgb = (await import(`../../../src/stages/${'xgboost'}.js`)).default;
for (const f of folds) {
  const trI = [...y.keys()].filter((i) => foldOf[i] !== f), teI = [...y.keys()].filter((i) => foldOf[i] === f);
  // inner validation: 10 % of the training part, stratified
  const vr = new Rng(1192).fork(`val-${f}`);
  const valSet = new Set<number>();
  for (const c of [0, 1]) { const idx = trI.filter((i) => y[i] === c); vr.shuffle(idx); idx.slice(0, Math.round(idx.length * 0.1)).forEach((i) => valSet.add(i)); }
  const fitI = trI.filter((i) => !valSet.has(i)), valI = trI.filter((i) => valSet.has(i));
  const [Xf, Xv, Xt] = zscore(fitI.map((i) => X[i]!), [valI.map((i) => X[i]!), teI.map((i) => X[i]!)]);
  const rows = (M: number[][], I: number[]): Rows => ({ X: M, y: I.map((i) => y[i]!) });
  const inputs = {
    train: await writeDataset(dir, `tr${f}`, rows(Xf!, fitI), 'classification', ['g', 'h']),
    val: await writeDataset(dir, `va${f}`, rows(Xv!, valI), 'classification', ['g', 'h']),
    test: await writeDataset(dir, `te${f}`, rows(Xt!, teI), 'classification', ['g', 'h']),
  };
  for (const model of models) {
    const t0 = performance.now();
    const r = model === 'xgboost'
      ? await runStageDirect(xgb!, { params: {}, inputs, seed: 42 })
      : await runStageDirect(train, { params: { backend: 'wasm', model: { activation: model }, training: { max_epochs: epochs } }, inputs, seed: 1192 });
    const m = JSON.parse(readFileSync(r.outputs.metrics!, 'utf8'));
    console.log(JSON.stringify({ fold: f, model, accuracy: m.test.accuracy, roc_auc: m.test.roc_auc, f1: m.test.f1_macro, best_epoch: m.best_epoch, epochs_run: m.epochs_run, T_best: m.temperature_at_best, seconds: +((performance.now() - t0) / 1000).toFixed(1) }));
  }
}
void readdirSync;
