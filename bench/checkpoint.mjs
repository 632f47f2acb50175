#!/usr/bin/env node
/**
 * Resume checkpoints (issue 28): what they cost and what they save, through the real CLI.
 *
 *  1. Overhead. One InfoMax stage of pipelines/infomax_sweep.yaml (full MNIST, the §B.3 recipe:
 *     100 epochs, batch 128; relu, K 64 — the sweep's widest —, seed 1) and one ActMix stage of
 *     pipelines/actmix_cv.yaml (Adult, fold 0, actmix, the seed's 200 epochs with patience 20),
 *     each run four times (`--force`): `checkpoint: false`, the default interval (every 30 s),
 *     every 10 epochs and every epoch (the worst case). Printed: the stage's wall time, the
 *     checkpoints written and the time spent writing them (serialise, hash, write, fsync,
 *     rename — from the stage's debug log), that time as a share of the stage's time, and the
 *     overhead the default interval implies for any stage (the mean cost of one checkpoint / 30 s).
 *     The wall-time difference is printed too; on a shared machine it is mostly noise.
 *  2. Kill at 90 %. The InfoMax stage, with the default interval and with checkpoints every 10
 *     epochs, is killed with SIGKILL (the whole process group) during its 91st of 100 epochs (at
 *     a random moment of it: the progress events say when 90 are done), then rerun: it resumes
 *     from its newest checkpoint. Printed: the rerun's time against a restart from epoch 0 (the
 *     stage's uninterrupted time, measured just before), and the wall time saved.
 *
 *   npm run build && PIPE_DATA_MIRROR=../shared/datasets node bench/checkpoint.mjs [--epochs N] [--part overhead|kill]
 *
 * `--epochs N` shortens the InfoMax recipe (for a quick look; the README figures use 100).
 */
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pipeBin = join(root, 'bin', 'pipe.js');
const arg = (k, d) => { const i = process.argv.indexOf(`--${k}`); return i >= 0 ? process.argv[i + 1] : d; };
const epochs = Number(arg('epochs', '100'));
const mirror = process.env.PIPE_DATA_MIRROR ?? join(root, '..', 'shared', 'datasets');
const env = { ...process.env, PIPE_DATA_MIRROR: mirror, CI: 'true', FORCE_COLOR: '0' };

function start(dir, args) {
  const child = spawn(process.execPath, [pipeBin, ...args, '--progress', 'json'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '', err = '';
  const events = [];
  const listeners = [];
  child.stdout.on('data', (d) => {
    out += d;
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, i); out = out.slice(i + 1);
      try { const e = JSON.parse(line); events.push(e); for (const l of listeners) l(e); } catch { /* not an event */ }
    }
  });
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise((res) => child.on('close', (code) => res({ code, events, stderr: err })));
  return { child, done, on: (f) => listeners.push(f) };
}

