#!/usr/bin/env node
/**
 * Builds pipe's native kernel library (native/build/libpipe_blas.so) against the system OpenBLAS.
 * Run by `npm install` / `npm ci` (package.json "install" script) and, lazily, by the loader in
 * src/lib/ml/blas/native.ts when the library is missing or older than its sources.
 *
 * It never fails the install: without a C compiler or OpenBLAS it prints that the `blas`
 * backend is unavailable and exits 0 (the `auto` backend then falls back to wasm).
 *
 *   node native/build.mjs [--quiet] [--strict]      (--strict: exit 1 on failure)
 *
 * Environment: CC (default cc), PIPE_OPENBLAS (path of libopenblas.so*), PIPE_NATIVE_MARCH
 * (default native; e.g. x86-64-v3 for a portable build), PIPE_NATIVE_OUT (output directory,
 * default native/build).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.PIPE_NATIVE_OUT || join(here, 'build');
const quiet = process.argv.includes('--quiet');
const strict = process.argv.includes('--strict');
const log = (m) => { if (!quiet) console.log(`pipe native: ${m}`); };

/** The sources, from their one list (native/sources.json; the engine's code fingerprint reads it too). */
export const SOURCES = JSON.parse(readFileSync(join(here, 'sources.json'), 'utf8')).sources;

function findOpenBlas() {
  if (process.env.PIPE_OPENBLAS) return existsSync(process.env.PIPE_OPENBLAS) ? process.env.PIPE_OPENBLAS : null;
  const candidates = [
    '/usr/lib/x86_64-linux-gnu/libopenblas.so.0',
    '/usr/lib/aarch64-linux-gnu/libopenblas.so.0',
    '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0',
    '/usr/lib64/libopenblas.so.0',
    '/usr/lib/libopenblas.so.0',
    '/usr/local/lib/libopenblas.so.0',
    '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
  ];
  for (const c of candidates) if (existsSync(c)) return c;
  try {
    const m = /\s=>\s(\S*libopenblas\S*\.so\S*)/.exec(execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    if (m) return m[1];
  } catch { /* no ldconfig */ }
  return null;
}

function build() {
  const blas = findOpenBlas();
  if (!blas) throw new Error('OpenBLAS not found (set PIPE_OPENBLAS to its libopenblas.so if it is installed somewhere unusual)');
  const cc = process.env.CC || 'cc';
  const march = process.env.PIPE_NATIVE_MARCH ?? 'native';
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, '.gitignore'), '*\n');
  const common = ['-O3', '-fPIC', '-std=c11', '-D_POSIX_C_SOURCE=200809L', '-Wall', ...(march ? [`-march=${march}`] : [])];
  // pid-suffixed intermediates: concurrent builds (parallel stage workers) never share a file
  const tag = `${process.pid}`;
  const tmp = join(out, `libpipe_blas.so.${tag}.tmp`);
  const objMain = join(out, `pipe_blas.${tag}.o`), objMath = join(out, `pb_math.${tag}.o`), objInfomax = join(out, `pb_infomax.${tag}.o`);
  const run = (args) => execFileSync(cc, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    // the dropout generator must round like JavaScript: no FMA contraction in pipe_blas.c
    run([...common, '-ffp-contract=off', '-c', join(here, 'pipe_blas.c'), '-o', objMain]);
    // the InfoMax layer step (§B): IEEE math (no errno, so Adam's sqrt loop vectorises), compared with the TF.js step to 1e-5
    run([...common, '-fno-math-errno', '-c', join(here, 'pb_infomax.c'), '-o', objInfomax]);
    try {
      // libmvec SIMD sin/cos/tanh/exp: -ffast-math for this file only (compile step, not link step);
      // linked without -ffast-math, so no crtfastmath.o (the Node process keeps IEEE denormals)
      run([...common, '-ffast-math', '-c', join(here, 'pb_math.c'), '-o', objMath]);
      run(['-shared', '-o', tmp, objMain, objMath, objInfomax, blas, `-Wl,-rpath,${dirname(blas)}`, '-lmvec', '-lm']);
    } catch {
      // no libmvec (non-glibc systems): scalar libm loops
      run([...common, '-c', join(here, 'pb_math.c'), '-o', objMath]);
      run(['-shared', '-o', tmp, objMain, objMath, objInfomax, blas, `-Wl,-rpath,${dirname(blas)}`, '-lm']);
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    for (const f of [objMain, objMath, objInfomax]) rmSync(f, { force: true });
  }
  renameSync(tmp, join(out, 'libpipe_blas.so'));
  writeFileSync(join(out, 'openblas-path'), blas + '\n');
  return blas;
}

/** OpenBLAS version and CPU kernel of a freshly built library, e.g. "OpenBLAS 0.3.21 … Haswell" (null if it cannot load). */
async function probe(lib) {
  try {
    const { createRequire } = await import('node:module');
    const koffi = createRequire(import.meta.url)('koffi');
    const h = koffi.load(lib);
    return String(h.func('const char *pb_blas_config(void)')());
  } catch {
    return null;
  }
}

function loud(lines) {
  const bar = '='.repeat(78);
  console.error(['', bar, ...lines, bar, ''].map((l) => (l ? `pipe native: ${l}` : l)).join('\n'));
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  try {
    const blas = build();
    const config = await probe(join(out, 'libpipe_blas.so'));
    const version = config ? /OpenBLAS\s+([\w.]+)/.exec(config)?.[1] : null;
    const kernel = config ? config.trim().split(/\s+/).find((w, i, all) => i > 1 && /^[A-Z][A-Za-z0-9]+$/.test(w) && !/^(DYNAMIC_ARCH|NO_AFFINITY|USE_OPENMP|MAX_THREADS)/.test(w) && all[i - 1] !== 'MAX_THREADS') : null;
    if (!quiet) console.log(`pipe native: blas backend ready — OpenBLAS ${version ?? '?'}${kernel ? ` (${kernel} kernels)` : ''}; the auto backend trains on blas`);
  } catch (e) {
    const msg = e.stderr ? String(e.stderr).trim() || e.message : e.message;
    rmSync(join(out, 'libpipe_blas.so'), { force: true });
    console.log(`pipe native: blas backend unavailable: ${msg.split('\n')[0]}`);
    loud([
      'WARNING: the native `blas` training backend could not be built.',
      `  why:  ${msg.split('\n').slice(0, 4).join('\n        ')}`,
      '  cost: training falls back to TF.js wasm, about 10x slower on these models;',
      '        pipelines that ask for `backend: blas` will refuse to start.',
      '  fix:  bash scripts/setup-system.sh      (Debian/Ubuntu: apt-get install libopenblas-dev gcc libc6-dev)',
      '        then: node native/build.mjs        (or npm rebuild); check with: npx pipe doctor',
    ]);
    if (strict) process.exit(1);
  }
}
