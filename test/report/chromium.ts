/**
 * Headless Chromium (Debian's /usr/bin/chromium through playwright-core) on a loopback HTTP
 * server over one directory: for tests that open a report the way a user does.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.png': 'image/png', '.gif': 'image/gif', '.svg': 'image/svg+xml', '.json': 'application/json', '.md': 'text/markdown' };

export interface Served {
  base: string;
  browser: import('playwright-core').BrowserContext;
  /** A new page at `path`, with the console errors and every request URL it makes. */
  open(path: string): Promise<{ page: import('playwright-core').Page; errors: string[]; requests: string[] }>;
  close(): Promise<void>;
}

/** Serves `root` on 127.0.0.1 and starts Chromium with the given viewport. */
export async function serveAndBrowse(root: string, viewport = { width: 1280, height: 900 }): Promise<Served> {
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const p = normalize(join(root, decodeURIComponent(url.pathname)));
    if (!p.startsWith(root + sep) || !existsSync(p)) { res.writeHead(404).end('not found'); return; }
    try {
      res.writeHead(200, { 'content-type': TYPES[extname(p)] ?? 'application/octet-stream' }).end(await readFile(p));
    } catch { res.writeHead(404).end(); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launchPersistentContext(await mkdtemp(join(tmpdir(), 'pipe-chromium-profile-')), {
    executablePath: CHROMIUM, headless: true, viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    base, browser,
    async open(path) {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`); });
      await page.goto(`${base}${path}`, { waitUntil: 'load' });
      return { page, errors, requests };
    },
    async close() {
      await browser.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
