/**
 * GPUs without a GPU: `pipe run --gpus 2` hands devices 0 and 1 to stages asking for
 * `resources: {gpus: N}` as CUDA_VISIBLE_DEVICES, never one device to two stages at once, while
 * CPU stages run beside them; a stage asking for more GPUs than the run has fails naming them;
 * the Slurm executor asks for --gres=gpu:N. Each GPU stage records its device and the wall-clock
 * interval it held it.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeWithEnv, project, summary } from '../engine/helpers.js';
import { sbatchArgs } from '../../src/engine/front/resources.js';
import { detectGpus, GpuPool, gpuCount } from '../../src/engine/exec/gpus.js';

const STAGE_PY = `
import json, os, time
from pipe_stage import output, manifest
t0 = time.time()
time.sleep(0.6)
json.dump({'cvd': os.environ.get('CUDA_VISIBLE_DEVICES'), 'manifest': manifest.get('gpus'), 't0': t0, 't1': time.time()}, open(output('out'), 'w'))
`;

const PIPELINE = `
name: gpu
stages:
  gpu1:
    kind: python
    matrix: {i: {range: 4}}
    resources: {gpus: 1}
    params: {script: s.py, outs: {out: json}, params: {i: '\${matrix.i}'}}
  gpu2:
    kind: python
    resources: {gpus: 2}
    params: {script: s.py, outs: {out: json}}
  cpu:
    kind: python
    matrix: {i: {range: 2}}
    params: {script: s.py, outs: {out: json}, params: {i: '\${matrix.i}'}}
`;

describe('--gpus 2', () => {
  it('hands out devices 0 and 1, never one to two stages at once; CPU stages run beside them', async () => {
    const dir = project({ 'p.yaml': PIPELINE, 's.py': STAGE_PY });
    const r = await pipeWithEnv(dir, { PIPE_PYTHON: '/usr/bin/python3', CUDA_VISIBLE_DEVICES: undefined }, 'run', 'p.yaml', '--gpus', '2', '--jobs', '4');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(summary(r).ran).toBe(7);
    const read = (id: string) => JSON.parse(readFileSync(join(dir, 'artifacts/gpu', id, 'out.json'), 'utf8')) as { cvd: string; manifest: string[] | null; t0: number; t1: number };
    const g1 = [0, 1, 2, 3].map((i) => read(`gpu1[i=${i}]`));
    for (const x of g1) {
      expect(['0', '1']).toContain(x.cvd);
      expect(x.manifest).toEqual([x.cvd]);
    }
    const g2 = read('gpu2');
    expect(g2.cvd).toBe('0,1');
    const cpu = [0, 1].map((i) => read(`cpu[i=${i}]`));
    for (const c of cpu) { expect(c.cvd).toBe(''); expect(c.manifest).toEqual([]); }
    // holdings of one device never overlap
    const holds: { dev: string; t0: number; t1: number }[] = [];
    for (const x of [...g1, g2]) for (const dev of x.cvd.split(',')) holds.push({ dev, t0: x.t0, t1: x.t1 });
    for (const a of holds) for (const b of holds) {
      if (a === b || a.dev !== b.dev) continue;
      expect(a.t1 <= b.t0 || b.t1 <= a.t0, `device ${a.dev} held twice at once`).toBe(true);
    }
    // both devices were used at the same time by the one-GPU stages (two in parallel)
    expect(g1.some((a) => g1.some((b) => a !== b && a.cvd !== b.cvd && a.t0 < b.t1 && b.t0 < a.t1))).toBe(true);
    // a CPU stage ran while some GPU stage held a device
    expect(cpu.some((c) => [...g1, g2].some((g) => c.t0 < g.t1 && g.t0 < c.t1))).toBe(true);
  }, 120_000);

  it('a stage asking for more GPUs than the run has fails naming the count', async () => {
    const dir = project({ 'p.yaml': PIPELINE.replace('gpus: 2}', 'gpus: 3}'), 's.py': STAGE_PY });
    const r = await pipeWithEnv(dir, { PIPE_PYTHON: '/usr/bin/python3' }, 'run', 'p.yaml', '--gpus', '2', '--only', 'gpu2');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gpu2 failed: asks for 3 GPUs, and this run has 2 \(--gpus 2; pipe run --gpus N sets the count\)/);
  }, 60_000);
});

describe('GPU bookkeeping', () => {
  it('serves waiters in order and never hands out a busy device', async () => {
    const pool = new GpuPool(['0', '1'], 'test');
    const a = await pool.acquire(1);
    const b = await pool.acquire(1);
    expect([...a, ...b].sort()).toEqual(['0', '1']);
    const order: string[] = [];
    const two = pool.acquire(2).then((ids) => { order.push(`two:${ids.join(',')}`); return ids; });
    const one = pool.acquire(1).then((ids) => { order.push(`one:${ids.join(',')}`); return ids; });
    pool.release(a);
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]); // the 2-GPU stage is first in line: the 1-GPU stage waits behind it
    pool.release(b);
    pool.release(await two);
    await one;
    expect(order).toEqual(['two:0,1', 'one:0']);
    await expect(pool.acquire(3)).rejects.toThrow(/asks for 3 GPUs, and this run has 2/);
  });

  it('finds devices from CUDA_VISIBLE_DEVICES or the driver; counts requests; Slurm asks --gres=gpu:N', () => {
    expect(detectGpus({ CUDA_VISIBLE_DEVICES: '2,3' }).ids).toEqual(['2', '3']);
    expect(detectGpus({ CUDA_VISIBLE_DEVICES: '' }).ids).toEqual([]);
    expect(detectGpus({}, '/nonexistent').ids).toEqual([]);
    expect([gpuCount(2), gpuCount('3'), gpuCount('a100:2'), gpuCount(undefined)]).toEqual([2, 3, 2, 0]);
    expect(sbatchArgs({ gpus: 2 })).toContain('--gres=gpu:2');
    expect(sbatchArgs({ gpus: 'a100:2' })).toContain('--gres=gpu:a100:2');
  });
});
