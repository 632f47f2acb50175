#!/usr/bin/env node
/**
 * What decoding MNIST once per worker saves (issue 30): a slice of pipelines/infomax_sweep.yaml —
 * 8 training stages on the full 60,000 × 784 float32 training set, 1 epoch each, 2 workers — run
 * from an empty cache with the per-worker decode cache off (`PIPE_DECODE_CACHE_MB=0`, every stage
 * reads and decodes the table) and on (the default), alternating, best of N rounds. Same code,
 * same stages; only the decoding differs. Needs the MNIST mirror (PIPE_DATA_MIRROR, default
 * ../shared/datasets) and a build (`npm run build`).
 *
 *   node bench/decode_once.mjs [--rounds 2]
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pipeBin = join(root, 'bin', 'pipe.js');
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 2) || 2;
const mirror = process.env.PIPE_DATA_MIRROR ?? resolve(root, '..', 'shared', 'datasets');
const sets = ['--set', 'activations=[relu,tanh]', '--set', 'hidden=[16]', '--set', 'seeds=[1,2,3,4]', '--set', 'training.epochs=1', '--set', 'metrics_every=1'];

// the MNIST download stage once, into a cache both arms copy, so only the training stages are timed
const base = mkdtempSync(join(tmpdir(), 'pipe-decode-'));
cpSync(join(root, 'pipelines'), join(base, 'pipelines'), { recursive: true });
const run = (dir, env, args) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [pipeBin, 'run', 'pipelines/infomax_sweep.yaml', ...sets, '--jobs', '2', '--quiet', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true', PIPE_DATA_MIRROR: mirror, ...env } });
  if (r.status !== 0) throw new Error(`pipe run failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
};
run(base, {}, ['--only', 'mnist']);

const best = { off: Infinity, on: Infinity };
const load = [];
for (let i = 0; i < rounds; i++) {
  for (const arm of i % 2 ? ['on', 'off'] : ['off', 'on']) {
    const dir = mkdtempSync(join(tmpdir(), `pipe-decode-${arm}-`));
    cpSync(base, dir, { recursive: true });
    load.push(loadavg()[0]);
    const s = run(dir, arm === 'off' ? { PIPE_DECODE_CACHE_MB: '0' } : {}, ['--only', 'train']);
    best[arm] = Math.min(best[arm], s);
    rmSync(dir, { recursive: true, force: true });
  }
}
rmSync(base, { recursive: true, force: true });
console.log(`infomax_sweep slice: 8 train stages (relu, tanh × K 16 × 4 seeds, 1 epoch, 60,000 MNIST rows), --jobs 2, best of ${rounds}; load ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}`);
console.log('| decoding | wall s |');
console.log('|---|---:|');
console.log(`| every stage reads and decodes MNIST (PIPE_DECODE_CACHE_MB=0) | ${best.off.toFixed(1)} |`);
console.log(`| once per worker (default) | ${best.on.toFixed(1)} |`);
console.log(`once per worker / every stage: ${(best.on / best.off).toFixed(2)}×`);
