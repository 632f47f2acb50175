/**
 * Resume checkpoints in one process (issue 28): the TF.js steps (`train` and `train-infomax` on
 * the TF.js cpu backend) stopped by the abort signal at an epoch (what Ctrl-C does) resume to
 * byte-identical outputs; a damaged newest checkpoint is skipped with a warning and the run
 * resumes from the previous one; every checkpoint damaged: a fresh start, same outputs; the file
 * format rejects a flipped byte and a truncation.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStageDirect, type DirectRunOptions } from '../../src/engine/exec/context.js';
import type { StageKind } from '../../src/sdk/stage.js';
import gen from '../../src/stages/generate-synthetic.js';
import split from '../../src/stages/split.js';
import standardize from '../../src/stages/standardize.js';
import train from '../../src/stages/train.js';
import trainInfomax from '../../src/stages/train-infomax.js';
import { decodeCheckpoint, encodeCheckpoint, listCheckpoints, loadCheckpoint, saveCheckpoint } from '../../src/lib/checkpoint.js';

const TIMING = new Set(['train_seconds', 'rows_per_second']);
const strip = (v: unknown): unknown => Array.isArray(v) ? v.map(strip)
  : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => !TIMING.has(k)).map(([k, x]) => [k, strip(x)])) : v;

/** Output name → sha256 (JSON without timing fields; tables with timing columns by their other columns). */
async function digest(outputs: Record<string, string>): Promise<Record<string, string>> {
  const { readTable } = await import('../../src/sdk/table.js');
  const d: Record<string, string> = {};
  for (const [name, path] of Object.entries(outputs)) {
    let bytes: string | Buffer = readFileSync(path);
    if (path.endsWith('.json')) bytes = JSON.stringify(strip(JSON.parse(bytes.toString('utf8'))));
    else if (name === 'final') {
      const t = await readTable(path);
      bytes = JSON.stringify(t.schema.fields.filter((f) => !TIMING.has(f.name)).map((f) => [f.name, [...t.getChild(f.name)!.toArray()].map(String)]));
    }
    d[name] = createHash('sha256').update(bytes).digest('hex');
  }
  return d;
}

/** Runs `kind`, aborting it once `stopAt` epochs are done (as Ctrl-C does); returns the logs. */
async function runUntil(kind: StageKind, o: DirectRunOptions, stopAt: number): Promise<void> {
  const ac = new AbortController();
  await expect(runStageDirect(kind, { ...o, signal: ac.signal, onProgress: (p) => { if ((p.done ?? 0) >= stopAt) ac.abort(new Error('stopped')); } })).rejects.toThrow();
}

let study: Record<string, string>;
beforeAll(async () => {
  const g = await runStageDirect(gen, { params: { generator: 'study_success', n: 600 }, seed: 1 });
  const s = await runStageDirect(split, { params: { method: 'permutation', val_fraction: 0.15, test_fraction: 0.15 }, inputs: { table: g.outputs.table! }, seed: 42 });
  const p = await runStageDirect(standardize, { params: { eps: 1e-8 }, inputs: { train: s.outputs.train!, val: s.outputs.val!, test: s.outputs.test! } });
  study = { train: p.outputs.train!, val: p.outputs.val!, test: p.outputs.test! };
}, 60_000);

const resumeIn = () => ({ dir: mkdtempSync(join(tmpdir(), 'pipe-resume-')), everyEpochs: 1, everySeconds: 0 });

describe('resume on the TF.js steps (stopped by the abort signal)', () => {
  it('train (ActMix MLP, TF.js cpu, dropout, patience): stopped twice, resumed, byte-identical outputs', async () => {
    const o: DirectRunOptions = {
      params: { model: { hidden: [16], activation: 'actmix', dropout: 0.1 }, training: { max_epochs: 12, batch_size: 64, patience: 4 }, backend: 'cpu' },
      inputs: study, seed: 3,
    };
    const ref = await digest((await runStageDirect(train, o)).outputs);
    const resume = resumeIn();
    await runUntil(train, { ...o, resume }, 4);
    await runUntil(train, { ...o, resume }, 8);
    const r = await runStageDirect(train, { ...o, resume });
    expect(r.progress.filter((p) => p.resumedAt !== undefined).map((p) => p.resumedAt)).toEqual([8]);
    expect(await digest(r.outputs)).toEqual(ref);
  }, 120_000);

  it('train-infomax (TF.js cpu): stopped, resumed, byte-identical outputs', async () => {
    const o: DirectRunOptions = {
      params: { model: { activation: 'tanh', hidden: 8 }, training: { epochs: 8, batch_size: 64 }, metrics_every: 2, backend: 'cpu' },
      inputs: { train: study.train!, test: study.test! }, seed: 3,
    };
    const ref = await digest((await runStageDirect(trainInfomax, o)).outputs);
    const resume = resumeIn();
    await runUntil(trainInfomax, { ...o, resume }, 5);
    const r = await runStageDirect(trainInfomax, { ...o, resume });
    expect(r.progress.find((p) => p.resumedAt !== undefined)?.resumedAt).toBe(5);
    expect(await digest(r.outputs)).toEqual(ref);
  }, 120_000);
});

