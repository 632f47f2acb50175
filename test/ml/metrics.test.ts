import { describe, it, expect } from 'vitest';
import { classificationMetrics, regressionMetrics, rocAucBinary, rankAverage, rocAuc, softmaxRows } from '../../src/lib/ml/metrics.js';

describe('classification metrics vs hand-computed values', () => {
  // y = [0,0,1,1], P(class 1) = [0.1, 0.4, 0.35, 0.8]
  const y = [0, 0, 1, 1];
  const p1 = [0.1, 0.4, 0.35, 0.8];
  const probs = p1.flatMap((p) => [1 - p, p]);
  const m = classificationMetrics(y, probs, 2);
  it('accuracy, macro P/R/F1', () => {
    // argmax predictions [0,0,0,1]
    expect(m.accuracy).toBeCloseTo(0.75, 12);
    // class 0: P = 2/3, R = 1, F1 = 0.8; class 1: P = 1, R = 1/2, F1 = 2/3
    expect(m.precision_macro).toBeCloseTo((2 / 3 + 1) / 2, 12);
    expect(m.recall_macro).toBeCloseTo(0.75, 12);
    expect(m.f1_macro).toBeCloseTo((0.8 + 2 / 3) / 2, 12);
  });
  it('ROC-AUC (3 of 4 pos/neg pairs ordered) and log loss', () => {
    expect(m.roc_auc).toBeCloseTo(0.75, 12);
    const ll = -(Math.log(0.9) + Math.log(0.6) + Math.log(0.35) + Math.log(0.8)) / 4;
    expect(m.log_loss).toBeCloseTo(ll, 12);
    expect(m.log_loss).toBeCloseTo(0.472287, 5);
  });
  it('AUC counts ties as one half', () => {
    // positives {0.5, 0.9}, negatives {0.5, 0.2}: pairs 0.5 + 1 + 1 + 1 = 3.5 of 4
    expect(rocAucBinary([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBeCloseTo(0.875, 12);
    expect(rocAucBinary([0, 0], [0.1, 0.2])).toBeNaN();
  });
  it('multiclass one-vs-rest AUC and a label absent from predictions', () => {
    // 3 classes; scores separate class 0 and 2 perfectly, class 1 has one swapped pair
    const yt = [0, 1, 2, 1];
    const pr = [0.8, 0.1, 0.1, 0.1, 0.5, 0.4, 0.1, 0.2, 0.7, 0.2, 0.3, 0.5];
    // class 0: 1; class 1 scores [.1,.5,.2,.3], pos {.5,.3} vs neg {.1,.2}: 1; class 2 scores [.1,.4,.7,.5], pos .7 vs {.1,.4,.5}: 1
    expect(rocAuc(yt, pr, 3)).toBeCloseTo(1, 12);
    const m3 = classificationMetrics(yt, pr, 3);
    // predictions [0,1,2,2]: class0 P=R=1; class1 P=1 R=1/2; class2 P=1/2 R=1
    expect(m3.accuracy).toBeCloseTo(0.75, 12);
    expect(m3.precision_macro).toBeCloseTo((1 + 1 + 0.5) / 3, 12);
    expect(m3.recall_macro).toBeCloseTo((1 + 0.5 + 1) / 3, 12);
    expect(m3.f1_macro).toBeCloseTo((1 + 2 / 3 + 2 / 3) / 3, 12);
  });
  it('softmax rows', () => {
    const s = softmaxRows([0, Math.log(3), 1000, 1000], 2, 2);
    [0.25, 0.75, 0.5, 0.5].forEach((v, i) => expect(s[i]).toBeCloseTo(v, 12));
  });
});

describe('regression metrics vs hand-computed values', () => {
  it('sklearn documentation example', () => {
    const m = regressionMetrics([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
    expect(m.mse).toBeCloseTo(0.375, 12);
    expect(m.mae).toBeCloseTo(0.5, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.375), 12);
    expect(m.r2).toBeCloseTo(0.9486081370449679, 12);
    // deviations: sxy = 31.5625, sxx = 29.1875, syy = 35.1875
    expect(m.pearson).toBeCloseTo(31.5625 / Math.sqrt(29.1875 * 35.1875), 12);
    expect(m.spearman).toBeCloseTo(1, 12);
  });
  it('Spearman with tied ranks', () => {
    expect(Array.from(rankAverage([1, 1, 2, 3]))).toEqual([1.5, 1.5, 3, 4]);
    const m = regressionMetrics([1, 2, 3, 4], [1, 1, 2, 3]);
    expect(m.spearman).toBeCloseTo(4.5 / Math.sqrt(22.5), 12);
  });
});
