/**
 * Loader of pipe's native kernel library (native/build/libpipe_blas.so, C + OpenBLAS), called
 * through koffi.
 *
 * The library is built at `npm ci` by native/build.mjs (the package's `install` script), which
 * fails soft when there is no C compiler or OpenBLAS. When the library is missing or older than
 * its sources, the loader runs that build once (a few seconds) before giving up. Availability is
 * reported, never thrown at import: `blasStatus()` says whether the `blas` backend can be used
 * and why not; `blasNative()` returns the bound API or throws BlasUnavailableError.
 *
 * OpenBLAS runs single-threaded (parallelism comes from stage processes); PIPE_BLAS_THREADS
 * overrides. PIPE_BLAS_DISABLE=1 makes the library count as unavailable (fallback testing).
 */
import { createRequire } from 'node:module';
import { existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

import { NATIVE_DIR, nativeSourceFiles } from './sources.js';

export { NATIVE_DIR };
export const LIBRARY_PATH = join(NATIVE_DIR, 'build', 'libpipe_blas.so');

export class BlasUnavailableError extends Error {}

type Fn = (...args: any[]) => any;

export interface BlasNative {
  path: string;
  /** OpenBLAS version, e.g. "0.3.21". */
  openblasVersion: string;
  /** openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH … Cooperlake MAX_THREADS=64". */
  openblasConfig: string;
  threads: number;
  koffi: any;
  sgemm: Fn;
  sgemmBatch: Fn;
  biasAct: Fn;
  binary: Fn;
  unary: Fn;
  sumAxis: Fn;
  transpose2d: Fn;
  dropoutMask: Fn;
  /** Group models and per-neuron SGD: fused passes, bit-identical to their JS loops. */
  groupPow: Fn;
  groupDpow: Fn;
  groupMse: Fn;
  optSumsq: Fn;
  optNeuronNorm2: Fn;
  optNeuronStep: Fn;
  setThreads: Fn;
  getThreads: Fn;
  create: Fn;
  free: Fn;
  numParams: Fn;
  badIndex: Fn;
  getParams: Fn;
  setParams: Fn;
  snapshot: Fn;
  restore: Fn;
  setOpt: Fn;
  setData: Fn;
  trainBatch: Fn;
  predict: Fn;
  grads: Fn;
  /** The InfoMax layer step of §B (native/pb_infomax.c). */
  pimCreate: Fn;
  pimFree: Fn;
  pimGetParams: Fn;
  pimSetParams: Fn;
  pimSetData: Fn;
  pimGetOpt: Fn;
  getState: Fn;
  setState: Fn;
  pimSetOpt: Fn;
  pimForward: Fn;
  pimTrainBatch: Fn;
  pimGrads: Fn;
}

let cached: { api: BlasNative } | { error: string } | null = null;

function stale(): boolean {
  if (!existsSync(LIBRARY_PATH)) return true;
  const built = statSync(LIBRARY_PATH).mtimeMs;
  return nativeSourceFiles().some((s) => { const f = join(NATIVE_DIR, '..', s); return existsSync(f) && statSync(f).mtimeMs > built; });
}

function tryBuild(): string | null {
  const script = join(NATIVE_DIR, 'build.mjs');
  if (!existsSync(script)) return 'native/build.mjs is missing';
  try {
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    const m = /blas backend unavailable: ([^\n]*)/.exec(out);
    return m ? m[1]! : null;
  } catch (e) {
    return `build failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

function load(): BlasNative {
  if (process.env.PIPE_BLAS_DISABLE && process.env.PIPE_BLAS_DISABLE !== '0') throw new BlasUnavailableError('disabled by PIPE_BLAS_DISABLE');
  if (stale()) {
    const why = tryBuild();
    if (!existsSync(LIBRARY_PATH)) throw new BlasUnavailableError(`native library not built (${why ?? 'unknown reason'}); install OpenBLAS (Debian: libopenblas0-pthread) and run node native/build.mjs`);
  }
  let koffi: any;
  try {
    koffi = require('koffi');
  } catch (e) {
    throw new BlasUnavailableError(`the koffi FFI package is not installed: ${(e as Error).message}`);
  }
  // single-threaded OpenBLAS unless asked otherwise (read by OpenBLAS when it is loaded)
  const threads = Math.max(1, Number(process.env.PIPE_BLAS_THREADS ?? 1) || 1);
  process.env.OPENBLAS_NUM_THREADS ??= String(threads);
  let lib: any;
  try {
    lib = koffi.load(LIBRARY_PATH);
  } catch (e) {
    throw new BlasUnavailableError(`cannot load ${LIBRARY_PATH}: ${(e as Error).message.split('\n')[0]}`);
  }
  const f = (sig: string): Fn => lib.func(sig);
  if (f('int pb_abi_version(void)')() !== 1) throw new BlasUnavailableError(`${LIBRARY_PATH} has an unexpected ABI version; rebuild with node native/build.mjs`);
  const config = String(f('const char *pb_blas_config(void)')());
  const api: BlasNative = {
    path: LIBRARY_PATH,
    openblasConfig: config,
    openblasVersion: /OpenBLAS\s+([\w.]+)/.exec(config)?.[1] ?? 'unknown',
    threads,
    koffi,
    sgemm: f('void pb_sgemm(int ta, int tb, int M, int N, int K, const float *A, const float *B, float *C)'),
    sgemmBatch: f('void pb_sgemm_batch(int batch, int ta, int tb, int M, int N, int K, const float *A, long sA, const float *B, long sB, float *C)'),
    biasAct: f('void pb_bias_act(float *y, long rows, long cols, const float *bias, int mode, int act, float alpha)'),
    binary: f('int pb_binary(int op, const float *a, long na, const float *b, long nb, float *out, long n)'),
    unary: f('int pb_unary(int op, const float *x, float *out, long n)'),
    sumAxis: f('void pb_sum_axis(const float *x, long outer, long mid, long inner, float *out, double *acc)'),
    transpose2d: f('void pb_transpose2d(const float *x, long rows, long cols, float *out)'),
    dropoutMask: f('void pb_dropout_mask(float *mask, long n, double *state, float keep)'),
    groupPow: f('void pbg_pow(const float *z, long n, int k, float *H)'),
    groupDpow: f('void pbg_dpow(float *dH, const float *z, long n, int k)'),
    groupMse: f('double pbg_mse(const float *yhat, const float *y, long n, float *dY)'),
    optSumsq: f('double pbo_sumsq(const float *g, long n, double acc)'),
    optNeuronNorm2: f('void pbo_neuron_norm2(const float *v, long n, long stride, long N, double *norm2)'),
    optNeuronStep: f('void pbo_neuron_step(float *g, float *th, long n, long stride, long N, const double *factor, int clip, double coef, double rate)'),
    setThreads: f('void pb_set_threads(int n)'),
    getThreads: f('int pb_get_threads(void)'),
    create: f('void *pbt_create(int L, const int *dims, int act, int K, const int *bases, float omega, float slope, double dropout, int task, int maxB)'),
    free: f('void pbt_free(void *c)'),
    numParams: f('long pbt_num_params(void *c)'),
    badIndex: f('long pbt_bad_index(void *c)'),
    getParams: f('void pbt_get_params(void *c, float *out)'),
    setParams: f('void pbt_set_params(void *c, const float *v)'),
    snapshot: f('void pbt_snapshot(void *c)'),
    restore: f('void pbt_restore(void *c)'),
    getState: f('long pbt_get_state(void *c, float *m, float *v, float *best)'),
    setState: f('void pbt_set_state(void *c, long step, const float *m, const float *v, const float *best)'),
    setOpt: f('void pbt_set_opt(void *c, float b1, float b2, float eps, float wd, float clip)'),
    setData: f('int pbt_set_data(void *c, const float *X, long n, int d, const float *y)'),
    trainBatch: f('int pbt_train_batch(void *c, const int32_t *perm, long start, int bs, float lr, float T, float lam, double *drop, double *losses)'),
    predict: f('int pbt_predict(void *c, const float *X, long n, float T, float *out)'),
    grads: f('int pbt_grads(void *c, const int32_t *perm, long start, int bs, float T, float lam, double *drop, double *losses, float *grads)'),
    pimCreate: f('void *pim_create(int n, int K, int act, float slope, int post, int tc_mode, double lam_tc, double lam_wr, double eps, double delta, int opt, double b1, double b2, double aeps, int maxB)'),
    pimFree: f('void pim_free(void *c)'),
    pimGetParams: f('void pim_get_params(void *c, float *out)'),
    pimSetParams: f('void pim_set_params(void *c, const float *v)'),
    pimSetData: f('int pim_set_data(void *c, const float *X, long n)'),
    pimGetOpt: f('long pim_get_opt(void *c, double *m, double *v)'),
    pimSetOpt: f('void pim_set_opt(void *c, long t, const double *m, const double *v)'),
    pimForward: f('int pim_forward(void *c, const float *X, long rows, float *out)'),
    pimTrainBatch: f('int pim_train_batch(void *c, const int32_t *perm, long start, int bs, float lr, double *losses)'),
    pimGrads: f('int pim_grads(void *c, const float *X, int bs, double *losses, float *grads)'),
  };
  api.setThreads(threads);
  return api;
}

/** The bound native API (loaded once); throws BlasUnavailableError with the reason. */
export function blasNative(): BlasNative {
  if (!cached) {
    try {
      cached = { api: load() };
    } catch (e) {
      cached = { error: (e as Error).message };
    }
  }
  if ('error' in cached) throw new BlasUnavailableError(`blas backend unavailable: ${cached.error}`);
  return cached.api;
}

/** Whether the native library loads, without throwing. */
export function blasStatus(): { available: true; openblas: string; path: string } | { available: false; reason: string } {
  try {
    const a = blasNative();
    return { available: true, openblas: a.openblasVersion, path: a.path };
  } catch (e) {
    return { available: false, reason: (e as Error).message };
  }
}
