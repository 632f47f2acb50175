#!/usr/bin/env node
// Tables at scale (issue 30). Run after `npm run build`:
//
//   node bench/tables.mjs [--rows 1e6,1e7,5e7] [--no-csv] [--no-numpy] [--keep DIR]
//
// For each row count, the data kinds run one after another, EACH IN ITS OWN NODE PROCESS
// (runStageDirect: the kind with params validated and defaulted as the engine does), on the
// previous kind's output files:
//   generate-synthetic (health_risk, n rows) → encode → split (stratified 10-fold, fold 0, 10 %
//   inner val) → standardize (fit on train) → aggregate (the split's part sizes)
// and, separately, load-csv of an n-row health_risk CSV written here first (not timed). Then the
// same chain as one pipeline through the engine (`pipe run --jobs 1`, content-addressed store,
// hashing and recording included): wall time and the peak RSS of the largest process
// (/usr/bin/time -f %M).
// Per kind: wall time in the child, peak RSS (process.resourceUsage().maxRSS), the bytes of the
// tables it read and wrote, and peak RSS per row. A NumPy peer (/usr/bin/python3) does the
// split + standardize step on arrays of the same shape, side by side. Nothing here is asserted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, statSync, openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem, loadavg } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const rowsList = opt('--rows', '1e6,1e7,5e7').split(',').map((x) => Math.round(Number(x)));
const withCsv = !args.includes('--no-csv');
const withNumpy = !args.includes('--no-numpy');
const withEngine = !args.includes('--no-engine');
const keep = opt('--keep', null);

// ---- child mode: run one kind, print one JSON line ----------------------------------------
if (args[0] === '--baseline') {
  // what a child costs before any rows: Node + pipe's modules (subtracted in "above baseline")
  await import(join(root, 'dist', 'index.js'));
  for (const k of ['generate-synthetic', 'encode', 'split', 'standardize', 'aggregate', 'load-csv']) await import(join(root, 'dist', 'stages', `${k}.js`));
  await import('apache-arrow');
  process.stdout.write(JSON.stringify({ maxRssKB: process.resourceUsage().maxRSS }) + '\n');
  process.exit(0);
}
if (args[0] === '--child') {
  const [, kindFile, json] = args;
  const spec = JSON.parse(json);
  const { runStageDirect } = await import(join(root, 'dist', 'index.js'));
  const kind = (await import(join(root, 'dist', 'stages', `${kindFile}.js`))).default;
  const t0 = performance.now();
  const r = await runStageDirect(kind, { params: spec.params, inputs: spec.inputs, outDir: spec.outDir, seed: 1, projectDir: spec.projectDir });
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ s, maxRssKB: process.resourceUsage().maxRSS, outputs: r.outputs, metrics: r.result?.metrics ?? null }) + '\n');
  process.exit(0);
}

function runKind(kindFile, spec) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kindFile, JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${kindFile} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** Bytes of the table/json files under a list of paths. */
const bytesOf = (paths) => paths.reduce((a, p) => a + statSync(p).size, 0);

/** A health_risk-shaped CSV of n rows (deterministic; ~35 bytes a row), written in 4 MB blocks. */
function writeCsv(path, n) {
  const fd = openSync(path, 'w');
  let buf = 'bmi,steps,calories,risk_score,high_risk\n';
  let x = 12345;
  const next = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x; };
  for (let i = 0; i < n; i++) {
    const bmi = 15 + (next() % 3000) / 100, steps = 1000 + (next() % 17000), cal = 1200 + (next() % 2800), risk = (next() % 10000) / 100;
    buf += `${bmi},${steps},${cal},${risk},${risk >= 55 ? 1 : 0}\n`;
    if (buf.length > 1 << 22) { writeSync(fd, buf); buf = ''; }
  }
  writeSync(fd, buf);
  closeSync(fd);
}

const NUMPY = `
import sys, time, resource, numpy as np
n = int(sys.argv[1])
rng = np.random.default_rng(1)
X = rng.normal(size=(n, 3)).astype(np.float32)        # encoded features (float32, as pipe's encode)
y = (rng.random(n) < 0.45).astype(np.int32)
t0 = time.perf_counter()
# split: stratified 10-fold, fold 0, 10 % inner val (per class: permute, deal round-robin)
fold = np.empty(n, np.int32); deal = 0
for c in (0, 1):
    idx = np.flatnonzero(y == c); rng.shuffle(idx)
    fold[idx] = (deal + np.arange(idx.size)) % 10; deal += idx.size
test = np.flatnonzero(fold == 0); rest = np.flatnonzero(fold != 0)
held = []
for c in (0, 1):
    g = rest[y[rest] == c]; rng.shuffle(g); held.append(g[: int(np.ceil(0.1 * g.size))])
val = np.sort(np.concatenate(held)); mask = np.ones(n, bool); mask[test] = False; mask[val] = False
train = np.flatnonzero(mask)
parts = {k: (X[i], y[i], i.astype(np.int32)) for k, i in (('train', train), ('val', val), ('test', test))}
t1 = time.perf_counter()
# standardize: population mean/std on train, float32 out
mu = parts['train'][0].mean(axis=0, dtype=np.float64); sd = parts['train'][0].std(axis=0, dtype=np.float64)
out = {k: ((v[0] - mu) / sd).astype(np.float32) for k, v in parts.items()}
t2 = time.perf_counter()
print(t1 - t0, t2 - t1, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
`;

