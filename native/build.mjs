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
import { existsSync, mkdirSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.PIPE_NATIVE_OUT || join(here, 'build');
const quiet = process.argv.includes('--quiet');
const strict = process.argv.includes('--strict');
const log = (m) => { if (!quiet) console.log(`pipe native: ${m}`); };

export const SOURCES = ['pipe_blas.c', 'pb_math.c', 'pb.h'];

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
  if (!blas) throw new Error('OpenBLAS not found (Debian: apt-get install libopenblas0-pthread; or set PIPE_OPENBLAS)');
  const cc = process.env.CC || 'cc';
  const march = process.env.PIPE_NATIVE_MARCH ?? 'native';
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, '.gitignore'), '*\n');
  const common = ['-O3', '-fPIC', '-std=c11', '-D_POSIX_C_SOURCE=200809L', '-Wall', ...(march ? [`-march=${march}`] : [])];
  // pid-suffixed intermediates: concurrent builds (parallel stage workers) never share a file
  const tag = `${process.pid}`;
  const tmp = join(out, `libpipe_blas.so.${tag}.tmp`);
  const objMain = join(out, `pipe_blas.${tag}.o`), objMath = join(out, `pb_math.${tag}.o`);
  const run = (args) => execFileSync(cc, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    // the dropout generator must round like JavaScript: no FMA contraction in pipe_blas.c
    run([...common, '-ffp-contract=off', '-c', join(here, 'pipe_blas.c'), '-o', objMain]);
    try {
      // libmvec SIMD sin/cos/tanh/exp: -ffast-math for this file only (compile step, not link step);
      // linked without -ffast-math, so no crtfastmath.o (the Node process keeps IEEE denormals)
      run([...common, '-ffast-math', '-c', join(here, 'pb_math.c'), '-o', objMath]);
      run(['-shared', '-o', tmp, objMain, objMath, blas, `-Wl,-rpath,${dirname(blas)}`, '-lmvec', '-lm']);
    } catch {
      // no libmvec (non-glibc systems): scalar libm loops
      run([...common, '-c', join(here, 'pb_math.c'), '-o', objMath]);
      run(['-shared', '-o', tmp, objMain, objMath, blas, `-Wl,-rpath,${dirname(blas)}`, '-lm']);
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    for (const f of [objMain, objMath]) rmSync(f, { force: true });
  }
  renameSync(tmp, join(out, 'libpipe_blas.so'));
  writeFileSync(join(out, 'openblas-path'), blas + '\n');
  return blas;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  try {
    const blas = build();
    log(`built ${join(out, 'libpipe_blas.so')} against ${blas}`);
  } catch (e) {
    const msg = e.stderr ? String(e.stderr).trim() || e.message : e.message;
    rmSync(join(out, 'libpipe_blas.so'), { force: true });
    console.log(`pipe native: blas backend unavailable: ${msg.split('\n').slice(0, 6).join('\n')}`);
    if (strict) process.exit(1);
  }
}
