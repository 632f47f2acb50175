/**
 * Training steps/s of the group-composition seed's two README examples — 1D: C_100, k = 3,
 * QuadraticRNN d = 200, Adam; 2D: C_10 × C_10, k = 3, SequentialMLP d = 600, per-neuron SGD —
 * batch 1000, fresh online batches, global-norm clip 0.1: pipe's `train-group` stage (native
 * sgemm through OpenBLAS, the kit loop) against the same models in PyTorch (the seed's framework,
 * bench/group_torch.py, 1 thread) in one run.
 *
 *   npx tsx bench/group_compare.ts [--steps 40] [--repeat 3] [--python /usr/bin/python3]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { runStageDirect } from '../src/engine/exec/context.js';
import gen from '../src/stages/generate-group.js';
import train from '../src/stages/train-group.js';

const arg = (k: string, d: string) => { const i = process.argv.indexOf(`--${k}`); return i >= 0 ? process.argv[i + 1]! : d; };
const steps = Number(arg('steps', '40')), repeat = Number(arg('repeat', '3')), python = arg('python', '/usr/bin/python3');
process.env.OPENBLAS_NUM_THREADS ??= '1';

const cases = [
  { name: 'quadratic_rnn_1d', label: '1D C_100, k 3, QuadraticRNN d 200, Adam', task: { p: 100, k: 3, template: 'fourier', n_freqs: 5 }, train: { model: 'quadratic_rnn', hidden_dim: 200, optimizer: 'adam', lr: 1e-3 } },
  { name: 'sequential_mlp_2d', label: '2D C_10×C_10, k 3, SequentialMLP d 600, per-neuron', task: { p: [10, 10], k: 3, template: 'fourier', n_freqs: 3 }, train: { model: 'sequential_mlp', hidden_dim: 600, optimizer: 'per_neuron', lr: 1.0 } },
];

// PyTorch and pipe alternate, one timed run each per round, so load changes hit both alike
const torchRate: Record<string, number> = {};
let torchVersion = 'n/a';
const pipeRate: Record<string, number> = {};
const tasks = await Promise.all(cases.map((c) => runStageDirect(gen, { params: c.task, seed: 5 })));
for (let r = 0; r < repeat; r++) {
  const torch = spawnSync(python, ['bench/group_torch.py', '--steps', String(steps), '--repeat', '1'], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (torch.status === 0) for (const l of torch.stdout.trim().split('\n')) { const x = JSON.parse(l); torchRate[x.model] = Math.max(torchRate[x.model] ?? 0, x.steps_per_s); torchVersion = x.torch; }
  else console.error(`PyTorch run failed: ${torch.stderr.trim().split('\n').pop()}`);
  for (const [i, c] of cases.entries()) {
    const t = tasks[i]!;
    const out = await runStageDirect(train, { params: { ...c.train, num_steps: steps, log_every: steps, reduction_threshold: null, save_param_interval: steps, backend: 'blas' }, inputs: { task: t.outputs.task!, sequences: t.outputs.sequences! }, seed: r });
    pipeRate[c.name] = Math.max(pipeRate[c.name] ?? 0, JSON.parse(readFileSync(out.outputs.metrics!, 'utf8')).steps_per_s);
  }
}
console.log(`Group composition, batch 1000, steps/s (best of ${repeat} alternating rounds of ${steps} steps); PyTorch ${torchVersion} 1 thread, OpenBLAS 1 thread`);
console.log('| model | pipe train-group | PyTorch | pipe / PyTorch |');
console.log('|---|---:|---:|---:|');
for (const c of cases) {
  const p = pipeRate[c.name]!, tr = torchRate[c.name];
  console.log(`| ${c.label} | ${p.toFixed(1)} | ${tr ? tr.toFixed(1) : 'n/a'} | ${tr ? (p / tr).toFixed(2) + '×' : 'n/a'} |`);
}