function numpyPeer(n) {
  const r = spawnSync('/usr/bin/python3', ['-c', NUMPY, String(n)], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const [split, std, rss] = r.stdout.trim().split(/\s+/).map(Number);
  return { split, std, rssKB: rss };
}

const fmtRows = (n) => (n >= 1e6 ? `${n / 1e6} M` : n.toLocaleString('en-US'));
const mb = (b) => `${(b / 2 ** 20).toFixed(0)}`;
const lines = [];
const say = (s) => { console.log(s); lines.push(s); };

say(`# tables at scale — ${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
say('');
const baseKB = JSON.parse(spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--baseline'], { encoding: 'utf8' }).stdout).maxRssKB;
say(`Peak RSS of one process; "above baseline" subtracts ${mb(baseKB * 1024)} MiB, a child that has loaded Node, pipe and Arrow and read no rows. Table bytes per row: what the kind read + wrote (Arrow IPC files).`);
say('');
say('| rows | kind | time s | peak RSS MiB | tables in MiB | tables out MiB | RSS above baseline, bytes/row | table bytes in+out /row |');
say('|---:|---|---:|---:|---:|---:|---:|---:|');
const base = keep ?? mkdtempSync(join(tmpdir(), 'pipe-bench-tables-'));
const peers = [];
try {
  for (const n of rowsList) {
    const dir = join(base, `n${n}`);
    const out = (name) => { const d = join(dir, name); return d; };
    const row = (kind, r, inPaths) => {
      const outPaths = Object.values(r.outputs).filter((p) => /\.(arrow|json)$/.test(p));
      const tin = bytesOf(inPaths), tout = bytesOf(outPaths.filter((p) => p.endsWith('.arrow')));
      say(`| ${fmtRows(n)} | ${kind} | ${r.s.toFixed(1)} | ${mb(r.maxRssKB * 1024)} | ${mb(tin)} | ${mb(tout)} | ${(((r.maxRssKB - baseKB) * 1024) / n).toFixed(1)} | ${((tin + tout) / n).toFixed(1)} |`);
      return r.outputs;
    };
    const g = row('generate-synthetic', runKind('generate-synthetic', { params: { generator: 'health_risk', n }, outDir: out('gen') }), []);
    const e = row('encode', runKind('encode', { params: {}, inputs: { train: g.table }, outDir: out('enc') }), [g.table]);
    rmSync(join(dir, 'gen'), { recursive: true, force: true });
    const sIn = [e.train];
    const s = row('split', runKind('split', { params: { method: 'stratified-kfold', k: 10, fold: 0, seed: 7 }, inputs: { table: e.train }, outDir: out('split') }), sIn);
    rmSync(join(dir, 'enc'), { recursive: true, force: true });
    row('standardize', runKind('standardize', { params: {}, inputs: { train: s.train, val: s.val, test: s.test }, outDir: out('std') }), [s.train, s.val, s.test]);
    row('aggregate', runKind('aggregate', { params: { field: 'sizes' }, inputs: { runs: [s.info] }, outDir: out('agg') }), []);
    rmSync(join(dir, 'split'), { recursive: true, force: true });
    rmSync(join(dir, 'std'), { recursive: true, force: true });
    if (withCsv) {
      const csv = join(base, `health_${n}.csv`);
      writeCsv(csv, n);
      const csvBytes = statSync(csv).size;
      const l = runKind('load-csv', { params: { path: csv }, outDir: out('csv'), projectDir: base });
      row(`load-csv (${mb(csvBytes)} MiB CSV)`, l, []);
      rmSync(csv, { force: true });
      rmSync(join(dir, 'csv'), { recursive: true, force: true });
    }
    if (withEngine) {
      const proj = join(dir, 'engine');
      mkdirSync(proj, { recursive: true });
      writeFileSync(join(proj, 'tables.yaml'), `name: tables
stages:
  gen: {kind: generate-synthetic, params: {generator: health_risk, n: ${n}}}
  enc: {kind: encode, inputs: {train: gen.table}}
  split: {kind: split, inputs: {table: enc.train}, params: {method: stratified-kfold, k: 10, fold: 0, seed: 7}}
  std: {kind: standardize, inputs: {train: split.train, val: split.val, test: split.test}}
  agg: {kind: aggregate, inputs: {runs: [split.info]}, params: {field: sizes}}
`);
      const t0 = performance.now();
      const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, join(root, 'bin', 'pipe.js'), 'run', 'tables.yaml', '--quiet', '--jobs', '1'], { cwd: proj, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
      const sec = (performance.now() - t0) / 1000;
      if (r.status !== 0) throw new Error(`pipe run failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
      const kb = Number(r.stderr.trim().split('\n').pop());
      say(`| ${fmtRows(n)} | whole chain: \`pipe run --jobs 1\` (5 stages, largest process) | ${sec.toFixed(1)} | ${mb(kb * 1024)} | | | ${(((kb - baseKB) * 1024) / n).toFixed(1)} | |`);
      rmSync(proj, { recursive: true, force: true });
    }
    if (withNumpy) peers.push([n, numpyPeer(n), s]);
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
} finally {
  if (!keep) rmSync(base, { recursive: true, force: true });
}
if (peers.length) {
  say('');
  say('NumPy 1.24 peer (/usr/bin/python3, in-memory arrays of the same shape: 3 float32 features + int32 label; no file I/O), split + standardize:');
  say('');
  say('| rows | NumPy split s | NumPy standardize s | NumPy peak RSS MiB |');
  say('|---:|---:|---:|---:|');
  for (const [n, p] of peers) if (p) say(`| ${fmtRows(n)} | ${p.split.toFixed(2)} | ${p.std.toFixed(2)} | ${mb(p.rssKB * 1024)} |`);
}
