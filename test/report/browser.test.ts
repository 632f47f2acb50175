/**
 * Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) loads the HTML
 * report and the DAG page from a loopback server: no console errors, every chart drawn
 * interactively, the GIF decoded, the DAG expandable. Screenshots are left in the temp dir
 * (path printed) for people to look at.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport, dagHtml } from '../../src/lib/report/html.js';
import type { ReportData } from '../../src/lib/report/types.js';
import { buildRun } from './fixtures.js';
import { CHROMIUM, haveChromium, serveAndBrowse, type Served } from './chromium.js';

if (!haveChromium) console.warn(`SKIPPED browser tests: ${CHROMIUM} is not installed (apt-get install chromium)`);

let data: ReportData;
let root: string;
let web: Served | undefined;
let base: string;

beforeAll(async () => {
  if (!haveChromium) return;
  root = await mkdtemp(join(tmpdir(), 'pipe-browser-test-'));
  data = await buildRun(join(root, 'run'), { sweep: 48 });
  await writeReport(data, join(root, 'report'));
  await writeFile(join(root, 'report', 'dag.html'), dagHtml(data));
  web = await serveAndBrowse(root, { width: 1400, height: 900 });
  base = web.base;
}, 60_000);

afterAll(async () => {
  await web?.close();
});

const open = (path: string) => web!.open(path);

describe.skipIf(!haveChromium)('HTML report in headless Chromium', () => {
  it('loads with no console errors, every chart interactive, GIF decoded', async () => {
    const { page, errors, requests } = await open('/report/index.html');
    await page.waitForSelector('body[data-charts="done"]', { timeout: 30_000 });
    const specs = data.stages.filter((s) => s.outputs.some((o) => o.name === 'spec')).length;
    expect(await page.locator('figure[data-spec]').count()).toBe(specs);
    expect(await page.locator('figure.interactive').count()).toBe(specs);
    // vega-embed drew each chart as an SVG with marks and axis text
    const charts = await page.$$eval('figure.interactive .chart svg.marks', (els) => els.map((e) => ({ w: e.getBoundingClientRect().width, texts: e.querySelectorAll('text').length })));
    expect(charts).toHaveLength(specs);
    for (const c of charts) { expect(c.w).toBeGreaterThan(200); expect(c.texts).toBeGreaterThan(5); }
    const gif = await page.$eval('img[src^="data:image/gif"]', (img) => (img as HTMLImageElement).naturalWidth);
    expect(gif).toBe(240);
    // the static DAG was replaced by the interactive one
    expect(await page.locator('#dag .dag-node').count()).toBe(9);
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:'))).toEqual([]);
    const shot = join(root, 'report-screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`report screenshot: ${shot}`);
    await page.close();
  });

  it('expands a 48-instance group and shows a stage’s details', async () => {
    const { page, errors } = await open('/report/dag.html');
    expect(await page.locator('.dag-node').count()).toBe(9);
    await page.locator('[data-toggle="sweep"]').first().click();
    expect(await page.locator('.dag-node').count()).toBe(9 - 1 + 48);
    await page.locator('.dag-node[data-key="sweep[act=tanh,dim=32,seed=2]"]').click();
    const details = page.locator('.dag-details');
    await expect.poll(() => details.textContent()).toContain('sweep[act=tanh,dim=32,seed=2]');
    expect(await details.textContent()).toContain('"dim": 32');
    await page.screenshot({ path: join(root, 'dag-expanded.png') });
    // collapse again, then open the train group's table
    await page.locator('[data-toggle="sweep"]').first().click();
    expect(await page.locator('.dag-node').count()).toBe(9);
    await page.locator('.dag-node[data-key="group:train"] text').first().click();
    await expect.poll(() => details.textContent()).toContain('6 instances');
    expect(await details.locator('tr').count()).toBe(7);
    expect(await details.textContent()).toContain('failed');
    expect(errors).toEqual([]);
    const shot = join(root, 'dag-screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dag screenshot: ${shot}`);
    await page.close();
  });
});
