/**
 * Evaluation metrics (pure JS, float64), defined as scikit-learn / SciPy define them:
 *
 * Classification (labels are class indices 0..C-1; `probs` is row-major n × C):
 *  - accuracy            fraction of argmax predictions equal to the label
 *  - f1/precision/recall macro averages over the classes that occur in y_true ∪ y_pred
 *                        (sklearn `average='macro'`, zero_division = 0)
 *  - roc_auc             binary: AUC of P(class 1) (Mann–Whitney, ties count ½);
 *                        C > 2: macro one-vs-rest average (sklearn `multi_class='ovr'`)
 *  - log_loss            mean −log p(y), p clipped to [1e-15, 1 − 1e-15]
 * Regression:
 *  - mse, mae, rmse = √mse, r2 = 1 − SS_res/SS_tot, pearson r, spearman ρ (Pearson of
 *    average ranks).
 */

export interface ClassificationMetrics {
  accuracy: number;
  f1_macro: number;
  precision_macro: number;
  recall_macro: number;
  roc_auc: number;
  log_loss: number;
}

export interface RegressionMetrics {
  mse: number;
  mae: number;
  rmse: number;
  r2: number;
  pearson: number;
  spearman: number;
}

type Num = ArrayLike<number>;

export function argmaxRows(probs: Num, n: number, c: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bv = probs[i * c]!;
    for (let k = 1; k < c; k++) {
      const v = probs[i * c + k]!;
      if (v > bv) { bv = v; best = k; }
    }
    out[i] = best;
  }
  return out;
}

export function accuracy(yTrue: Num, yPred: Num): number {
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return yTrue.length ? ok / yTrue.length : NaN;
}

/** Macro precision, recall and F1 over the labels present in y_true or y_pred (sklearn). */
export function macroPRF(yTrue: Num, yPred: Num): { precision: number; recall: number; f1: number } {
  const labels = new Set<number>();
  for (let i = 0; i < yTrue.length; i++) { labels.add(yTrue[i]!); labels.add(yPred[i]!); }
  let P = 0, R = 0, F = 0;
  for (const l of labels) {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < yTrue.length; i++) {
      const t = yTrue[i] === l, p = yPred[i] === l;
      if (t && p) tp++;
      else if (p) fp++;
      else if (t) fn++;
    }
    const prec = tp + fp > 0 ? tp / (tp + fp) : 0;
    const rec = tp + fn > 0 ? tp / (tp + fn) : 0;
    P += prec;
    R += rec;
    F += prec + rec > 0 ? (2 * prec * rec) / (prec + rec) : 0;
  }
  const k = labels.size || 1;
  return { precision: P / k, recall: R / k, f1: F / k };
}

/** Average ranks (1-based), ties get the mean of their ranks (scipy `rankdata`). */
export function rankAverage(x: Num): Float64Array {
  const n = x.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const r = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[idx[j + 1]!] === x[idx[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]!] = avg;
    i = j + 1;
  }
  return r;
}

/** Binary ROC-AUC of `score` for positives (`positive[i]` true), ties count ½. NaN if one class is absent. */
export function rocAucBinary(positive: ArrayLike<boolean | number>, score: Num): number {
  const r = rankAverage(score);
  let nPos = 0, sumPos = 0;
  for (let i = 0; i < score.length; i++) if (positive[i]) { nPos++; sumPos += r[i]!; }
  const nNeg = score.length - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (sumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function rocAuc(yTrue: Num, probs: Num, c: number): number {
  const n = yTrue.length;
  if (c === 2) {
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) s[i] = probs[i * 2 + 1]!;
    return rocAucBinary(Array.from(yTrue, (v) => v === 1), s);
  }
  let sum = 0, cnt = 0;
  for (let k = 0; k < c; k++) {
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) s[i] = probs[i * c + k]!;
    const a = rocAucBinary(Array.from(yTrue, (v) => v === k), s);
    if (!Number.isNaN(a)) { sum += a; cnt++; }
  }
  return cnt ? sum / cnt : NaN;
}

export function logLoss(yTrue: Num, probs: Num, c: number, eps = 1e-15): number {
  const n = yTrue.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    // renormalise rows like sklearn does
    let z = 0;
    for (let k = 0; k < c; k++) z += probs[i * c + k]!;
    const p = Math.min(1 - eps, Math.max(eps, probs[i * c + yTrue[i]!]! / z));
    s -= Math.log(p);
  }
  return s / n;
}

export function classificationMetrics(yTrue: Num, probs: Num, c: number): ClassificationMetrics {
  const n = yTrue.length;
  if (probs.length !== n * c) throw new Error(`classificationMetrics: probs has ${probs.length} values, expected ${n}×${c}`);
  const pred = argmaxRows(probs, n, c);
  const prf = macroPRF(yTrue, pred);
  return {
    accuracy: accuracy(yTrue, pred),
    f1_macro: prf.f1,
    precision_macro: prf.precision,
    recall_macro: prf.recall,
    roc_auc: rocAuc(yTrue, probs, c),
    log_loss: logLoss(yTrue, probs, c),
  };
}

export function pearson(x: Num, y: Num): number {
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]!; my += y[i]!; }
  mx /= n; my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i]! - mx, b = y[i]! - my;
    sxy += a * b; sxx += a * a; syy += b * b;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

export function spearman(x: Num, y: Num): number {
  return pearson(rankAverage(x), rankAverage(y));
}

export function regressionMetrics(yTrue: Num, yPred: Num): RegressionMetrics {
  const n = yTrue.length;
  if (yPred.length !== n) throw new Error('regressionMetrics: length mismatch');
  let se = 0, ae = 0, mean = 0;
  for (let i = 0; i < n; i++) {
    const e = yPred[i]! - yTrue[i]!;
    se += e * e; ae += Math.abs(e); mean += yTrue[i]!;
  }
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (yTrue[i]! - mean) ** 2;
  const mse = se / n;
  return {
    mse,
    mae: ae / n,
    rmse: Math.sqrt(mse),
    r2: ss > 0 ? 1 - se / ss : NaN,
    pearson: pearson(yTrue, yPred),
    spearman: spearman(yTrue, yPred),
  };
}

/** Numerically stable softmax of row-major logits (n × c) in float64. */
export function softmaxRows(logits: Num, n: number, c: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let k = 0; k < c; k++) m = Math.max(m, logits[i * c + k]!);
    let z = 0;
    for (let k = 0; k < c; k++) { const e = Math.exp(logits[i * c + k]! - m); out[i * c + k] = e; z += e; }
    for (let k = 0; k < c; k++) out[i * c + k] = out[i * c + k]! / z;
  }
  return out;
}

/** Predicted classes (argmax, ties → lower index) and the classification metrics of n × c probabilities. */
export function scoreProbabilities(yTrue: Num, probs: Num, c: number): { pred: Float64Array; metrics: Record<string, number> } {
  return { pred: Float64Array.from(argmaxRows(probs, yTrue.length, c)), metrics: classificationMetrics(yTrue, probs, c) as unknown as Record<string, number> };
}
