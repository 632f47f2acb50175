/**
 * Compute-backend selection for TF.js.
 *
 *   auto            blas if pipe's native library (native/, OpenBLAS) loads, else tensorflow-gpu if
 *                   @tensorflow/tfjs-node-gpu is installed, else tensorflow if @tensorflow/tfjs-node
 *                   is installed, else wasm
 *   blas            pipe's own TF.js backend on OpenBLAS + native kernels (src/lib/ml/blas/); the
 *                   train stage runs the native training step (trainMlpNative) on it
 *   tensorflow-gpu  @tensorflow/tfjs-node-gpu (libtensorflow with CUDA)
 *   tensorflow      @tensorflow/tfjs-node (native libtensorflow, CPU)
 *   wasm            @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD)
 *   cpu             the pure-JS backend of @tensorflow/tfjs
 *
 * The native packages are optional: they are looked up, never required. A backend that was
 * asked for by name and is not available is an error (no silent fallback). `resolveBackend`
 * does not load TF.js, so stage kinds can call it from `runtime()` to put the backend and the
 * TF.js version into the fingerprint; `loadTf` loads and activates it.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { Tf } from './optim.js';
import { blasStatus } from './blas/native.js';

export const BACKENDS = ['auto', 'blas', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKENDS)[number];
export type Backend = Exclude<BackendRequest, 'auto'>;

const require = createRequire(import.meta.url);
import { packageVersion } from '../system/packages.js';

const PACKAGE: Record<Backend, string> = {
  blas: 'openblas',
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

export { packageVersion };

export class BackendUnavailableError extends Error {}

export interface ResolvedBackend {
  backend: Backend;
  /** Package providing it and its version. */
  package: string;
  version: string;
  /** Version of the TF.js API used (the `@tensorflow/tfjs` package, or the one tfjs-node brings). */
  tfjs: string;
}

export function resolveBackend(requested: BackendRequest = 'auto'): ResolvedBackend {
  if (!(BACKENDS as readonly string[]).includes(requested)) {
    throw new BackendUnavailableError(`unknown backend '${requested}' (one of ${BACKENDS.join(', ')})`);
  }
  const order: Backend[] = requested === 'auto' ? ['blas', 'tensorflow-gpu', 'tensorflow', 'wasm'] : [requested];
  let blasWhy = '';
  for (const b of order) {
    if (b === 'blas') {
      const st = blasStatus();
      if (st.available) return { backend: 'blas', package: 'openblas', version: st.openblas, tfjs: packageVersion('@tensorflow/tfjs') ?? 'unknown' };
      blasWhy = st.reason;
      continue;
    }
    const pkg = PACKAGE[b];
    const version = packageVersion(pkg);
    if (version) {
      const tfjs = packageVersion('@tensorflow/tfjs') ?? version;
      return { backend: b, package: pkg, version, tfjs };
    }
  }
  const hint: Record<Backend, string> = {
    blas: 'install OpenBLAS (Debian: libopenblas0-pthread) and a C compiler, then node native/build.mjs',
    'tensorflow-gpu': 'npm install @tensorflow/tfjs-node-gpu (needs CUDA)',
    tensorflow: 'npm install @tensorflow/tfjs-node',
    wasm: 'npm install @tensorflow/tfjs-backend-wasm',
    cpu: 'npm install @tensorflow/tfjs',
  };
  const b = order[order.length - 1]!;
  throw new BackendUnavailableError(
    requested === 'auto'
      ? `no TF.js backend is installed (${hint.wasm})`
      : b === 'blas'
        ? `backend 'blas' was requested but is unavailable (${blasWhy}); ${hint.blas}, or choose backend: wasm | cpu`
        : `backend '${requested}' was requested but ${PACKAGE[b]} is not installed; ${hint[b]}, or choose backend: wasm | cpu`,
  );
}

/** The runtime facts for a fingerprint. */
export function backendRuntime(requested: BackendRequest = 'auto'): Record<string, string> {
  const r = resolveBackend(requested);
  return { backend: r.backend, tfjs: r.tfjs, [r.package]: r.version };
}

const loaded = new Map<Backend, Promise<Tf>>();

/** Loads TF.js with the resolved backend active and returns its namespace. */
export async function loadTf(requested: BackendRequest = 'auto', opts: { wasmThreads?: number } = {}): Promise<{ tf: Tf; backend: Backend }> {
  const r = resolveBackend(requested);
  let p = loaded.get(r.backend);
  if (!p) {
    p = (async () => {
      let tf: Tf;
      if (r.backend === 'tensorflow' || r.backend === 'tensorflow-gpu') {
        tf = (await import(/* @vite-ignore */ r.package)) as unknown as Tf;
        await tf.setBackend('tensorflow');
      } else {
        tf = await import('@tensorflow/tfjs');
        if (r.backend === 'blas') {
          const { registerBlasBackend } = await import('./blas/backend.js');
          registerBlasBackend(tf);
        }
        if (r.backend === 'wasm') {
          const wasm = await import('@tensorflow/tfjs-backend-wasm');
          if (opts.wasmThreads) wasm.setThreadsCount(opts.wasmThreads);
        }
        const ok = await tf.setBackend(r.backend);
        if (!ok) throw new BackendUnavailableError(`TF.js could not initialise the '${r.backend}' backend`);
      }
      await tf.ready();
      if (tf.getBackend() !== (r.backend === 'tensorflow-gpu' ? 'tensorflow' : r.backend)) {
        throw new BackendUnavailableError(`TF.js is running '${tf.getBackend()}', not the requested '${r.backend}'`);
      }
      return tf;
    })();
    loaded.set(r.backend, p);
    p.catch(() => loaded.delete(r.backend));
  }
  const tf = await p;
  // a process may hold several backends; make sure the asked-for one is active
  const want = r.backend === 'tensorflow-gpu' ? 'tensorflow' : r.backend;
  if (tf.getBackend() !== want) await tf.setBackend(want);
  return { tf, backend: r.backend };
}
