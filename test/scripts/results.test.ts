/**
 * `npm run results` (scripts/results.mjs) re-creates the README's result blocks from artifacts:
 * on a fixture artifacts tree it writes the playground, Hebbian and AGF tables from the numbers in
 * the files (nothing hand-copied), `--check` passes on the written README and fails once a block is
 * edited by hand, and a block whose artifacts are missing is left untouched.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/results.mjs', import.meta.url));
const ACTS = ['tanh', 'relu', 'sigmoid', 'leaky_relu', 'sine', 'identity'];
const POLYS = ['linear_pos', 'quadratic_u', 'cubic_s', 'cubic_neg', 'quartic_w'];
const C4: Record<string, number[]> = {
  linear_pos: [0.1862, 0.6642, 2.1210, 0.2797, 0.1060, 0.0000],
  quadratic_u: [1.2770, 0.9606, 1.2744, 1.2756, 1.2737, 1.2752],
  cubic_s: [3.5832, 1.4974, 10.9220, 1.4163, 3.8689, 3.1867],
  cubic_neg: [3.7740, 3.0506, 10.9407, 3.0051, 3.2844, 1.7560],
  quartic_w: [0.1765, 0.1815, 0.1818, 0.1542, 0.1848, 0.1806],
};

function put(root: string, rel: string, obj: unknown): void {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, JSON.stringify(obj));
}
const stat = (values: number[]) => {
  const n = values.length, mean = values.reduce((a, b) => a + b, 0) / n;
  return { n, mean, std: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n), values, min: Math.min(...values), max: Math.max(...values) };
};
const run = (...a: string[]) => spawnSync(process.execPath, [SCRIPT, ...a], { encoding: 'utf8' });

describe('scripts/results.mjs', () => {
  it('writes the tables from the artifacts; --check detects a hand edit; missing artifacts leave a block alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-results-'));
    const art = join(dir, 'artifacts');
    // playground: 29 cells equal to §C.4, cubic_s/relu off by 0.01
    POLYS.forEach((p, i) => ACTS.forEach((a, k) => {
      const best = p === 'cubic_s' && a === 'relu' ? 1.5074 : C4[p]![k]!;
      put(art, `activation_playground/fit[polynomial=${p},activation=${a}]/metrics.json`, { best_mse: best, optimum_mse: 0.123456, var_y: 2 + i, init_stream: 'seed-order', init_rng: 'numpy' });
    }));
    // hebbian: one arm pair
    const acc0 = [0.9, 0.92, 0.94], acc1 = [0.91, 0.92, 0.96];
    put(art, 'hebbian_mlp/comparison/results.json', {
      groups: [
        { group: { hebbian: false, decay: 0, meta: false }, metrics: { accuracy: stat(acc0), bce: stat([0.2, 0.1, 0.3]), diverged: stat([0, 0, 0]), diverged_after_best: stat([0, 0, 0]) } },
        { group: { hebbian: true, decay: 0, meta: true }, metrics: { accuracy: stat(acc1), bce: stat([0.5, 9e9, 0.4]), diverged: stat([1, 1, 0]), diverged_after_best: stat([1, 0, 0]) } },
      ],
      paired: [{ group: { hebbian: true, decay: 0, meta: true }, metric: 'accuracy', mean: 0.01, std: 0.0082, better: 2, n: 3 }],
    });
    // agf: the 1D run only
    put(art, 'group_agf/analyze_1d/summary.json', { levels: [1, 0.5, 0], final_loss: 0.5005, nearest_level: 1, alive: 7, neurons: 8, frequencies_acquired: ['k=3'],
      plateaus: [{ m: 0, level: 1, status: 'rested', restFrom: 0, restTo: 300, passedAt: 320 }, { m: 1, level: 0.5, status: 'rested', restFrom: 400, restTo: 3000, passedAt: null }] });
    // actmix_cv: one dataset, ActMix and XGBoost over 2 folds, paired
    put(art, 'actmix_cv/results/results.json', {
      groups: [
        { group: { dataset: 'magic', model: 'xgboost' }, metrics: { accuracy: stat([0.88, 0.89]), roc_auc: stat([0.93, 0.94]) } },
        { group: { dataset: 'magic', model: 'actmix' }, metrics: { accuracy: stat([0.86, 0.87]), roc_auc: stat([0.91, 0.92]) } },
        { group: { dataset: 'ccpp', model: 'actmix' }, metrics: { rmse: stat([4.1, 4.3]), r2: stat([0.93, 0.94]) } },
      ],
      paired: [
        { group: { dataset: 'magic', model: 'actmix' }, baseline: { dataset: 'magic', model: 'xgboost' }, metric: 'accuracy', mean: -0.02, std: 0, better: 0, n: 2 },
        { group: { dataset: 'magic', model: 'actmix' }, baseline: { dataset: 'magic', model: 'xgboost' }, metric: 'roc_auc', mean: -0.02, std: 0, better: 0, n: 2 },
        { group: { dataset: 'ccpp', model: 'actmix' }, baseline: { dataset: 'ccpp', model: 'relu' }, metric: 'rmse', mean: -0.05, std: 0.01, better: 2, n: 2, ci_low: -0.177, ci_high: 0.077, level: 0.95, p_t: 0.126, p_adj: 0.252, test: 't', correction: 'holm' },
      ],
    });
    const readme = join(dir, 'README.md');
    const frame = (name: string) => `<!-- results:${name} -->\nOLD ${name}\n<!-- /results:${name} -->`;
    writeFileSync(readme, `# x\n\n${frame('playground')}\n\ntext\n\n${frame('hebbian')}\n\n${frame('agf')}\n\n${frame('actmix')}\n\nend\n`);

    expect(run('--artifacts', art, '--readme', readme, '--check').status).toBe(1); // stale
    const w = run('--artifacts', art, '--readme', readme);
    expect(w.status, w.stderr).toBe(0);
    const out = readFileSync(readme, 'utf8');
    expect(out).toMatch(/\| cubic_s \| 4\.0000 \| 3\.5832 \/ 0\.1235 \| 1\.5074 \/ 0\.1235 \|/);
    expect(out).toContain('**29 of 30** cells (init: seed-order, rng numpy)');
    expect(out).toMatch(/\| plain backprop \| 0\.9200 ± 0\.0163 \| 0\.2 \| 0\/3 \| 0\/3 \| — \|/);
    expect(out).toMatch(/\| \+ Hebbian, γ = 0 \(the seed's default\) \+ meta-tuner \| 0\.9300 ± 0\.0216 \| 0\.5 \| 2\/3 \| 1\/3 \| \+0\.0100 ± 0\.0082 \(2\/3\) \|/);
    expect(out).toContain('| 1D C_100, k = 3, fourier (5 modes), QuadraticRNN d = 200, Adam 1e-3 | 1.00, 0.500, 0.00 | L0 rested 0–300; L1 rested 400–3,000 | 0.5005 = 1.001 × L1 | k=3 (7 of 8 neurons alive) |');
    // actmix: datasets in the study's order (adult, magic, ccpp), models in the study's order
    expect(out).toContain('| magic | actmix | 0.8650 ± 0.0050 (0.8600–0.8700) | 0.9150 |\n| magic | xgboost | 0.8850 ± 0.0050 (0.8800–0.8900) | 0.9350 |\n| ccpp | actmix | RMSE 4.200 ± 0.100 (4.100–4.300) | 0.9350 |');
    // paired: one table per task type; intervals and adjusted p when the aggregate stage wrote them
    expect(out).toContain('| magic | xgboost | −0.0200 ± 0.0000 (0/2) | — | −0.0200 ± 0.0000 (0/2) | — |');
    expect(out).toContain('**ActMix − each baseline, regression**, paired by fold: mean difference [95% t interval] (folds where ActMix is better / n), p: paired t, Holm-adjusted over the comparisons of each column:');
    expect(out).toContain('| ccpp | relu | −0.0500 [−0.1770, +0.0770] (2/2) | 0.252 | — | — |');
    expect(out).toMatch(/\ntext\n/);
    expect(out).toMatch(/\nend\n$/);
    expect(run('--artifacts', art, '--readme', readme, '--check').status).toBe(0);
    writeFileSync(readme, out.replace('0.9200 ± 0.0163', '0.9600 ± 0.0048'));
    expect(run('--artifacts', art, '--readme', readme, '--check').status).toBe(1);
    // no artifacts: every block is left as it is
    const empty = mkdtempSync(join(tmpdir(), 'pipe-results-none-'));
    writeFileSync(readme, out);
    const r = run('--artifacts', empty, '--readme', readme);
    expect(r.stderr).toMatch(/playground: artifacts missing/);
    expect(readFileSync(readme, 'utf8')).toBe(out);
  });
});
