#!/usr/bin/env node
// Slurm executor benchmarks (issue #18), side by side with the local executor. Run after
// `npm run build` on a machine with a Slurm cluster (bash scripts/setup-slurm.sh makes a
// one-node one):  node bench/slurm.mjs
//  1. sbatch round trip: mean time of one `sbatch --parsable --hold` call (then scancel)
//  2. per-stage overhead: a chain of 10 dependent trivial stages, Slurm vs local, (Δ wall) / 10
//  3. a 100-stage matrix (one job array) of trivial stages, Slurm vs local, and the ratio
//  4. the same matrix with `resources: {batch: 10}` (10 stages per array task)
//  5. Slurm alone: a 50-task array of `true` (what the cluster itself costs per job)
// Every pipe run starts from an empty cache; the Slurm runs include the one probe job.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pipeBin = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'pipe.js');

function timedRun(yaml, executor) {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-bench-slurm-'));
  writeFileSync(join(dir, 'p.yaml'), yaml);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [pipeBin, 'run', 'p.yaml', '--executor', executor], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true', XDG_CONFIG_HOME: join(dir, '.config') },
  });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`pipe run --executor ${executor} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  rmSync(dir, { recursive: true, force: true });
  return s;
}

const chain = (n) => `name: chain
stages:
${Array.from({ length: n }, (_, i) => `  s${i}:
    kind: command
${i ? `    inputs: {prev: s${i - 1}.out}\n` : ''}    params: {cmd: 'echo ${i} > \${outputs.out}', outs: {out: text}}
`).join('')}`;

const matrix = (n, batch) => `name: wide
stages:
  m:
    kind: command${batch ? `\n    resources: {batch: ${batch}}` : ''}
    matrix: {i: {range: ${n}}}
    params: {cmd: 'echo \${matrix.i} > \${outputs.out}', outs: {out: text}}
`;

const fmt = (s) => `${s.toFixed(2)} s`;
const nodeInfo = execFileSync('sinfo', ['-h', '-N', '-o', '%N %c CPUs %m MB'], { encoding: 'utf8' }).trim().split('\n')[0];
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); Slurm: ${execFileSync('sbatch', ['--version'], { encoding: 'utf8' }).trim()}; node: ${nodeInfo}`);

// 1. sbatch round trip
const k = 20;
const ids = [];
const t0 = process.hrtime.bigint();
for (let i = 0; i < k; i++) ids.push(execFileSync('sbatch', ['--parsable', '--hold', '--job-name=pipe-bench', '--output=/dev/null', '--wrap', 'true'], { encoding: 'utf8' }).trim());
const sb = Number(process.hrtime.bigint() - t0) / 1e6 / k;
execFileSync('scancel', ids);
console.log(`1. sbatch --parsable round trip: ${sb.toFixed(1)} ms per call (mean of ${k})`);

// 2. chain
const n = 10;
const cl = timedRun(chain(n), 'local');
const cs = timedRun(chain(n), 'slurm');
console.log(`2. chain of ${n} dependent stages: local ${fmt(cl)}, Slurm ${fmt(cs)} → overhead ${((cs - cl) / n).toFixed(2)} s per stage (submit, schedule, start, poll, verify; includes the probe job once)`);

// 3. 100-stage matrix
const w = 100;
const ml = timedRun(matrix(w), 'local');
const ms = timedRun(matrix(w), 'slurm');
console.log(`3. ${w}-stage matrix (one job array): local ${fmt(ml)}, Slurm ${fmt(ms)} → Slurm/local = ${(ms / ml).toFixed(1)}×`);

const mb = timedRun(matrix(w, 10), 'slurm');
console.log(`4. the same matrix with batch: 10 (10 array tasks of 10 stages): Slurm ${fmt(mb)} → Slurm/local = ${(mb / ml).toFixed(1)}×`);

// 5. the cluster's own cost per job
const t1 = process.hrtime.bigint();
const arr = execFileSync('sbatch', ['--parsable', '--array=0-49', '--job-name=pipe-bench', '--output=/dev/null', '--wrap', 'true'], { encoding: 'utf8' }).trim();
for (;;) {
  const q = execFileSync('squeue', ['-h', '-r', '-j', arr, '-t', 'PD,R,CG', '-o', '%i'], { encoding: 'utf8' }).trim();
  if (!q) break;
  await new Promise((r) => setTimeout(r, 100));
}
const pure = Number(process.hrtime.bigint() - t1) / 1e9;
console.log(`5. Slurm alone, a 50-task array of \`true\`: ${fmt(pure)} (${(pure / 50).toFixed(2)} s per task on this cluster)`);
