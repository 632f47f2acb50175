/**
 * Decoded inputs kept for the life of one worker process. The coordinator reuses its workers, so
 * a sweep of 180 training stages over one MNIST table decodes it once per worker instead of once
 * per stage. Entries are keyed by the input's content hash (and what was decoded from it), so a
 * changed artifact is a different key and never a stale hit; least recently used entries go
 * first once the budget is exceeded (`PIPE_DECODE_CACHE_MB`, default 1024; 0 turns it off).
 *
 * What is returned is shared: callers must treat it as read-only (copy before scaling in place).
 */

type Entry = { value: unknown; bytes: number };
const entries = new Map<string, Entry>();
let used = 0;
export const decodeStats = { hits: 0, misses: 0 };

function budget(): number {
  const mb = Number(process.env.PIPE_DECODE_CACHE_MB ?? 1024);
  return Number.isFinite(mb) && mb > 0 ? mb * 2 ** 20 : 0;
}

/**
 * `make()`'s value for `key`, decoded at most once per process while it stays in the budget.
 * An empty `hash` (an input without a content hash, e.g. a direct library run) is never cached.
 */
export async function decodedOnce<T>(hash: string, what: string, bytesOf: (v: T) => number, make: () => Promise<T>): Promise<T> {
  const cap = budget();
  if (!hash || cap === 0) return make();
  const key = `${hash}\u0000${what}`;
  const hit = entries.get(key);
  if (hit) {
    decodeStats.hits++;
    entries.delete(key); // re-insert: Map order is the recency order
    entries.set(key, hit);
    return hit.value as T;
  }
  decodeStats.misses++;
  const value = await make();
  const bytes = bytesOf(value);
  if (bytes > cap) return value;
  for (const [k, e] of entries) {
    if (used + bytes <= cap) break;
    entries.delete(k);
    used -= e.bytes;
  }
  entries.set(key, { value, bytes });
  used += bytes;
  return value;
}

/** Forgets every entry (tests). */
export function clearDecoded(): void {
  entries.clear();
  used = 0;
  decodeStats.hits = 0;
  decodeStats.misses = 0;
}
