/**
 * The cache key. Everything that can change a stage's result is one typed struct,
 * `FingerprintData`; its hash (sha256 of RFC 8785 canonical JSON) is the fingerprint.
 * Partial hashes (per input, per file) are kept in the struct itself, so a miss can be
 * explained field by field (`explainChange`).
 */
import { canonicalize8785, hashJson, sha256, type ContentHash, type FingerprintHash } from '../../lib/hash.js';
import type { StaleReason } from './reasons.js';

/**
 * Layout version. 2: `code` (content hashes of the kind's import closure) and the baseline
 * runtime facts (`node`, `platform`) joined the key. 3: `code` hashes are of each module's code
 * with comments and formatting removed (src/engine/cache/code.ts), so comment edits rerun nothing.
 */
export const FINGERPRINT_FORMAT = 3;

export interface FingerprintData {
  /** Version of this struct's layout: changing what goes into keys invalidates old ones. */
  format: number;
  /** The stage kind: different kinds never share results. */
  kind: string;
  /**
   * The kind's manual code version: bumping it recomputes exactly the stages of that kind
   * without a code change (e.g. after a change outside the code closure, such as a data file
   * the code reads).
   */
  version: string;
  /**
   * Content hashes of the code that computes the result: the kind's module and every module it
   * imports, transitively, inside its package or project (src/engine/cache/code.ts), plus native
   * sources it loads. Path → hash, so a miss names the file. Third-party packages are not in
   * here (see `runtime` for the library versions that matter).
   */
  code: Record<string, ContentHash>;
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
  /**
   * Runtime facts that change results: always the Node major version and platform/arch
   * (`node`, `platform`), plus what the kind declares (compute backend, library versions, fonts).
   */
  runtime: Record<string, string>;
}

/** `paramsText`: the RFC 8785 text of `data.params` when already known (see `canonicalFingerprint`). */
export function fingerprint(data: FingerprintData, paramsText?: string): FingerprintHash {
  return sha256(canonicalFingerprint(data, paramsText)) as FingerprintHash;
}

/** The struct's members in RFC 8785 order (UTF-16 code units), with their JSON names. */
const MEMBERS = (['code', 'files', 'format', 'inputs', 'kind', 'params', 'runtime', 'seed', 'version'] as const).map((k) => [k, JSON.stringify(k)] as const);
const sharedText = new WeakMap<object, string>();

/**
 * The RFC 8785 text of a fingerprint struct — byte for byte `canonicalize8785(data)` (tested),
 * but the `code` and `runtime` objects, which every stage of a kind shares (frozen), are
 * serialized once per object rather than once per stage, and the member names are not
 * re-serialized per stage. `paramsText`, when given, is the RFC 8785 text of `data.params`, made
 * once before (the graph cache keeps it with each stage, src/engine/front/graph-cache.ts). A
 * struct with members other than the documented ones goes the general way.
 */
export function canonicalFingerprint(data: FingerprintData, paramsText?: string): string {
  const d = data as unknown as Record<string, unknown>;
  if (Object.keys(d).length !== MEMBERS.length) return canonicalize8785(d);
  let out = '{';
  for (const [k, name] of MEMBERS) {
    if (!(k in d)) return canonicalize8785(d);
    const v = d[k];
    if (v === undefined || typeof v === 'symbol') continue;
    let text: string | undefined;
    if (k === 'params' && paramsText !== undefined) text = paramsText;
    else if ((k === 'code' || k === 'runtime') && v !== null && typeof v === 'object' && Object.isFrozen(v)) {
      text = sharedText.get(v);
      if (text === undefined) sharedText.set(v, (text = canonicalize8785(v)));
    } else text = simpleText(v) ?? canonicalize8785(v);
    out += (out.length > 1 ? ',' : '') + name + ':' + text;
  }
  return out + '}';
}

const wellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * The RFC 8785 text of the struct's simple members without the general serializer: a string
 * (RFC 8785 escapes strings as JSON.stringify does), a finite number (both write ECMAScript's
 * shortest form), or a plain object of strings or of string lists — `inputs`, `files` — with
 * its keys in UTF-16 code-unit order (Array.prototype.sort's). Undefined for anything else,
 * which goes the general way — so does a string with a lone surrogate, which the general
 * serializer refuses. Equality with `canonicalize8785` is tested.
 */
export function simpleText(v: unknown): string | undefined {
  if (typeof v === 'string') return wellFormed(v) ? JSON.stringify(v) : undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : undefined;
  if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return undefined;
  const o = v as Record<string, unknown>;
  let out = '{';
  for (const k of Object.keys(o).sort()) {
    const x = o[k];
    if (x === undefined) continue; // RFC 8785 writes no undefined member
    if (!wellFormed(k)) return undefined;
    if (typeof x !== 'string') {
      if (!Array.isArray(x)) return undefined;
      for (let i = 0; i < x.length; i++) if (typeof x[i] !== 'string' || !wellFormed(x[i] as string)) return undefined;
    } else if (!wellFormed(x)) return undefined;
    out += (out.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + JSON.stringify(x);
  }
  return out + '}';
}

function diffValues(prefix: string, a: unknown, b: unknown, out: StaleReason[]): void {
  const isObj = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of [...keys].sort()) {
      const av = (a as Record<string, unknown>)[k];
      const bv = (b as Record<string, unknown>)[k];
      const path = `${prefix}.${k}`;
      if (av === undefined) out.push({ code: 'params-changed', path, change: 'added', after: bv });
      else if (bv === undefined) out.push({ code: 'params-changed', path, change: 'removed', before: av });
      else diffValues(path, av, bv, out);
    }
    return;
  }
  if (hashJson(a ?? null) !== hashJson(b ?? null)) out.push({ code: 'params-changed', path: prefix, change: 'changed', before: a, after: b });
}

/**
 * Why `now` differs from `before`, as reasons. `sources` names where each input comes from
 * (e.g. {train: ['split[fold=3].train']}). `before` comes from the cache: a record of another
 * layout (`format`) is not compared field by field — it is one `fingerprint-format-changed`.
 */
export function explainChange(before: FingerprintData, now: FingerprintData, sources: Record<string, string[]> = {}): StaleReason[] {
  if (!before || typeof before !== 'object' || before.format !== now.format) {
    return [{ code: 'fingerprint-format-changed', before: typeof before?.format === 'number' ? before.format : null, after: now.format }];
  }
  const r: StaleReason[] = [];
  if (before.kind !== now.kind) r.push({ code: 'kind-changed', before: before.kind, after: now.kind });
  const codeFiles = new Set([...Object.keys(before.code ?? {}), ...Object.keys(now.code ?? {})]);
  const changed = [...codeFiles].filter((f) => before.code?.[f] !== now.code?.[f]).sort();
  if (changed.length) r.push({ code: 'code-changed', files: changed });
  if (before.version !== now.version) r.push({ code: 'version-changed', before: before.version, after: now.version });
  const pr: StaleReason[] = [];
  diffValues('params', before.params, now.params, pr);
  r.push(...pr);
  if (before.seed !== now.seed) r.push({ code: 'seed-changed', before: before.seed, after: now.seed });
  const names = new Set([...Object.keys(before.inputs), ...Object.keys(now.inputs)]);
  for (const name of [...names].sort()) {
    const a = before.inputs[name];
    const b = now.inputs[name];
    const src = sources[name] ?? [];
    if (!a) r.push({ code: 'input-changed', input: name, producers: src, change: 'added' });
    else if (!b) r.push({ code: 'input-changed', input: name, producers: [], change: 'removed' });
    else if (a.length !== b.length) r.push({ code: 'input-changed', input: name, producers: src, change: 'count', before: a.length, after: b.length });
    else {
      const idx = b.map((h, i) => (h !== a[i] ? i : -1)).filter((i) => i >= 0);
      if (idx.length) r.push({ code: 'input-changed', input: name, producers: idx.map((i) => src[i] ?? `#${i}`), change: 'content' });
    }
  }
  const files = new Set([...Object.keys(before.files), ...Object.keys(now.files)]);
  for (const f of [...files].sort()) {
    if (!(f in before.files)) r.push({ code: 'file-changed', file: f, change: 'added' });
    else if (!(f in now.files)) r.push({ code: 'file-changed', file: f, change: 'removed' });
    else if (before.files[f] !== now.files[f]) r.push({ code: 'file-changed', file: f, change: 'changed' });
  }
  const rk = new Set([...Object.keys(before.runtime), ...Object.keys(now.runtime)]);
  for (const k of [...rk].sort()) {
    if (before.runtime[k] !== now.runtime[k]) r.push({ code: 'runtime-changed', key: k, before: before.runtime[k], after: now.runtime[k] });
  }
  return r;
}
