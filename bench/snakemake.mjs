#!/usr/bin/env node
/**
 * pipe against Snakemake (7.21, Debian's `snakemake`) on the same DAG, side by side in one run:
 * 10 generators × 99 fold stages + 1 gather = 1,001 shell jobs, 2 jobs at a time.
 *   - first run from nothing
 *   - no-op rerun (everything up to date), wall time including interpreter start
 *   - status: `pipe status` against `snakemake -n` (what would run)
 * No-op and status alternate pipe / Snakemake for N rounds; the median is printed with the ratio.
 * Needs a build (`npm run build`) and `snakemake` on PATH.
 *
 *   node bench/snakemake.mjs [--rounds 7] [--gens 10] [--folds 99]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (k, d) => { const i = process.argv.indexOf(`--${k}`); return i >= 0 ? Number(process.argv[i + 1]) : d; };
const rounds = arg('rounds', 7), gens = arg('gens', 10), folds = arg('folds', 99);
const pipeBin = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'pipe.js');

function timed(cmd, args, cwd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return s;
}
const pipe = (cwd, ...a) => timed(process.execPath, [pipeBin, ...a], cwd);
const snake = (cwd, ...a) => timed('snakemake', ['--cores', '2', '--quiet', ...a], cwd);

const pipeDir = mkdtempSync(join(tmpdir(), 'bench-pipe-'));
const snakeDir = mkdtempSync(join(tmpdir(), 'bench-snake-'));
writeFileSync(join(pipeDir, 'p.yaml'), `name: bench
stages:
  gen:
    kind: command
    matrix: {g: {range: ${gens}}}
    params: {cmd: 'echo \${matrix.g} > \${outputs.out}', outs: {out: text}}
  fold:
    kind: command
    matrix: {g: {range: ${gens}}, f: {range: ${folds}}}
    inputs: {x: gen.out}
    params: {cmd: '(cat \${inputs.x}; echo \${matrix.f}) > \${outputs.out}', outs: {out: text}}
  gather:
    kind: command
    inputs: {all: 'fold[*].out'}
    params: {cmd: 'cat \${inputs.all} | wc -l > \${outputs.out}', outs: {out: text}}
`);
writeFileSync(join(snakeDir, 'Snakefile'), `rule all:
    input: "gather.txt"
rule gen:
    output: "gen/{g}.txt"
    shell: "echo {wildcards.g} > {output}"
rule fold:
    input: "gen/{g}.txt"
    output: "fold/{g}_{f}.txt"
    shell: "(cat {input}; echo {wildcards.f}) > {output}"
rule gather:
    input: expand("fold/{g}_{f}.txt", g=range(${gens}), f=range(${folds}))
    output: "gather.txt"
    shell: "cat {input} | wc -l > {output}"
`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const loads = [loadavg()[0]];
const first = { pipe: pipe(pipeDir, 'run', 'p.yaml', '--quiet', '--jobs', '2'), snake: snake(snakeDir) };
const loadsAfterFirst = loadavg()[0];
const noop = { pipe: [], snake: [] }, status = { pipe: [], snake: [] };
for (let i = 0; i < rounds; i++) {
  loads.push(loadavg()[0]);
  noop.pipe.push(pipe(pipeDir, 'run', 'p.yaml', '--quiet', '--jobs', '2'));
  noop.snake.push(snake(snakeDir));
  status.pipe.push(pipe(pipeDir, 'status', 'p.yaml'));
  status.snake.push(snake(snakeDir, '-n'));
}
rmSync(pipeDir, { recursive: true, force: true });
rmSync(snakeDir, { recursive: true, force: true });

const n = gens * folds + gens + 1;
console.log(`${n.toLocaleString('en-US')} shell jobs, 2 at a time; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; median of ${rounds} alternating rounds; load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
console.log('| | pipe s | Snakemake 7.21 s | pipe / Snakemake |');
console.log('|---|---:|---:|---:|');
const line = (what, p, s) => console.log(`| ${what} | ${p.toFixed(2)} | ${s.toFixed(2)} | ${(p / s).toFixed(2)}× |`);
line('first run', first.pipe, first.snake);
line('no-op rerun', median(noop.pipe), median(noop.snake));
line('status (`pipe status` / `snakemake -n`)', median(status.pipe), median(status.snake));
