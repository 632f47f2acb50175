#!/usr/bin/env node
/**
 * Remote cache: pulling a pipeline's results against recomputing them, side by side in one run.
 *
 *   node bench/remote.mjs pipelines/actmix_cv.yaml [--jobs 2] [--set k=v …]   (after npm run build)
 *
 * Two fresh copies of this project (its tracked files) stand in for two machines sharing a
 * `dir` remote: A runs the pipeline from an empty cache with push: auto (the recompute, and the
 * upload), B pulls everything from the remote (`pipe pull`), then `pipe run` in B must run
 * nothing. The artifacts of A and B are compared byte for byte. Prints times and the ratio.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const pipeline = args.find((a) => !a.startsWith('-') && /\.ya?ml$/.test(a)) ?? 'pipelines/actmix_quick.yaml';
const jobs = args.includes('--jobs') ? args[args.indexOf('--jobs') + 1] : '2';
const sets = args.flatMap((a, i) => (a === '--set' ? ['--set', args[i + 1]] : []));
const keep = args.includes('--keep');

const root = mkdtempSync(join(tmpdir(), 'pipe-bench-remote-'));
const copyProject = (dest) => {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: repo, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    try { copyFileSync(join(repo, f), join(dest, f)); } catch { /* deleted in the work tree */ }
  }
};
const A = join(root, 'A');
const B = join(root, 'B');
const remote = join(root, 'remote');
for (const d of [A, B, remote]) mkdirSync(d, { recursive: true });
copyProject(A);
copyProject(B);
const config = join(root, 'config.yaml');
writeFileSync(config, `remotes:\n  team: {type: dir, path: ${remote}}\nremote: team\n`);
const env = { ...process.env, PIPE_CONFIG: config, CI: 'true', PIPE_ARTIFACTS: process.env.PIPE_ARTIFACTS ?? 'link', PIPE_DATA_MIRROR: process.env.PIPE_DATA_MIRROR ?? resolve(repo, '..', 'shared', 'datasets') };
const pipe = (cwd, ...a) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(repo, 'bin', 'pipe.js'), '--root', cwd, ...a], { cwd, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) { process.stderr.write(r.stdout + r.stderr); throw new Error(`pipe ${a.join(' ')} in ${cwd} exited ${r.status}`); }
  return { s, out: r.stdout + r.stderr };
};
const tree = (dir) => {
  const out = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name !== 'report.html' && !p.includes('/report/')) out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
};
const du = (d) => Number(execFileSync('du', ['-sb', d], { encoding: 'utf8' }).split('\t')[0]);

const load0 = loadavg()[0];
const run = pipe(A, 'run', pipeline, '--jobs', jobs, '--no-report', ...sets);
const pull = pipe(B, 'pull', pipeline, ...sets);
const noop = pipe(B, 'run', pipeline, '--no-report', ...sets);
const summary = (o) => /(\d+) ran, (\d+) cached, (\d+) failed/.exec(o)?.[0] ?? '?';
const ta = tree(join(A, 'artifacts'));
const tb = tree(join(B, 'artifacts'));
const same = JSON.stringify(ta) === JSON.stringify(tb);
const load1 = loadavg()[0];
console.log(`pipeline ${pipeline} (${sets.join(' ') || 'defaults'}), --jobs ${jobs}, load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${(await import('node:os')).availableParallelism()} cores`);
console.log(`| step | wall | what |`);
console.log(`|---|---:|---|`);
console.log(`| A: pipe run from an empty cache (compute + push) | ${run.s.toFixed(1)} s | ${summary(run.out)} |`);
console.log(`| B: pipe pull from the remote | ${pull.s.toFixed(1)} s | ${/pulled \d+ result\(s\)[^\n]*/.exec(pull.out)?.[0] ?? '?'} |`);
console.log(`| B: pipe run after the pull | ${noop.s.toFixed(1)} s | ${summary(noop.out)} |`);
console.log(`remote: ${(du(remote) / 1e6).toFixed(1)} MB; artifacts byte-identical in A and B: ${same ? 'yes' : 'NO'} (${Object.keys(ta).length} files)`);
console.log(`pull / recompute = ${(pull.s / run.s).toFixed(3)} (${(run.s / pull.s).toFixed(1)}× faster)`);
if (!keep) rmSync(root, { recursive: true, force: true });
else console.log(`kept ${root}`);
if (!same) process.exit(1);
