/**
 * Robust file fetching for data stages: HTTP(S) downloads and copies out of a local mirror
 * directory, with
 *  - an idle timeout (no byte for `timeoutMs` → abort; covers connect, headers and a stalled body),
 *  - retries with exponential backoff for transient failures (network errors, timeouts, 5xx,
 *    429, truncated bodies, checksum mismatches); 4xx other than 408/429 fail at once,
 *  - atomic writes: bytes go to a temp file next to the destination, which is verified
 *    (length, sha256, an optional structural check) and only then renamed into place, so a
 *    half-written or unverified file is never visible under its final name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface FetchOptions {
  /** Idle timeout in ms: the attempt fails if no progress is made for this long. */
  timeoutMs?: number;
  /** Extra attempts after the first one for transient failures. */
  retries?: number;
  /** Base delay before a retry; doubles per attempt (capped at 30 s). */
  backoffMs?: number;
  /** Expected sha256 (hex) of the bytes written to the destination. */
  sha256?: string;
  /** Extra check of the complete temp file before it is renamed into place (throw to reject). */
  validate?: (tmpPath: string) => Promise<void>;
  signal?: AbortSignal;
  onProgress?: (bytes: number, total: number | undefined) => void;
  log?: (message: string) => void;
}

export interface FetchResult {
  path: string;
  bytes: number;
  sha256: string;
  /** Where the bytes came from (URL or mirror path). */
  source: string;
  attempts: number;
}

/** A failed fetch; `retryable` says whether another attempt might succeed. */
export class DownloadError extends Error {
  constructor(message: string, readonly source: string, readonly retryable: boolean, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DownloadError';
  }
}

function causeText(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 4; depth++) {
    const err = cur as { message?: string; code?: string; cause?: unknown };
    const text = [err.code, err.message].filter(Boolean).join(' ');
    if (text && !parts.includes(text)) parts.push(text);
    cur = err.cause;
  }
  return parts.join(': ') || String(e);
}

export function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(new Error('aborted')); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function tempPathFor(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.part-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Wraps a byte-progress callback so it fires at most once per `step` bytes (and at the end). */
export function progressEvery(step: number, fn: (bytes: number, total: number | undefined) => void): (bytes: number, total: number | undefined) => void {
  let next = 0;
  return (bytes, total) => {
    if (bytes < next - step) next = 0; // a new attempt started over
    if (bytes >= next || (total !== undefined && bytes >= total)) {
      next = bytes + step;
      fn(bytes, total);
    }
  };
}

/** sha256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function sha256Bytes(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** One attempt: stream `url` into `tmp`, returning byte count and sha256. */
async function httpAttempt(url: string, tmp: string, opts: FetchOptions): Promise<{ bytes: number; sha256: string }> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const ac = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => { timedOut = true; ac.abort(); }, timeoutMs);
  };
  const onOuterAbort = () => ac.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  arm();
  const fh = await open(tmp, 'w');
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: ac.signal, redirect: 'follow', headers: { 'user-agent': 'pipe-ml data stage (node fetch)' } });
    } catch (e) {
      if (opts.signal?.aborted) throw new Error('aborted');
      if (timedOut) throw new DownloadError(`${url}: no response within ${timeoutMs} ms (timeout)`, url, true);
      throw new DownloadError(`${url}: request failed (${causeText(e)})`, url, true, undefined, { cause: e });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      throw new DownloadError(`${url}: HTTP ${res.status} ${res.statusText}${res.status === 404 ? ' (not found)' : ''}`, url, retryable, res.status);
    }
    const lenHeader = res.headers.get('content-length');
    const total = lenHeader !== null && res.headers.get('content-encoding') === null ? Number(lenHeader) : undefined;
    const hash = createHash('sha256');
    let bytes = 0;
    if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          arm();
          const { done, value } = await reader.read();
          if (done) break;
          hash.update(value);
          await fh.write(value);
          bytes += value.byteLength;
          opts.onProgress?.(bytes, total);
        }
      } catch (e) {
        if (opts.signal?.aborted) throw new Error('aborted');
        if (timedOut) throw new DownloadError(`${url}: download stalled: no data for ${timeoutMs} ms after ${bytes} bytes${total !== undefined ? ` of ${total}` : ''} (timeout)`, url, true);
        throw new DownloadError(`${url}: connection lost after ${bytes} bytes${total !== undefined ? ` of ${total}` : ''} (truncated body: ${causeText(e)})`, url, true, undefined, { cause: e });
      }
    }
    if (total !== undefined && Number.isFinite(total) && bytes !== total) {
      throw new DownloadError(`${url}: truncated body: got ${bytes} of ${total} bytes`, url, true);
    }
    await fh.sync();
    return { bytes, sha256: hash.digest('hex') };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
    await fh.close();
  }
}

/** One attempt: copy a local file into `tmp`, hashing it. */
async function copyAttempt(src: string, tmp: string, opts: FetchOptions): Promise<{ bytes: number; sha256: string }> {
  let total: number;
  try {
    total = (await stat(src)).size;
  } catch {
    throw new DownloadError(`${src}: no such file in the mirror directory`, src, false);
  }
  const hash = createHash('sha256');
  const fh = await open(tmp, 'w');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(src)) {
      if (opts.signal?.aborted) throw new Error('aborted');
      const b = chunk as Buffer;
      hash.update(b);
      await fh.write(b);
      bytes += b.byteLength;
      opts.onProgress?.(bytes, total);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * Fetches `source` (an http(s) URL or a local file path) to `dest` atomically, verifying the
 * sha256 and the optional structural check before the file appears under `dest`.
 */
export async function fetchFile(source: string, dest: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const retries = opts.retries ?? 3;
  const backoff = opts.backoffMs ?? 1000;
  await mkdir(dirname(dest), { recursive: true });
  let lastError: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (opts.signal?.aborted) throw new Error('aborted');
    const tmp = tempPathFor(dest);
    try {
      const { bytes, sha256 } = isUrl(source) ? await httpAttempt(source, tmp, opts) : await copyAttempt(source, tmp, opts);
      if (opts.sha256 && sha256 !== opts.sha256.toLowerCase()) {
        throw new DownloadError(`${source}: sha256 mismatch for ${basename(dest)}: expected ${opts.sha256}, got ${sha256} (${bytes} bytes) — the file is corrupt or not the original`, source, isUrl(source));
      }
      if (opts.validate) {
        try {
          await opts.validate(tmp);
        } catch (e) {
          if (e instanceof DownloadError) throw e;
          throw new DownloadError(`${source}: ${(e as Error).message}`, source, false, undefined, { cause: e });
        }
      }
      await rename(tmp, dest);
      return { path: dest, bytes, sha256, source, attempts: attempt + 1 };
    } catch (e) {
      await rm(tmp, { force: true });
      if (opts.signal?.aborted || (e as Error).message === 'aborted') throw new Error('aborted');
      lastError = e;
      const retryable = e instanceof DownloadError ? e.retryable : false;
      if (!retryable || attempt === retries) break;
      const delay = Math.min(30_000, backoff * 2 ** attempt);
      opts.log?.(`${(e as Error).message}; retrying in ${delay} ms (attempt ${attempt + 2} of ${retries + 1})`);
      await sleep(delay, opts.signal);
    }
  }
  const e = lastError as Error;
  if (e instanceof DownloadError && e.retryable && retries > 0) {
    throw new DownloadError(`${e.message} (gave up after ${retries + 1} attempts)`, e.source, false, e.status, { cause: e });
  }
  throw e;
}
