/** Shared helpers of the data-stage tests: the dataset mirror, fixtures, a loopback HTTP server. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { afterAll, beforeAll } from 'vitest';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The dataset mirror tests read: $PIPE_DATA_MIRROR or ../shared/datasets. */
export const MIRROR = process.env.PIPE_DATA_MIRROR ?? resolve(repoRoot, '../shared/datasets');
export const FIXTURES = join(repoRoot, 'test', 'fixtures', 'data');

export function tmp(prefix = 'pipe-data-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Points os.tmpdir() (so runStageDirect's output and scratch dirs) of this test file's process
 * at a fresh directory, removed after the file's tests: full-data outputs (MNIST tables are
 * 55–210 MB) do not pile up in /tmp.
 */
export function useScratchTmp(): void {
  const saved = process.env.TMPDIR;
  let dir = '';
  beforeAll(async () => {
    const root = saved ?? '/tmp';
    await mkdir(root, { recursive: true });
    dir = await mkdtemp(join(root, 'pipe-data-tests-'));
    process.env.TMPDIR = dir;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    if (dir) await rm(dir, { recursive: true, force: true });
  });
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A node:http server on 127.0.0.1 with per-path handlers and per-path request counts. */
export class Loopback {
  server!: Server;
  base = '';
  routes = new Map<string, Handler>();
  hits = new Map<string, number>();
  private sockets = new Set<Socket>();

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      const h = this.routes.get(path);
      if (!h) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found'); return; }
      h(req, res);
    });
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Serve bytes at path. */
  file(path: string, data: Uint8Array): void {
    this.routes.set(path, (_req, res) => {
      res.writeHead(200, { 'content-length': String(data.byteLength), 'content-type': 'application/octet-stream' });
      res.end(data);
    });
  }

  /** Announce the full length, send `fraction` of the bytes, then drop the connection. */
  truncated(path: string, data: Uint8Array, fraction = 0.5): void {
    this.routes.set(path, (req, res) => {
      res.writeHead(200, { 'content-length': String(data.byteLength) });
      res.write(data.subarray(0, Math.floor(data.byteLength * fraction)), () => setTimeout(() => req.socket.destroy(), 20));
    });
  }

  /** Send headers and a few bytes, then nothing (the connection stays open). */
  stalled(path: string, data: Uint8Array): void {
    this.routes.set(path, (_req, res) => {
      res.writeHead(200, { 'content-length': String(data.byteLength) });
      res.write(data.subarray(0, 100));
    });
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
