/**
 * `pipe report --compare` on real runs (the toy `fit` pipeline, two runs with --set), opened in
 * headless Chromium (Debian's /usr/bin/chromium via playwright-core) from a loopback server: no
 * console errors, no requests off the page, the diff table toggles (differences only, transpose)
 * work, and the overlaid curves carry both runs' lines.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { pipe } from '../engine/helpers.js';
import { CHROMIUM, haveChromium, serveAndBrowse, type Served } from '../report/chromium.js';
import { FIT_PIPELINE, GOALS, toyProject } from './fixtures.js';

if (!haveChromium) console.warn(`SKIPPED compare-page browser test: ${CHROMIUM} is not installed (apt-get install chromium)`);

let dir: string;
let web: Served | undefined;
let base: string;

beforeAll(async () => {
  if (!haveChromium) return;
  dir = toyProject(FIT_PIPELINE(GOALS));
  for (const args of [['--name', 'base'], ['--set', 'lr=0.3', '--name', 'lr-3e-1']]) {
    const r = await pipe(dir, 'run', 'p.yaml', ...args);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const r = await pipe(dir, 'report', '--compare', 'base', 'lr-3e-1');
  if (r.code !== 0) throw new Error(r.stderr);
  expect(r.stdout.trim()).toBe('wrote artifacts/toy/compare/compare-1-2.html');
  web = await serveAndBrowse(join(dir, 'artifacts/toy/compare'), { width: 1400, height: 900 });
  base = web.base;
}, 90_000);

afterAll(async () => {
  await web?.close();
});

describe.skipIf(!haveChromium)('pipe report --compare in headless Chromium', () => {
  it('loads with no console errors; diff table toggles; both runs’ curves are drawn', async () => {
    const { page, errors, requests } = await web!.open('/compare-1-2.html');
    await page.waitForSelector('body[data-charts="done"]', { timeout: 30_000 });

    // differences only (default): p:lr and the metrics that moved, not p:width
    const firstCol = () => page.$$eval('#diff tr td:first-child', (tds) => tds.map((t) => t.textContent));
    const changed = await firstCol();
    expect(changed).toContain('p:lr');
    expect(changed).toContain('m:test_accuracy ↑');
    expect(changed).not.toContain('p:width');
    const acc = await page.$$eval('#diff tr', (trs) => trs.filter((t) => t.firstElementChild?.textContent === 'm:test_accuracy ↑').map((t) => [...t.children].map((c) => [c.textContent, c.className])));
    expect(acc[0]).toEqual([['m:test_accuracy ↑', ''], ['0.782', 'num'], ['0.882', 'num better'], ['+0.1', 'num better'], ['+12.8%', 'num better']]);
    await page.locator('#diff-only').uncheck();
    expect(await firstCol()).toContain('p:width');
    await page.locator('#transpose').check();
    expect(await page.getAttribute('#diff', 'data-transposed')).toBe('1');
    const heads = await page.$$eval('#diff tr:first-child th', (ths) => ths.map((t) => t.textContent));
    expect(heads).toEqual(expect.arrayContaining(['p:lr', 'p:width', 'm:test_accuracy ↑']));
    const rowHeads = await page.$$eval('#diff tr th:first-child', (ths) => ths.map((t) => t.textContent));
    expect(rowHeads.slice(1)).toEqual(['#1 base', '#2 lr-3e-1', 'Δ', '%Δ']);

    // the stages that differ and why
    expect(await page.locator('table.stages').textContent()).toContain('params.lr changed 0.1 → 0.3');

    // curves: one chart per curve column (val_loss, val_accuracy), each with a line per run
    expect(await page.locator('figure.interactive').count()).toBe(2);
    const charts = await page.$$eval('figure.interactive', (figs) => figs.map((f) => ({
      caption: f.querySelector('figcaption')?.textContent,
      lines: f.querySelectorAll('.chart svg path.mark-line, .chart svg g.mark-line path').length,
      legend: [...f.querySelectorAll('.chart svg g.mark-text.role-legend-label text, .chart svg .role-legend-label text')].map((t) => t.textContent),
    })));
    expect(charts.map((c) => c.caption).sort()).toEqual(['fit · val_accuracy', 'fit · val_loss']);
    for (const c of charts) {
      expect(c.lines).toBe(2);
      expect(c.legend).toEqual(['#1 base', '#2 lr-3e-1']);
    }
    // the data behind the lines: both runs, every epoch
    const spec = JSON.parse(await page.$eval('#curve-0-spec', (s) => s.textContent!)) as { data: { values: { run: string; epoch: number }[] } };
    expect(new Set(spec.data.values.map((v) => v.run))).toEqual(new Set(['#1 base', '#2 lr-3e-1']));
    expect(spec.data.values.filter((v) => v.run === '#2 lr-3e-1').map((v) => v.epoch)).toEqual([1, 2, 3, 4, 5, 6]);

    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:'))).toEqual([]);
    const shot = join(dir, 'compare-screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`compare page screenshot: ${shot}`);
    await page.close();
  });

  it('refuses fewer than two runs and unknown runs', async () => {
    const one = await pipe(dir, 'report', '--compare', 'base');
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('--compare needs two or more runs');
    const bad = await pipe(dir, 'report', '--compare', 'base', 'nosuch');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("no run 'nosuch'");
  });
});
