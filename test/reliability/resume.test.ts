/**
 * Resume after kill -9 (issue 28): for every training kind, `pipe run` on a tiny pipeline is
 * killed with SIGKILL — coordinator and worker, the whole process group — at a random point
 * after a new checkpoint appeared, several times in one test; then the run finishes. Its outputs
 * must equal, byte for byte, those of an uninterrupted run in another project (the timing
 * fields some outputs carry — train_seconds, rows_per_second — excepted, and named). Also: a
 * damaged checkpoint is skipped with a warning (fallback to the previous one); the checkpoints
 * are gone once the stage completes; a changed fingerprint does not resume another's state.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipe, pipeBin, project, sleep, summary } from '../engine/helpers.js';
import { listCheckpoints } from '../../src/lib/checkpoint.js';
import { blasStatus } from '../../src/lib/ml/blas/native.js';

const backend = blasStatus().available ? 'blas' : 'cpu';
// script stages run Debian's python3 (NumPy); the CLI processes inherit this
process.env.PIPE_PYTHON ??= '/usr/bin/python3';

/** Fields that measure time, not results: left out of the comparison (and only these). */
const TIMING = new Set(['train_seconds', 'rows_per_second', 'seconds', 'train_ms', 'steps_per_s']);

function newestCheckpoint(dir: string): number {
  const root = join(dir, 'cache/resume');
  if (!existsSync(root)) return -1;
  let best = -1;
  for (const fp of readdirSync(root)) for (const c of listCheckpoints(join(root, fp))) best = Math.max(best, c.epoch);
  return best;
}

/** Whether a process runs (a zombie nobody has reaped yet counts as gone). */
function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try { return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
}

