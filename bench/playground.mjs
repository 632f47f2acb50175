#!/usr/bin/env node
/**
 * The activation playground (`pipelines/activation_playground.yaml`, 145 stages) from an empty
 * cache, timed with another CPU-bound job on the machine: a busy loop (`node -e 'for(;;){}'`) per
 * `--busy` runs beside every run. With `--before DIR` (another build of pipe, e.g. a checkout of
 * main, built) the two builds alternate for `--rounds` rounds under the same conditions, and the
 * median wall times are printed with their ratio. CPU time (user, sys) of the whole run, its
 * workers included, comes from /usr/bin/time when it is installed. The load average before and
 * after each run is printed: the machine may be shared.
 *
 *   npm run build && PIPE_DATA_MIRROR=../shared/datasets node bench/playground.mjs [--before DIR] [--rounds 2] [--busy 1] [--jobs 2]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const opt = (k, d) => { const i = process.argv.indexOf(`--${k}`); return i >= 0 ? process.argv[i + 1] : d; };
const rounds = Number(opt('rounds', '1')), busy = Number(opt('busy', '1')), jobs = opt('jobs', undefined);
const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const builds = [{ label: 'this build', root: here }];
if (opt('before')) builds.unshift({ label: `before (${opt('before')})`, root: resolve(opt('before')) });
for (const b of builds) if (!existsSync(join(b.root, 'dist', 'cli.js'))) throw new Error(`${b.root}: no dist/ (run npm run build there)`);
const time = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

function once(b) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-playground-'));
  writeFileSync(join(dir, 'pipe.config.json'), '{}\n');
  const loops = Array.from({ length: busy }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  try {
    spawnSync('sleep', ['1']);
    const before = loadavg()[0];
    const args = [join(b.root, 'bin', 'pipe.js'), '--root', dir, 'run', join(b.root, 'pipelines', 'activation_playground.yaml'), ...(jobs ? ['--jobs', jobs] : [])];
    const tf = join(dir, 'time.txt');
    const t0 = process.hrtime.bigint();
    const r = time
      ? spawnSync(time, ['-f', '%U %S', '-o', tf, process.execPath, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } })
      : spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`${b.label}: pipe run failed (${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    const ran = /(\d+) ran, (\d+) cached, (\d+) failed/.exec(r.stdout + r.stderr);
    if (!ran || ran[2] !== '0' || ran[3] !== '0') throw new Error(`${b.label}: not a full run from an empty cache: ${ran?.[0]}`);
    const [user, sys] = time ? readFileSync(tf, 'utf8').trim().split(/\s+/).slice(-2).map(Number) : [NaN, NaN];
    return { wall, user, sys, stages: Number(ran[1]), load: [before, loadavg()[0]] };
  } finally {
    for (const l of loops) l.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
console.log(`activation playground from an empty cache, ${cpus().length} cores, ${busy} busy loop(s) beside each run, ${rounds} round(s)${jobs ? `, --jobs ${jobs}` : ''}`);
console.log('| run | stages | wall | user | sys | load before → after |\n|---|---:|---:|---:|---:|---|');
const results = new Map(builds.map((b) => [b.label, []]));
for (let k = 0; k < rounds; k++) {
  for (const b of builds) {
    const r = once(b);
    results.get(b.label).push(r);
    console.log(`| ${b.label} | ${r.stages} | ${f1(r.wall)} s | ${f1(r.user)} s | ${f1(r.sys)} s | ${r.load.map((l) => l.toFixed(1)).join(' → ')} |`);
  }
}
for (const b of builds) {
  const rs = results.get(b.label);
  console.log(`${b.label}: median wall ${f1(median(rs.map((r) => r.wall)))} s, median CPU ${f1(median(rs.map((r) => r.user + r.sys)))} s`);
}
if (builds.length === 2) {
  const [a, b] = builds.map((x) => median(results.get(x.label).map((r) => r.wall)));
  console.log(`speed-up (before / this build, median wall): ${(a / b).toFixed(2)}×`);
}
