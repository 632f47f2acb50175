/**
 * Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) loads the HTML
 * report and the DAG page from a loopback server: no console errors, every chart drawn
 * interactively, the GIF decoded, the DAG expandable. Screenshots are left in the temp dir
 * (path printed) for people to look at.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { writeReport, dagHtml } from '../../src/lib/report/html.js';
import type { ReportData } from '../../src/lib/report/types.js';
import { buildRun } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`SKIPPED browser tests: ${CHROMIUM} is not installed (apt-get install chromium)`);

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.png': 'image/png', '.gif': 'image/gif', '.svg': 'image/svg+xml', '.json': 'application/json', '.md': 'text/markdown' };

let root: string;
let data: ReportData;
let server: Server;
let base: string;
let browser: import('playwright-core').BrowserContext | undefined;

beforeAll(async () => {
  if (!haveChromium) return;
  root = await mkdtemp(join(tmpdir(), 'pipe-browser-test-'));
  data = await buildRun(join(root, 'run'), { sweep: 48 });
  await writeReport(data, join(root, 'report'));
  await writeFile(join(root, 'report', 'dag.html'), dagHtml(data));
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const p = normalize(join(root, decodeURIComponent(url.pathname)));
    if (!p.startsWith(root + sep) || !existsSync(p)) { res.writeHead(404).end('not found'); return; }
    try {
      const body = await readFile(p);
      res.writeHead(200, { 'content-type': TYPES[extname(p)] ?? 'application/octet-stream' }).end(body);
    } catch { res.writeHead(404).end(); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { chromium } = await import('playwright-core');
  // a fresh profile directory (= --user-data-dir) per run
  browser = await chromium.launchPersistentContext(await mkdtemp(join(tmpdir(), 'pipe-chromium-profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

async function open(path: string) {
  const page = await browser!.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(r.url()));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`); });
  await page.goto(`${base}${path}`, { waitUntil: 'load' });
  return { page, errors, requests };
}

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