async function run(dir, args) {
  const r = await start(dir, args).done;
  if (r.code !== 0) throw new Error(`pipe ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r;
}

const stageMs = (r, id) => r.events.find((e) => e.event === 'end' && e.id === id && e.outcome === 'ran')?.duration_ms;

/** Sets `checkpoint:` of stage `stage` in a pipeline file (under its `kind:` line). */
function setCheckpoint(file, stage, value) {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l, i, a) => !(l.startsWith('    checkpoint:') && a.slice(0, i).reverse().find((x) => /^ {2}\S/.test(x)) === `  ${stage}:`));
  const at = lines.indexOf(`  ${stage}:`);
  const kind = lines.findIndex((l, i) => i > at && l.startsWith('    kind:'));
  lines.splice(kind + 1, 0, `    checkpoint: ${value}`);
  writeFileSync(file, lines.join('\n'));
}

/** The checkpoints the stage wrote and the milliseconds they took (from its log). */
function saves(dir, file, id) {
  const show = JSON.parse(execFileSync(process.execPath, [pipeBin, 'show', file, id, '--json', '--log-lines', '100000'], { cwd: dir, env, encoding: 'utf8' }));
  const log = Array.isArray(show.log) ? show.log.join('\n') : String(show.log ?? '');
  const ms = [...log.matchAll(/checkpoint after epoch \d+\/\d+ \(([\d.]+) ms\)/g)].map((m) => Number(m[1]));
  return { n: ms.length, ms: ms.reduce((a, b) => a + b, 0) };
}

const fmt = (ms) => `${(ms / 1000).toFixed(1)} s`;
const pct = (x) => `${(100 * x).toFixed(3)} %`;

async function overhead(name, dir, file, stage, id, args) {
  const rows = [];
  for (const [label, value] of [['checkpoint: false', 'false'], ['default (every 30 s)', 'true'], ['every 10 epochs', '{every_epochs: 10}'], ['every epoch', '{every_epochs: 1}']]) {
    setCheckpoint(join(dir, file), stage, value);
    const r = await run(dir, ['run', file, '--only', id, '--force', id, '--jobs', '1', ...args]);
    const t = stageMs(r, id);
    const s = value === 'false' ? { n: 0, ms: 0 } : saves(dir, file, id);
    rows.push({ label, t, ...s });
  }
  const base = rows[0].t;
  console.log(`\n${name}: ${id}`);
  console.log(`  ${'checkpoints'.padEnd(22)} ${'stage time'.padStart(10)} ${'saves'.padStart(6)} ${'writing'.padStart(10)} ${'share of stage'.padStart(15)} ${'wall vs none'.padStart(13)}`);
  for (const r of rows) {
    console.log(`  ${r.label.padEnd(22)} ${fmt(r.t).padStart(10)} ${String(r.n).padStart(6)} ${`${r.ms.toFixed(1)} ms`.padStart(10)} ${pct(r.ms / r.t).padStart(15)} ${`${((r.t / base - 1) * 100).toFixed(1)} %`.padStart(13)}`);
  }
  const every = rows.at(-1);
  if (every.n) console.log(`  one checkpoint costs ${(every.ms / every.n).toFixed(1)} ms on average: at the default interval (30 s) that is ${pct(every.ms / every.n / 30_000)} of the stage's time`);
  return rows;
}

/** Kills the stage during the epoch after 90 % of them are done, reruns it, prints what resuming saved. */
async function killAt90(dir, im, imId, imArgs, full, label, value) {
  setCheckpoint(join(dir, im), 'train', value);
  const p = start(dir, ['run', im, '--only', imId, '--force', imId, '--jobs', '1', ...imArgs]);
  let at = null;
  p.on((e) => { if (e.event === 'progress' && e.id === imId && e.total && e.done >= 0.9 * e.total && !at) at = e; });
  let finished = false;
  void p.done.then(() => { finished = true; });
  while (!at && !finished) await new Promise((r) => setTimeout(r, 5));
  if (finished) { console.log(`\n${label}: the stage finished before it could be killed`); return; }
  await new Promise((r) => setTimeout(r, Math.random() * 0.8 * full / at.total));   // somewhere in the next epoch
  process.kill(-p.child.pid, 'SIGKILL');
  await p.done;
  // --force: the uninterrupted run before recorded this fingerprint (a forced run resumes too)
  const r = await run(dir, ['run', im, '--only', imId, '--force', imId, '--jobs', '1', ...imArgs]);
  const resumed = r.events.find((e) => e.event === 'resumed' && e.id === imId);
  const rest = stageMs(r, imId);
  if (rest === undefined) { console.log(`\n${label}: the killed run had recorded the stage already`); return; }
  console.log(`\nKilled during epoch ${at.done + 1}/${at.total}, ${label}: the rerun ${resumed ? `resumed at ${resumed.epoch}/${resumed.total}` : 'started from epoch 0 (no checkpoint)'}`);
  console.log(`  rerun to finish: ${fmt(rest)} vs ${fmt(full)} from epoch 0 (the uninterrupted stage): ${fmt(full - rest)} saved, ${((1 - rest / full) * 100).toFixed(0)} % of the stage`);
}

async function main() {
  console.log(`bench/checkpoint.mjs — ${new Date().toISOString()}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores)`);
  const dir = mkdtempSync(join(tmpdir(), 'pipe-bench-ckpt-'));
  cpSync(join(root, 'pipelines'), join(dir, 'pipelines'), { recursive: true });

  // ---- InfoMax (infomax_sweep)
  const im = 'pipelines/infomax_sweep.yaml';
  const imArgs = ['--set', 'activations=[relu]', '--set', 'hidden=[64]', '--set', 'seeds=[1]', '--set', `training.epochs=${epochs}`];
  const imId = 'train[activation=relu,hidden=64,seed=1]';
  await run(dir, ['run', im, '--only', 'mnist', ...imArgs]);
  const part = arg('part', 'all');
  let full;
  if (part !== 'kill') {
    const imRows = await overhead('InfoMax (infomax_sweep, full MNIST, §B.3 recipe)', dir, im, 'train', imId, imArgs);
    full = imRows[1].t;   // the default interval's run: what a restart from epoch 0 costs
  }

  // ---- ActMix (actmix_cv)
  const am = 'pipelines/actmix_cv.yaml';
  const amArgs = ['--set', 'datasets=[adult]', '--set', 'models=[actmix]'];
  const amId = 'train[dataset=adult,fold=0,model=actmix]';
  if (part !== 'kill') {
    await run(dir, ['run', am, '--only', 'prep[dataset=adult,fold=0]', ...amArgs]);
    await overhead('ActMix (actmix_cv, Adult fold 0, 200 epochs, patience 20)', dir, am, 'train', amId, amArgs);
  }
  if (part === 'overhead') { console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`); return; }
  if (full === undefined) {
    setCheckpoint(join(dir, im), 'train', 'true');
    full = stageMs(await run(dir, ['run', im, '--only', imId, '--force', imId, '--jobs', '1', ...imArgs]), imId);
    console.log(`\nInfoMax ${imId}, uninterrupted (default interval): ${fmt(full)}`);
  }

  // ---- killed at 90 %, then resumed
  for (const [label, value] of [['the default interval (30 s)', 'true'], ['checkpoints every 10 epochs', '{every_epochs: 10}']]) {
    await killAt90(dir, im, imId, imArgs, full, label, value);
  }
  console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
