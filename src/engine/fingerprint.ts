/**
 * The cache key. Everything that can change a stage's result is one typed struct,
 * `FingerprintData`; its hash (sha256 of RFC 8785 canonical JSON) is the fingerprint.
 * Partial hashes (per input, per file) are kept in the struct itself, so a miss can be
 * explained field by field (`explainChange`).
 */
import { hashJson, type ContentHash, type FingerprintHash } from './hash.js';

export const FINGERPRINT_FORMAT = 1;

export interface FingerprintData {
  /** Version of this struct's layout: changing what goes into keys invalidates old ones. */
  format: number;
  /** The stage kind: different kinds never share results. */
  kind: string;
  /** The kind's code version: bumping it recomputes exactly the stages of that kind. */
  version: string;
  /**
   * Params after `--set` overrides, interpolation and schema defaults — so writing a default
   * explicitly, or reordering keys, is not a change (canonical JSON), but any knob is. Params a
   * kind declares in `nonResultParams` (mirrors, timeouts) are left out.
   */
  params: unknown;
  /** The RNG seed the stage receives (results of seeded stages depend on it). */
  seed: number;
  /**
   * Content hashes of the input artifacts, by input name; gathers keep their order. Content,
   * not the producer's name or fingerprint: a producer that reran and wrote identical bytes
   * does not invalidate its consumers (early cutoff).
   */
  inputs: Record<string, ContentHash[]>;
  /** Content hashes of project files the stage declares it reads (e.g. a command's script). */
  files: Record<string, ContentHash>;
  /** Runtime facts that change results: compute backend, library versions. */
  runtime: Record<string, string>;
}

export function fingerprint(data: FingerprintData): FingerprintHash {
  return hashJson(data) as FingerprintHash;
}

function show(v: unknown): string {
  if (v === undefined) return '(unset)';
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '…' : s;
}

/** Paths where two JSON values differ, as readable phrases (`params.lr changed 0.001 → 0.01`). */
export function diffValues(prefix: string, a: unknown, b: unknown, out: string[] = []): string[] {
  const isObj = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of [...keys].sort()) {
      const av = (a as Record<string, unknown>)[k];
      const bv = (b as Record<string, unknown>)[k];
      if (av === undefined) out.push(`${prefix}.${k} added (${show(bv)})`);
      else if (bv === undefined) out.push(`${prefix}.${k} removed (was ${show(av)})`);
      else diffValues(`${prefix}.${k}`, av, bv, out);
    }
    return out;
  }
  if (hashJson(a ?? null) !== hashJson(b ?? null)) out.push(`${prefix} changed ${show(a)} → ${show(b)}`);
  return out;
}

/**
 * Why `now` differs from `before`, in words. `sources` names where each input comes from
 * (e.g. {train: ['split[fold=3].train']}) for the messages.
 */
export function explainChange(before: FingerprintData, now: FingerprintData, sources: Record<string, string[]> = {}): string[] {
  const r: string[] = [];
  if (before.kind !== now.kind) r.push(`kind changed ${before.kind} → ${now.kind}`);
  if (before.version !== now.version) r.push(`code version changed ${before.version} → ${now.version}`);
  diffValues('params', before.params, now.params, r);
  if (before.seed !== now.seed) r.push(`seed changed ${before.seed} → ${now.seed}`);
  const names = new Set([...Object.keys(before.inputs), ...Object.keys(now.inputs)]);
  for (const name of [...names].sort()) {
    const a = before.inputs[name];
    const b = now.inputs[name];
    const src = sources[name] ?? [];
    if (!a) r.push(`input ${name} added`);
    else if (!b) r.push(`input ${name} removed`);
    else if (a.length !== b.length) r.push(`input ${name} now gathers ${b.length} artifacts (was ${a.length})`);
    else {
      const changed = b.map((h, i) => (h !== a[i] ? i : -1)).filter((i) => i >= 0);
      if (changed.length === 1 && b.length === 1) r.push(`input ${src[0] ?? name} changed`);
      else if (changed.length) r.push(`input ${name} changed: ${changed.slice(0, 3).map((i) => src[i] ?? `#${i}`).join(', ')}${changed.length > 3 ? ` and ${changed.length - 3} more` : ''}`);
    }
  }
  const files = new Set([...Object.keys(before.files), ...Object.keys(now.files)]);
  for (const f of [...files].sort()) {
    if (!(f in before.files)) r.push(`file ${f} added as a dependency`);
    else if (!(f in now.files)) r.push(`file ${f} no longer a dependency`);
    else if (before.files[f] !== now.files[f]) r.push(`file ${f} changed`);
  }
  diffValues('runtime', before.runtime, now.runtime, r);
  if (!r.length && before.format !== now.format) r.push(`fingerprint format changed ${before.format} → ${now.format}`);
  return r;
}
