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
 *   node bench/snakemake.mjs [--rounds 7] [--gens 10] [--folds 99] [--before DIR] [--snake-done DIR]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fanoutPipeline, fanoutSnakefile } from './fanout.mjs';

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
const snake = (cwd, ...a) => timed('snakemake', ['--cores', '2', '--quiet', ...a], cwd);
// --before DIR: also time another build of pipe (e.g. a checkout of an older commit, built) in the
// same rounds, so a change is measured against its base under the same load
const beforeIdx = process.argv.indexOf('--before');
const pipes = [{ label: 'pipe', bin: pipeBin }];
if (beforeIdx >= 0) pipes.push({ label: `pipe before (${process.argv[beforeIdx + 1]})`, bin: resolve(process.argv[beforeIdx + 1], 'bin', 'pipe.js') });
for (const p of pipes) {
  p.dir = mkdtempSync(join(tmpdir(), 'bench-pipe-'));
  writeFileSync(join(p.dir, 'p.yaml'), fanoutPipeline(gens, folds));
  p.run = (...a) => timed(process.execPath, [p.bin, ...a], p.dir);
}
// --snake-done DIR: a directory where this same Snakefile has already run to the end (Snakemake's
// first run of the DAG takes 10–15 min here); its first run is then not timed again
const doneIdx = process.argv.indexOf('--snake-done');
const snakeDone = doneIdx >= 0 ? resolve(process.argv[doneIdx + 1]) : null;
const snakeDir = snakeDone ?? mkdtempSync(join(tmpdir(), 'bench-snake-'));
if (snakeDone) {
  if (readFileSync(join(snakeDir, 'Snakefile'), 'utf8') !== fanoutSnakefile(gens, folds)) throw new Error(`--snake-done ${snakeDir}: its Snakefile is not this DAG's`);
} else writeFileSync(join(snakeDir, 'Snakefile'), fanoutSnakefile(gens, folds));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const loads = [loadavg()[0]];
for (const p of pipes) p.first = p.run('run', 'p.yaml', '--quiet', '--jobs', '2');
const snakeFirst = snakeDone ? NaN : snake(snakeDir);
for (const p of pipes) { p.noop = []; p.status = []; }
const snakeNoop = [], snakeStatus = [];
for (let i = 0; i < rounds; i++) {
  loads.push(loadavg()[0]);
  // with --before, the builds take turns to go first (neither always runs right after Snakemake)
  const order = i % 2 ? [...pipes].reverse() : pipes;
  for (const p of order) p.noop.push(p.run('run', 'p.yaml', '--quiet', '--jobs', '2'));
  snakeNoop.push(snake(snakeDir));
  for (const p of order) p.status.push(p.run('status', 'p.yaml'));
  snakeStatus.push(snake(snakeDir, '-n'));
}
for (const p of pipes) rmSync(p.dir, { recursive: true, force: true });
if (!snakeDone) rmSync(snakeDir, { recursive: true, force: true });

const n = gens * folds + gens + 1;
console.log(`${n.toLocaleString('en-US')} shell jobs, 2 at a time; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; median of ${rounds} alternating rounds; load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
console.log('| | build | pipe s | Snakemake 7.21 s | pipe / Snakemake |');
console.log('|---|---|---:|---:|---:|');
for (const p of pipes) {
  const line = (what, a, b) => console.log(`| ${what} | ${p.label} | ${a.toFixed(2)} | ${Number.isNaN(b) ? '(not timed: --snake-done)' : b.toFixed(2)} | ${Number.isNaN(b) ? '–' : `${(a / b).toFixed(2)}×`} |`);
  line('first run', p.first, snakeFirst);
  line('no-op rerun', median(p.noop), median(snakeNoop));
  line('status (`pipe status` / `snakemake -n`)', median(p.status), median(snakeStatus));
}
