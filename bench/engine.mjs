#!/usr/bin/env node
// Engine benchmarks (issue #2). Run after `npm run build`:  node bench/engine.mjs
//  1. first run of 1,000 trivial stages (10 generators × 99 fold stages + 1 gather)
//  2. no-op rerun of the same pipeline (wall time including Node start-up)
//  3. `pipe status` on a 10,000-stage pipeline that has run
//  4. speed-up of 8 independent CPU-bound stages with --jobs 2 over --jobs 1
//
//  node bench/engine.mjs fanout      only 1–3 (and the 10,000-stage first run and no-op)
//  node bench/engine.mjs cpu         only 4
//  node bench/engine.mjs first [--before DIR]… [--rounds 3] [--gens 10] [--folds 99]
//    only the first run of the fan-out, alternating this build with other builds (--before: a
//    checkout of another commit, built) in the same rounds; wall time, CPU time of the whole
//    process tree (user + system, from GNU time when /usr/bin/time exists) and the load average
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fanoutPipeline } from './fanout.mjs';

const pipeBin = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'pipe.js');

function timed(cwd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [pipeBin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`pipe ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { s, out: r.stdout.trim().split('\n').pop() };
}

const fanout = fanoutPipeline;

const only = process.argv[2]; // 'fanout' | 'cpu' | 'first' to run one part
if (only === '--help' || only === '-h') {
  // the usage is the comment at the top of this file
  const text = (await import('node:fs')).readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  console.log(text.slice(1, text.findIndex((l) => l.startsWith('import '))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
if (only !== undefined && !['fanout', 'cpu', 'first'].includes(only)) {
  console.error(`bench/engine.mjs: unknown part '${only}' (fanout, cpu, first; --help)`);
  process.exit(2);
}
if (only === 'first') {
  const arg = (name, d) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? Number(process.argv[i + 1]) : d; };
  const rounds = arg('rounds', 3), gens = arg('gens', 10), folds = arg('folds', 99);
  const builds = [{ label: 'this build', bin: pipeBin }];
  process.argv.forEach((a, i) => { if (a === '--before') builds.push({ label: process.argv[i + 1], bin: resolve(process.argv[i + 1], 'bin', 'pipe.js') }); });
  const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  const n = gens * folds + gens + 1;
  console.log(`${n.toLocaleString('en-US')} command stages, first run, --jobs 2; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; ${rounds} alternating rounds`);
  const res = builds.map(() => []);
  for (let r = 0; r < rounds; r++) {
    builds.forEach((b, i) => {
      const dir = mkdtempSync(join(tmpdir(), 'pipe-bench-'));
      writeFileSync(join(dir, 'p.yaml'), fanout(gens, folds));
      const load = loadavg()[0];
      const t0 = process.hrtime.bigint();
      const [cmd, args] = gnuTime ? [gnuTime, ['-f', 'CPU %U %S', process.execPath, b.bin, 'run', 'p.yaml', '--quiet']] : [process.execPath, [b.bin, 'run', 'p.yaml', '--quiet']];
      const p = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (p.status !== 0) throw new Error(`${b.label}: pipe run failed (${p.status}):\n${p.stdout}\n${p.stderr}`);
      const m = /CPU ([\d.]+) ([\d.]+)/.exec(p.stderr ?? '');
      const cpu = m ? Number(m[1]) + Number(m[2]) : NaN;
      res[i].push({ wall, cpu });
      console.log(`  round ${r + 1}  ${b.label.padEnd(24)} wall ${wall.toFixed(2).padStart(6)} s   CPU ${m ? `${cpu.toFixed(2).padStart(6)} s (user ${m[1]}, sys ${m[2]})` : 'n/a'}   load ${load.toFixed(2)} → ${loadavg()[0].toFixed(2)}`);
      rmSync(dir, { recursive: true, force: true });
    });
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  console.log('\n| build | wall s (median) | CPU s (median) | CPU ms per stage |\n|---|---:|---:|---:|');
  builds.forEach((b, i) => {
    const w = median(res[i].map((x) => x.wall)), c = median(res[i].map((x) => x.cpu));
    console.log(`| ${b.label} | ${w.toFixed(2)} | ${Number.isNaN(c) ? 'n/a' : c.toFixed(2)} | ${Number.isNaN(c) ? 'n/a' : ((c / n) * 1000).toFixed(1)} |`);
  });
  process.exit(0);
}
const rows = [];
const row = (what, value, target) => { rows.push({ what, value, target }); console.log(`${what.padEnd(58)} ${value.padStart(10)}   ${target}`); };
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}\n`);

if (only !== 'cpu') {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-bench-'));
  writeFileSync(join(dir, 'p.yaml'), fanout(10, 99));
  const first = timed(dir, ['run', 'p.yaml', '--quiet']);
  row('1,001 stages, first run (--jobs 2)', `${first.s.toFixed(2)} s`, `target < 10 s (${first.out})`);
  const noop = [1, 2, 3].map(() => timed(dir, ['run', 'p.yaml', '--quiet']).s).sort()[1];
  row('1,001 stages, no-op rerun (wall, incl. Node start)', `${noop.toFixed(2)} s`, 'target < 0.5 s');
  const st = timed(dir, ['status', 'p.yaml']);
  row('1,001 stages, pipe status', `${st.s.toFixed(2)} s`, '');
  rmSync(dir, { recursive: true, force: true });
}
if (only !== 'cpu') {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-bench-'));
  writeFileSync(join(dir, 'p.yaml'), fanout(100, 99));
  const first = timed(dir, ['run', 'p.yaml', '--quiet']);
  row('10,001 stages, first run (--jobs 2)', `${first.s.toFixed(2)} s`, '');
  const st = [1, 2, 3].map(() => timed(dir, ['status', 'p.yaml']).s).sort()[1];
  row('10,001 stages, pipe status (all fresh)', `${st.toFixed(2)} s`, 'target < 2 s');
  const noop = timed(dir, ['run', 'p.yaml', '--quiet']);
  row('10,001 stages, no-op rerun', `${noop.s.toFixed(2)} s`, '');
  rmSync(dir, { recursive: true, force: true });
}
if (only !== 'fanout') {
  const cpu = `name: cpu
stages:
  work:
    kind: command
    matrix: {i: {range: 8}}
    params: {cmd: 'node -e "let x=0; for (let i = 0; i < 1.6e9; i++) x += i % 7; console.log(\${matrix.i}, x)" > \${outputs.out}', outs: {out: text}}
`;
  const d1 = mkdtempSync(join(tmpdir(), 'pipe-bench-'));
  const d2 = mkdtempSync(join(tmpdir(), 'pipe-bench-'));
  writeFileSync(join(d1, 'p.yaml'), cpu);
  writeFileSync(join(d2, 'p.yaml'), cpu);
  const j1 = timed(d1, ['run', 'p.yaml', '--quiet', '--jobs', '1']).s;
  const j2 = timed(d2, ['run', 'p.yaml', '--quiet', '--jobs', '2']).s;
  row('8 CPU-bound stages, --jobs 1', `${j1.toFixed(2)} s`, '');
  row('8 CPU-bound stages, --jobs 2', `${j2.toFixed(2)} s`, '');
  row('speed-up --jobs 2 / --jobs 1', `${(j1 / j2).toFixed(2)}×`, 'target ≥ 1.9×');
  rmSync(d1, { recursive: true, force: true });
  rmSync(d2, { recursive: true, force: true });
}
