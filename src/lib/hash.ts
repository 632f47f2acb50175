/**
 * Hashing and canonical serialization. Every hash in pipe is sha256 over canonical bytes:
 * JSON values are serialized with RFC 8785 (JSON Canonicalization Scheme, `canonicalize`),
 * so key order and number formatting never change a fingerprint.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { canonicalize } from './vendor.js';

/** A content hash of artifact bytes (hex sha256). Branded so it is not mixed up with fingerprints. */
export type ContentHash = string & { readonly __brand: 'ContentHash' };
/** The hash of a FingerprintData (hex sha256). */
export type FingerprintHash = string & { readonly __brand: 'FingerprintHash' };

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 8785 canonical JSON (no whitespace). Undefined object members are dropped. */
export function canonicalize8785(value: unknown): string {
  const s = canonicalize(value as object);
  if (s === undefined) throw new Error('value cannot be serialized canonically');
  return s;
}

/** Human-friendly deterministic JSON: sorted keys, optional indent. */
export function canonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !(ArrayBuffer.isView(v))) {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) o[k] = (v as Record<string, unknown>)[k];
      return o;
    }
    return v;
  }, indent);
}

export function hashJson(value: unknown): string {
  return sha256(canonicalize8785(value));
}

export function hashFile(path: string): Promise<ContentHash> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    const s = createReadStream(path);
    s.on('error', reject);
    s.on('data', (c) => h.update(c));
    s.on('end', () => resolve(h.digest('hex') as ContentHash));
  });
}
