/**
 * Resume checkpoints on disk: one directory per fingerprint (the engine gives it:
 * `cache/resume/<fingerprint>/`), holding files `ckpt-<epoch padded>.bin`.
 *
 * File format: the 8 bytes `PIPECKP1`, a 32-byte SHA-256 of the payload, then the payload — the
 * state as `v8.serialize` writes it (structured clone: plain objects, arrays, typed arrays, Maps;
 * exact float64 and float32 bits, so a restored state continues bit for bit). A file is written
 * to a temp name in the same directory, fsynced and renamed into place (a kill -9 mid-write
 * leaves a temp file, never a truncated checkpoint); only the newest `keep` checkpoints stay.
 * On load the newest file whose hash matches is used; a damaged one (hash mismatch, truncated,
 * undecodable) is reported through `warn` and skipped, falling back to the previous one, or to
 * a fresh start (null).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';

const MAGIC = Buffer.from('PIPECKP1');
const MAGIC_PY = Buffer.from('PIPECKPY');
const FILE = /^ckpt-(\d{9})\.bin$/;

export interface CheckpointMeta {
  /** Epochs (or units) completed when it was taken. */
  epoch: number;
  total: number;
  /** Wall-clock ms since the epoch when it was written. */
  savedAt: number;
}

export interface Saved<T> { meta: CheckpointMeta; state: T; file: string }

export function encodeCheckpoint(meta: CheckpointMeta, state: unknown): Buffer {
  const payload = serialize({ meta, state });
  return Buffer.concat([MAGIC, createHash('sha256').update(payload).digest(), payload]);
}

/**
 * Decodes a checkpoint. Files the Python helper (python/pipe_stage) writes start with `PIPECKPY`
 * and hold a length-prefixed JSON meta before a pickle: their state comes back as the pickle's bytes.
 */
export function decodeCheckpoint<T>(buf: Buffer): { meta: CheckpointMeta; state: T } {
  const magic = buf.subarray(0, 8);
  if (buf.length < 40 || !(magic.equals(MAGIC) || magic.equals(MAGIC_PY))) throw new Error('not a pipe checkpoint (bad header)');
  const payload = buf.subarray(40);
  if (!createHash('sha256').update(payload).digest().equals(buf.subarray(8, 40))) throw new Error('content hash mismatch (damaged or truncated)');
  if (magic.equals(MAGIC_PY)) {
    const n = payload.readUInt32LE(0);
    return { meta: JSON.parse(payload.subarray(4, 4 + n).toString('utf8')) as CheckpointMeta, state: payload.subarray(4 + n) as T };
  }
  return deserialize(payload) as { meta: CheckpointMeta; state: T };
}

/** Checkpoint files of `dir`, newest (highest epoch) first. */
export function listCheckpoints(dir: string): { file: string; epoch: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => { const m = FILE.exec(f); return m ? [{ file: join(dir, f), epoch: Number(m[1]) }] : []; })
    .sort((a, b) => b.epoch - a.epoch);
}

export function saveCheckpoint(dir: string, meta: CheckpointMeta, state: unknown, keep = 2): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `ckpt-${String(meta.epoch).padStart(9, '0')}.bin`);
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, encodeCheckpoint(meta, state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  for (const old of listCheckpoints(dir).slice(Math.max(1, keep))) rmSync(old.file, { force: true });
  return file;
}

/** The newest checkpoint that decodes and passes its hash check; damaged ones are reported and skipped. */
export function loadCheckpoint<T>(dir: string, warn: (m: string) => void = () => undefined): Saved<T> | null {
  for (const { file } of listCheckpoints(dir)) {
    try {
      const { meta, state } = decodeCheckpoint<T>(readFileSync(file));
      return { meta, state, file };
    } catch (e) {
      warn(`checkpoint ${file} is damaged (${(e as Error).message}); skipping it`);
    }
  }
  return null;
}

/** Meta of the newest valid checkpoint without keeping its state (for `pipe status`). */
export function newestCheckpointMeta(dir: string): CheckpointMeta | null {
  return loadCheckpoint<unknown>(dir)?.meta ?? null;
}
