/**
 * `npm run results` writes the InfoMax blocks from the sweep's artifacts: the ReLU K = 16 runs
 * against the seed's published run (§B.7), and the summary by activation and K.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/results.mjs', import.meta.url));
const put = (root: string, rel: string, obj: unknown) => {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), JSON.stringify(obj));
};
const stat = (values: number[]) => {
  const n = values.length, mean = values.reduce((a, b) => a + b, 0) / n;
  return { n, mean, std: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n), values, min: Math.min(...values), max: Math.max(...values) };
};

describe('scripts/results.mjs: InfoMax blocks', () => {
  it('computes the 10-seed statistics and the seed comparison from the per-run metrics', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-results-'));
    const art = join(dir, 'artifacts');
    const tcs = [4.0, 4.2, 4.4, 4.6, 4.8, 5.0, 5.2, 5.4, 5.6, 5.8];
    tcs.forEach((tc, i) => put(art, `infomax_sweep/train[activation=relu,hidden=16,seed=${i + 1}]/metrics.json`, { final: { tc, weight_redundancy: 1 + i / 10, output_correlation: 3, eff_rank: 15.2, final_loss: -201.5 - i / 100 } }));
    put(art, 'infomax_sweep/summary_by_width/results.json', { groups: [
      { group: { activation: 'tanh', hidden: 16 }, metrics: { eff_rank: stat([15.3, 15.4]), tc: stat([1.9, 1.8]) } },
      { group: { activation: 'relu', hidden: 16 }, metrics: { eff_rank: stat([15.2, 15.3]), tc: stat([4.5, 4.6]) } },
    ] });
    const readme = join(dir, 'README.md');
    writeFileSync(readme, '<!-- results:infomax_relu -->\nold\n<!-- /results:infomax_relu -->\n<!-- results:infomax -->\nold\n<!-- /results:infomax -->\n');
    const r = spawnSync(process.execPath, [SCRIPT, '--artifacts', art, '--readme', readme], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(readme, 'utf8');
    expect(text).toContain('| seed (§B.7, one run) | 4.78 | 2.21 | 3.13 | 15.14 | −202.07 |');
    expect(text).toContain('| pipe, seed 1 | 4.00 | 1.00 | 3.00 | 15.20 | −201.50 |');
    // mean 4.9, population std sqrt(0.33) = 0.5745
    expect(text).toContain('| **pipe, 10 seeds: mean ± std** | 4.90 ± 0.57 | 1.45 ± 0.29 |');
    expect(text).toContain('| pipe, 10 seeds: min – max | 4.00 – 5.80 | 1.00 – 1.90 |');
    // inside the range: TC (4.78) and redundancy (2.21 is outside 1.0–1.9) → TC only; corr 3.13 > 3, eff rank 15.14 < 15.2, loss −202.07 < −201.59
    expect(text).toContain("The seed's run lies inside pipe's 10-seed range on 1 of 5 metrics (TC).");
    // summary rows sorted by activation then K
    expect(text.indexOf('| relu | 16 | 2 | 15.250 ± 0.050')).toBeLessThan(text.indexOf('| tanh | 16 | 2 | 15.350 ± 0.050'));
    expect(spawnSync(process.execPath, [SCRIPT, '--artifacts', art, '--readme', readme, '--check'], { encoding: 'utf8' }).status).toBe(0);
  });
});
