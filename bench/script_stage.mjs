// Per-stage overhead of a `kind: python` stage (manifest, pipe_stage helper, line protocol,
// output checks, code tracking) against a bare `kind: command` stage, side by side.
//   npm run build && node bench/script_stage.mjs [stages=40] [rounds=3]
// Each variant: a fresh project with N independent stages, `pipe run --jobs 1` from an empty
// cache, best of R interleaved rounds; per stage = (wall(N) − wall(1)) / (N − 1), so Node start-up and
// pipeline loading are not counted.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'pipe.js');
const N = Number(process.argv[2] ?? 40);
const R = Number(process.argv[3] ?? 3);
const PY = process.env.PIPE_PYTHON ?? '/usr/bin/python3';

const variants = {
  'command (sh: echo)': (i) => `  s${i}:\n    kind: command\n    params: {cmd: 'echo ${i} > \${outputs.o}', outs: {o: text}}\n`,
  'command (python3 -c, no helper)': (i) => `  s${i}:\n    kind: command\n    params: {cmd: '${PY} -c "import sys; open(sys.argv[1], \\"w\\").write(\\"${i}\\")" \${outputs.o}', outs: {o: text}}\n`,
  'python (pipe_stage helper, protocol, checks)': (i) => `  s${i}:\n    kind: python\n    params: {script: s.py, outs: {o: json}, params: {i: ${i}}}\n`,
};
const SCRIPT = "import json\nfrom pipe_stage import params, output, metric\nmetric('i', params['i'])\njson.dump(params, open(output('o'), 'w'))\n";

function once(make, n) {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-bench-script-'));
  writeFileSync(join(dir, 'p.yaml'), `name: b\nstages:\n${Array.from({ length: n }, (_, i) => make(i)).join('')}`);
  writeFileSync(join(dir, 's.py'), SCRIPT);
  const t0 = process.hrtime.bigint();
  execFileSync(process.execPath, [bin, 'run', 'p.yaml', '--jobs', '1', '--quiet'], { cwd: dir, env: { ...process.env, PIPE_PYTHON: PY, CI: 'true' }, stdio: 'pipe' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}, ${PY}, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(`${N} independent stages, --jobs 1, best of ${R} interleaved rounds; per stage = (wall(${N}) − wall(1)) / ${N - 1}\n`);
const best = Object.fromEntries(Object.keys(variants).map((k) => [k, { one: Infinity, many: Infinity }]));
for (let r = 0; r < R; r++) {
  for (const [name, make] of Object.entries(variants)) {
    best[name].one = Math.min(best[name].one, once(make, 1));
    best[name].many = Math.min(best[name].many, once(make, N));
  }
}
const rows = Object.entries(best).map(([name, b]) => ({ name, ...b, per: (b.many - b.one) / (N - 1) }));
const base = rows[0].per;
console.log('| stage | wall, 1 stage | wall, ' + N + ' stages | per stage | × command |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${(r.one / 1000).toFixed(2)} s | ${(r.many / 1000).toFixed(2)} s | ${r.per.toFixed(1)} ms | ${(r.per / base).toFixed(2)} |`);
console.log(`load after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
