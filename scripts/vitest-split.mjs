// `npm test`'s vitest step: the files that run jobs on the Slurm cluster in a vitest process of
// their own, beside the rest.
//
//   node scripts/vitest-split.mjs [vitest options]
//
// test/engine/slurm.test.ts spends about two minutes waiting on the Slurm queue (a TIMEOUT test
// alone needs over a minute: Slurm's time limits are whole minutes) with the CPU idle. Inside the
// one vitest run it held one of the two test workers that whole time; here it runs alongside
// the other files, which keep both workers (maxWorkers in vitest.config.ts). The Slurm remote
// cache test (a few seconds, mostly queue waits too) goes with it.
//
// Options are passed to both processes. A JSON report (`--outputFile=<path>` or
// `--outputFile.json=<path>`) is written by each to its own file and merged into <path>; the
// Slurm files' console output is printed after the main run's. Any positional argument (a
// file filter) runs one plain `vitest run` with the arguments as given.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const SLURM_FILES = ['test/engine/slurm.test.ts', 'test/remote/slurm-remote.test.ts'];
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const args = process.argv.slice(2);

/** Runs vitest; resolves with its exit code (and its output when captured). */
function run(argv, capture) {
  const child = spawn(process.execPath, [vitest, 'run', ...argv], { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
  let out = '';
  if (capture) {
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
  }
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  return new Promise((res) => child.on('close', (code, signal) => res({ code: code ?? (signal ? 1 : 0), out })));
}

if (args.some((a) => !a.startsWith('-'))) {
  process.exit((await run(args, false)).code);
}

// the JSON report's path, if any; the Slurm process writes next to it, merged below
const jsonAt = args.findIndex((a) => /^--outputFile(\.json)?=/.test(a));
const jsonPath = jsonAt >= 0 ? args[jsonAt].slice(args[jsonAt].indexOf('=') + 1) : undefined;
const slurmJson = jsonPath && `${jsonPath}.slurm-part.json`;
const slurmArgs = jsonAt >= 0 ? args.map((a, i) => (i === jsonAt ? `${a.slice(0, a.indexOf('='))}=${slurmJson}` : a)) : args;

// one file at a time: their jobs share the one-node cluster (2 CPUs), and the long Slurm file's
// concurrent tests already fill it
const side = run([...SLURM_FILES, '--maxWorkers=1', ...slurmArgs], true);
const main = await run([...SLURM_FILES.flatMap((f) => ['--exclude', f]), ...args], false);
const slurm = await side;
process.stdout.write(`\n──── ${SLURM_FILES.join(', ')}: their own vitest process, run alongside the above ────\n${slurm.out}`);

if (jsonPath && slurmJson && existsSync(jsonPath) && existsSync(slurmJson)) {
  const a = JSON.parse(readFileSync(jsonPath, 'utf8'));
  const b = JSON.parse(readFileSync(slurmJson, 'utf8'));
  for (const k of Object.keys(a)) if (/^num[A-Z]/.test(k) && typeof a[k] === 'number' && typeof b[k] === 'number') a[k] += b[k];
  a.startTime = Math.min(a.startTime, b.startTime);
  a.success = a.success && b.success;
  a.testResults = [...a.testResults, ...b.testResults];
  writeFileSync(jsonPath, JSON.stringify(a));
  rmSync(slurmJson);
} else if (jsonPath) {
  console.error(`vitest-split: a JSON report is missing (${existsSync(jsonPath) ? slurmJson : jsonPath}); ${jsonPath} does not cover every test file`);
  if (!main.code && !slurm.code) process.exit(1);
}
process.exit(main.code || slurm.code);