describe('damaged checkpoints', () => {
  const o: DirectRunOptions = {
    params: { model: { activation: 'relu', hidden: 8 }, training: { epochs: 10, batch_size: 32 }, metrics_every: 2 },
    seed: 4,
  };
  const opts = () => ({ ...o, inputs: { train: study.train!, test: study.test! } });

  it('a damaged newest checkpoint is skipped with a warning: resumes from the previous one, same outputs', async () => {
    const ref = await digest((await runStageDirect(trainInfomax, opts())).outputs);
    const resume = resumeIn();
    await runUntil(trainInfomax, { ...opts(), resume }, 6);
    const files = listCheckpoints(resume.dir);
    expect(files.map((f) => f.epoch)).toEqual([6, 5]); // the newest two are kept
    const buf = readFileSync(files[0]!.file);
    buf[buf.length - 10] ^= 0xff;
    writeFileSync(files[0]!.file, buf);
    const r = await runStageDirect(trainInfomax, { ...opts(), resume });
    expect(r.logs.some((l) => /^warn: checkpoint .*ckpt-000000006\.bin is damaged \(content hash mismatch/.test(l))).toBe(true);
    expect(r.progress.find((p) => p.resumedAt !== undefined)?.resumedAt).toBe(5);
    expect(await digest(r.outputs)).toEqual(ref);
  }, 60_000);

  it('every checkpoint damaged (one truncated, one not a checkpoint): a fresh start, same outputs', async () => {
    const ref = await digest((await runStageDirect(trainInfomax, opts())).outputs);
    const resume = resumeIn();
    await runUntil(trainInfomax, { ...opts(), resume }, 4);
    const [a, b] = listCheckpoints(resume.dir);
    writeFileSync(a!.file, readFileSync(a!.file).subarray(0, 100));
    writeFileSync(b!.file, 'garbage');
    const r = await runStageDirect(trainInfomax, { ...opts(), resume });
    expect(r.logs.filter((l) => /is damaged/.test(l))).toHaveLength(2);
    expect(r.progress.some((p) => p.resumedAt !== undefined)).toBe(false);
    expect(await digest(r.outputs)).toEqual(ref);
  }, 60_000);

  it('the file format: typed arrays and float bits round-trip; a flipped byte and a truncation are rejected', () => {
    const state = { w: Float32Array.of(0.1, -0, NaN, 3e-45), d: Float64Array.of(Math.PI, -Infinity), nested: { a: [1, 'x', null] } };
    const meta = { epoch: 3, total: 9, savedAt: 1 };
    const back = decodeCheckpoint<typeof state>(encodeCheckpoint(meta, state));
    expect(back.meta).toEqual(meta);
    const bytes = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(bytes(back.state.w)).toEqual(bytes(state.w));
    expect(bytes(back.state.d)).toEqual(bytes(state.d));
    expect(back.state.nested).toEqual(state.nested);
    const enc = encodeCheckpoint(meta, state);
    const flipped = Buffer.from(enc); flipped[60] ^= 1;
    expect(() => decodeCheckpoint(flipped)).toThrow(/hash mismatch/);
    expect(() => decodeCheckpoint(enc.subarray(0, enc.length - 1))).toThrow(/hash mismatch/);
    expect(() => decodeCheckpoint(Buffer.from('nope'))).toThrow(/bad header/);
    // keeps the newest two; a leftover temp file of a killed write is not a checkpoint
    const dir = mkdtempSync(join(tmpdir(), 'pipe-ckpt-'));
    for (const e of [1, 2, 3]) saveCheckpoint(dir, { ...meta, epoch: e }, { e });
    writeFileSync(join(dir, 'ckpt-000000004.bin.tmp-1'), 'partial');
    expect(listCheckpoints(dir).map((c) => c.epoch)).toEqual([3, 2]);
    expect(loadCheckpoint<{ e: number }>(dir)!.state.e).toBe(3);
  });
});