/** Runs `pipe run` in its own process group; resolves with the exit code and output. */
function start(dir: string, args: string[]) {
  const child = spawn(process.execPath, [pipeBin, ...args], { cwd: dir, env: { ...process.env, CI: 'true', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => child.on('close', (code) => res({ code, stdout, stderr })));
  return { child, done };
}

/**
 * Kills the run `kills` times, each time at a random moment (0–`jitterMs`) after a checkpoint
 * newer than the last one appeared; returns the epochs the runs were killed after and the final
 * run's result.
 */
async function killRepeatedly(dir: string, file: string, kills: number, jitterMs: number) {
  const killedAfter: number[] = [];
  const resumedAt: number[] = [];
  let last = -1;
  for (let k = 0; k < kills; k++) {
    const { child, done } = start(dir, ['run', file]);
    const t0 = Date.now();
    let finished = false;
    void done.then(() => { finished = true; });
    while (!finished && newestCheckpoint(dir) <= last && Date.now() - t0 < 60_000) await sleep(5);
    if (finished) break;
    await sleep(Math.random() * jitterMs);
    process.kill(-child.pid!, 'SIGKILL');
    const r = await done;
    resumedAt.push(...[...r.stderr.matchAll(/resumed at (\d+)\//g)].map((m) => Number(m[1])));
    last = newestCheckpoint(dir);
    killedAfter.push(last);
  }
  const r = await pipe(dir, 'run', file);
  resumedAt.push(...[...r.stderr.matchAll(/resumed at (\d+)\//g)].map((m) => Number(m[1])));
  return { killedAfter, resumedAt, final: r };
}

/** One kill -9 after the first checkpoint; returns the newest checkpoint's epoch. */
async function killOnce(dir: string, file: string) {
  const { child, done } = start(dir, ['run', file]);
  while (newestCheckpoint(dir) < 1) await sleep(5);
  process.kill(-child.pid!, 'SIGKILL');
  await done;
  return { killedAfter: newestCheckpoint(dir) };
}

/** Every artifact file of `stage` in a project, as bytes (JSON with the timing fields removed). */
function outputsOf(dir: string, pipeline: string, stage: string): Record<string, string> {
  const base = join(dir, 'artifacts', pipeline, stage);
  const out: Record<string, string> = {};
  for (const f of readdirSync(base).sort()) {
    const buf = readFileSync(join(base, f));
    const text = buf.toString('utf8');
    // the Hebbian seed's CSV log starts every row with the wall-clock time of writing
    if (text.startsWith('timestamp,')) { out[f] = text.split('\n').map((l) => l.slice(l.indexOf(',') + 1)).join('\n'); continue; }
    out[f] = f.endsWith('.json') ? JSON.stringify(stripTiming(JSON.parse(buf.toString('utf8')))) : `sha256 ${createHash('sha256').update(buf).digest('hex')}`;
  }
  return out;
}

function stripTiming(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripTiming);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !TIMING.has(k)).map(([k, x]) => [k, stripTiming(x)]));
  return v;
}

/** Arrow tables with timing columns are compared column by column, without those columns. */
async function tableColumns(path: string): Promise<Record<string, number[] | string[]>> {
  const { readTable } = await import('../../src/sdk/table.js');
  const t = await readTable(path);
  const out: Record<string, number[] | string[]> = {};
  for (const f of t.schema.fields) if (!TIMING.has(f.name)) out[f.name] = [...t.getChild(f.name)!.toArray()].map((x) => (typeof x === 'number' ? x : String(x))) as never;
  return out;
}

async function compare(a: string, b: string, pipeline: string, stage: string, tablesWithTiming: string[] = []) {
  const A = outputsOf(a, pipeline, stage), B = outputsOf(b, pipeline, stage);
  expect(Object.keys(A)).toEqual(Object.keys(B));
  for (const f of Object.keys(A)) {
    if (tablesWithTiming.includes(f)) {
      const ta = await tableColumns(join(a, 'artifacts', pipeline, stage, f)), tb = await tableColumns(join(b, 'artifacts', pipeline, stage, f));
      expect(ta, f).toEqual(tb);
    } else expect(A[f], f).toBe(B[f]);
  }
}

const data = `  data:
    kind: generate-synthetic
    params: {generator: synthetic_2d, per_cluster: 2000}
  split:
    kind: split
    inputs: {table: data.table}
    params: {method: holdout, test_fraction: 0.2, val_fraction: 0, shuffle: false}
`;

const infomax = (epochs: number) => `name: rs
stages:
${data}  im:
    kind: train-infomax
    seed: 3
    checkpoint: {every_epochs: 1}
    inputs: {train: split.train, test: split.test}
    params:
      model: {activation: tanh, hidden: 32}
      training: {epochs: ${epochs}, batch_size: 32}
      metrics_every: 5
      backend: ${backend}
`;

const study = `  data:
    kind: generate-synthetic
    seed: 1
    params: {generator: study_success, n: 1200}
  split:
    kind: split
    inputs: {table: data.table}
    params: {method: permutation, val_fraction: 0.15, test_fraction: 0.15}
  prep:
    kind: standardize
    inputs: {train: split.train, val: split.val, test: split.test}
`;

/** One tiny pipeline per training kind: the stage under test is \`t\`. */
const KINDS: { name: string; yaml: string; tables?: string[] }[] = [
  {
    name: 'train (ActMix, native steps)', tables: [],
    yaml: `name: rs
stages:
${study}  t:
    kind: train
    seed: 2
    checkpoint: {every_epochs: 1}
    inputs: {train: prep.train, val: prep.val, test: prep.test}
    params:
      model: {hidden: [32, 32], activation: actmix, dropout: 0.1}
      training: {max_epochs: 30, batch_size: 32, patience: 8}
      backend: ${backend}
`,
  },
  {
    name: 'train-hebbian (Hebbian, meta-tuner, best restore)',
    yaml: `name: rs
stages:
${study}  t:
    kind: train-hebbian
    seed: 2
    checkpoint: {every_epochs: 1}
    inputs: {train: prep.train, val: prep.val, test: prep.test}
    params: {hidden: [16, 8], epochs: 30, batch_size: 32, lr: 0.05, use_hebbian: true, hebbian_alpha: 0.02, use_meta: true, meta_steps: 5, stop_on_divergence: false, restore_best: true}
`,
  },
  {
    name: 'train-group (online, QuadraticRNN, Adam)',
    yaml: `name: rs
seed: 5
stages:
  task:
    kind: generate-group
    params: {p: 12, k: 3, template: fourier, n_freqs: 2}
  t:
    kind: train-group
    checkpoint: {every_epochs: 1}
    inputs: {task: task.task, sequences: task.sequences}
    params: {model: quadratic_rnn, hidden_dim: 24, optimizer: adam, lr: 0.003, num_steps: 1500, batch_size: 200, log_every: 10, save_param_interval: 50}
`,
  },
  {
    name: 'fit-neuron (GD, LR halving, best of the pre-update states)',
    yaml: `name: rs
seed: 42
stages:
  data:
    kind: generate-synthetic
    params: {generator: playground, polynomial: cubic_s}
  t:
    kind: fit-neuron
    checkpoint: {every_epochs: 100}
    inputs: {data: data.table}
    params:
      model: {type: neuron, activation: tanh}
      training: {optimizer: gd, lr: 0.002, epochs: 6000, halving_every: 250, snapshot_every: 500}
      init: {stream: independent, rng: numpy}
      optimum: {enabled: false}
`,
  },
  {
    name: 'python script stage (pipe_stage checkpoint: NumPy SGD, shuffles from a PCG64 stream)',
    yaml: `name: rs
seed: 7
stages:
  t:
    kind: python
    checkpoint: {every_epochs: 1}
    params:
      script: sgd.py
      outs: {model: json}
      params: {epochs: 30, rows: 12000}
`,
  },
];

/** A linear model by minibatch SGD in NumPy, resumable through pipe_stage.checkpoint. */
const SGD_PY = `
import json
import numpy as np
from pipe_stage import params, seed, output, curve, progress, metric, checkpoint

E, N, d = params['epochs'], params['rows'], 6
data = np.random.default_rng(1234)
X = data.standard_normal((N, d)); y = X @ np.arange(1, d + 1) + 0.1 * data.standard_normal(N)
rng = np.random.default_rng(seed)
w = np.zeros(d); v = np.zeros(d)
state = checkpoint.load()
start = 0
if state is not None:
    start, w, v = state['epoch'], state['w'], state['v']
    rng.bit_generator.state = state['rng']
for epoch in range(start + 1, E + 1):
    perm = rng.permutation(N)
    for b in range(0, N, 32):
        i = perm[b:b + 32]
        g = X[i].T @ (X[i] @ w - y[i]) / len(i)
        v = 0.9 * v + g
        w = w - 0.01 * v
    loss = float(np.mean((X @ w - y) ** 2))
    curve(epoch=epoch, loss=loss)
    progress(epoch, E, unit='epoch')
    if checkpoint.due(epoch):
        checkpoint.save({'epoch': epoch, 'w': w, 'v': v, 'rng': rng.bit_generator.state}, epoch, E)
metric('final_loss', loss)
with open(output('model'), 'w') as f:
    json.dump({'w': [repr(float(x)) for x in w]}, f)
`;

describe('resume after kill -9', () => {
  it('train-infomax: killed 3 times at random steps, the outputs equal an uninterrupted run byte for byte', async () => {
    const ref = project({ 'p.yaml': infomax(40) });
    const r0 = await pipe(ref, 'run', 'p.yaml');
    expect(r0.code, r0.stderr).toBe(0);
    expect(existsSync(join(ref, 'cache/resume')) ? readdirSync(join(ref, 'cache/resume')) : []).toEqual([]);

    const dir = project({ 'p.yaml': infomax(40) });
    const { killedAfter, resumedAt, final } = await killRepeatedly(dir, 'p.yaml', 3, 20);
    expect(final.code, final.stderr).toBe(0);
    expect(killedAfter.length).toBeGreaterThanOrEqual(2);
    // every restart after a kill resumed at the newest checkpoint the killed run had written
    expect(resumedAt).toEqual(killedAfter);
    await compare(ref, dir, 'rs', 'im', ['final.arrow']);
    // the stage completed: its checkpoints are gone
    expect(readdirSync(join(dir, 'cache/resume'))).toEqual([]);
  }, 120_000);

  it('status says resumable from epoch N/M; a changed configuration starts afresh; gc removes the orphaned checkpoints', async () => {
    const dir = project({ 'p.yaml': infomax(40) });
    const { killedAfter } = await killOnce(dir, 'p.yaml');
    const st = await pipe(dir, 'status', 'p.yaml');
    expect(st.stdout).toMatch(new RegExp(`^im +never-run +never run · resumable from epoch ${killedAfter}/40$`, 'm'));
    const js = JSON.parse((await pipe(dir, 'status', 'p.yaml', '--json')).stdout) as { id: string; resumable?: unknown }[];
    expect(js.find((s) => s.id === 'im')!.resumable).toEqual({ epoch: killedAfter, total: 40 });
    // another configuration (41 epochs) has another fingerprint: it does not resume the 40-epoch state
    writeFileSync(join(dir, 'p.yaml'), infomax(41));
    const r = await pipe(dir, 'run', 'p.yaml');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/resumed/);
    expect(readdirSync(join(dir, 'cache/resume'))).toHaveLength(1);   // the 40-epoch run's, now an orphan
    const gc = await pipe(dir, 'gc');
    expect(gc.stdout).toMatch(/deleted 1 orphaned resume checkpoint directory under cache\/resume\//);
    expect(readdirSync(join(dir, 'cache/resume'))).toEqual([]);
  }, 120_000);

  for (const k of KINDS) {
    it(`${k.name}: killed at random steps, the outputs equal an uninterrupted run byte for byte`, async () => {
      const ref = project({ 'p.yaml': k.yaml, 'sgd.py': SGD_PY });
      const r0 = await pipe(ref, 'run', 'p.yaml');
      expect(r0.code, r0.stderr).toBe(0);
      const dir = project({ 'p.yaml': k.yaml, 'sgd.py': SGD_PY });
      const { killedAfter, resumedAt, final } = await killRepeatedly(dir, 'p.yaml', 2, 10);
      expect(final.code, final.stderr).toBe(0);
      expect(killedAfter.length).toBeGreaterThanOrEqual(2);
      expect(resumedAt).toEqual(killedAfter);
      await compare(ref, dir, 'rs', 't', k.tables ?? []);
      expect(readdirSync(join(dir, 'cache/resume'))).toEqual([]);
    }, 120_000);
  }

  it('a script stage dies with the run: after kill -9 of pipe no orphaned script runs on (and writes checkpoints)', async () => {
    const dir = project({
      'p.yaml': `name: orphan
stages:
  t:
    kind: python
    params: {script: wait.py, outs: {done: json}}
`,
      // never writes to the protocol after it starts: a broken pipe cannot stop it, only its parent's death
      'wait.py': `import os, time
open('script.pid', 'w').write(str(os.getpid()))
time.sleep(600)
`,
    });
    const { child, done } = start(dir, ['run', 'p.yaml']);
    const pidFile = join(dir, 'script.pid');
    const t0 = Date.now();
    while (!existsSync(pidFile) && Date.now() - t0 < 60_000) await sleep(20);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(true);
    process.kill(-child.pid!, 'SIGKILL');
    await done;
    try {
      // the kernel kills it when its parent (the worker) dies; allow a moment for the signal to land
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
      expect(alive(pid)).toBe(false);
    } finally {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }, 120_000);
});
