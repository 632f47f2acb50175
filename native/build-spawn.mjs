#!/usr/bin/env node
/**
 * Builds pipe's process spawner (native/build/libpipe_spawn.so from native/pipe_spawn.c; Linux,
 * a C compiler, nothing else). Run by `npm install` / `npm ci` after native/build.mjs, and lazily
 * by src/lib/script/fast-spawn.ts when the library is missing or older than its source.
 *
 * It never fails the install: without it script and command stages are spawned by Node under
 * util-linux setpriv, as before (slower per process, the same guarantees).
 *
 *   node native/build-spawn.mjs [--quiet] [--strict]      (--strict: exit 1 on failure)
 *
 * Environment: CC (default cc), PIPE_NATIVE_OUT (output directory, default native/build).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.PIPE_NATIVE_OUT || join(here, 'build');
const quiet = process.argv.includes('--quiet');
const strict = process.argv.includes('--strict');

try {
  if (process.platform !== 'linux') throw new Error(`not Linux (${process.platform})`);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, '.gitignore'), '*\n');
  // pid-suffixed intermediate: workers that build at once never share a file
  const tmp = join(out, `libpipe_spawn.so.${process.pid}.tmp`);
  try {
    execFileSync(process.env.CC || 'cc', ['-O2', '-fPIC', '-shared', '-Wall', '-Werror', '-o', tmp, join(here, 'pipe_spawn.c')], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  renameSync(tmp, join(out, 'libpipe_spawn.so'));
  if (!quiet) console.log('pipe native: spawner ready (script and command stages start without a fork of the worker or a setpriv exec)');
} catch (e) {
  const msg = e.stderr ? String(e.stderr).trim() || e.message : e.message;
  console.log(`pipe native: spawner unavailable: ${msg.split('\n')[0]} (stages are spawned by Node under setpriv instead)`);
  if (strict) process.exit(1);
}
