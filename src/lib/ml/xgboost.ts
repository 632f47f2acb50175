/**
 * The real XGBoost library (libxgboost, C API) called through koffi — no re-implementation.
 *
 * Library lookup: $PIPE_LIBXGBOOST if set (only that), else libxgboost.so.0 (Debian package `libxgboost0`), then
 * libxgboost.so / libxgboost.dylib. Only the stable C API of xgboost ≥ 1.4 is used:
 * XGDMatrixCreateFromMat, XGDMatrixSetFloatInfo, XGBoosterCreate/SetParam/UpdateOneIter/
 * Predict/SaveModelToBuffer/Free, XGBGetLastError, XGBoostVersion.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Fn = (...args: unknown[]) => unknown;
interface Api {
  version: string;
  path: string;
  koffi: any;
  XGBGetLastError: Fn;
  XGDMatrixCreateFromMat: Fn;
  XGDMatrixSetFloatInfo: Fn;
  XGDMatrixFree: Fn;
  XGBoosterCreate: Fn;
  XGBoosterSetParam: Fn;
  XGBoosterUpdateOneIter: Fn;
  XGBoosterPredict: Fn;
  XGBoosterSaveModelToBuffer: Fn;
  XGBoosterFree: Fn;
}

export class XGBoostUnavailableError extends Error {}

let api: Api | null = null;

/** Library names tried in order; $PIPE_LIBXGBOOST, when set, is the only one (no fallback). */
export function candidates(): string[] {
  if (process.env.PIPE_LIBXGBOOST) return [process.env.PIPE_LIBXGBOOST];
  return ['libxgboost.so.0', 'libxgboost.so', '/usr/lib/x86_64-linux-gnu/libxgboost.so.0', '/usr/lib/aarch64-linux-gnu/libxgboost.so.0', 'libxgboost.dylib'];
}

/** Loads libxgboost (once). Throws XGBoostUnavailableError with install instructions if absent. */
export function xgboostApi(): Api {
  api ??= openXgboost(candidates());
  return api;
}

/** Binds the C API of the first loadable library among `paths`. */
export function openXgboost(paths: string[]): Api {
  let koffi: any;
  try {
    koffi = require('koffi');
  } catch (e) {
    throw new XGBoostUnavailableError(`the koffi FFI package is not installed (npm install koffi): ${(e as Error).message}`);
  }
  let lib: any = null, path = '';
  const errors: string[] = [];
  for (const c of paths) {
    try { lib = koffi.load(c); path = c; break; } catch (e) { errors.push(`${c}: ${(e as Error).message.split('\n')[0]}`); }
  }
  if (!lib) {
    throw new XGBoostUnavailableError(
      'libxgboost was not found. Install the Debian package libxgboost0 (apt-get install libxgboost0) ' +
      `or point PIPE_LIBXGBOOST at a libxgboost shared library. Tried: ${errors.join('; ')}`,
    );
  }
  const f = (sig: string) => lib.func(sig) as Fn;
  const ver = f('void XGBoostVersion(_Out_ int *major, _Out_ int *minor, _Out_ int *patch)');
  const a = [0], b = [0], c = [0];
  ver(a, b, c);
  return {
    version: `${a[0]}.${b[0]}.${c[0]}`, path, koffi,
    XGBGetLastError: f('const char *XGBGetLastError()'),
    XGDMatrixCreateFromMat: f('int XGDMatrixCreateFromMat(const float *data, uint64_t nrow, uint64_t ncol, float missing, _Out_ void **out)'),
    XGDMatrixSetFloatInfo: f('int XGDMatrixSetFloatInfo(void *handle, const char *field, const float *array, uint64_t len)'),
    XGDMatrixFree: f('int XGDMatrixFree(void *handle)'),
    XGBoosterCreate: f('int XGBoosterCreate(void **dmats, uint64_t len, _Out_ void **out)'),
    XGBoosterSetParam: f('int XGBoosterSetParam(void *handle, const char *name, const char *value)'),
    XGBoosterUpdateOneIter: f('int XGBoosterUpdateOneIter(void *handle, int iter, void *dtrain)'),
    XGBoosterPredict: f('int XGBoosterPredict(void *handle, void *dmat, int option_mask, unsigned int ntree_limit, int training, _Out_ uint64_t *out_len, _Out_ void **out_result)'),
    XGBoosterSaveModelToBuffer: f('int XGBoosterSaveModelToBuffer(void *handle, const char *config, _Out_ uint64_t *out_len, _Out_ void **out_dptr)'),
    XGBoosterFree: f('int XGBoosterFree(void *handle)'),
  };
}

function check(a: Api, rc: unknown, what: string): void {
  if (rc !== 0) throw new Error(`xgboost ${what} failed: ${String(a.XGBGetLastError())}`);
}

export class DMatrix {
  handle: unknown;
  constructor(private a: Api, X: Float32Array, n: number, d: number, label?: Float32Array) {
    const out = [null];
    check(a, a.XGDMatrixCreateFromMat(X, n, d, NaN, out), 'XGDMatrixCreateFromMat');
    this.handle = out[0];
    if (label) check(a, a.XGDMatrixSetFloatInfo(this.handle, 'label', label, label.length), 'XGDMatrixSetFloatInfo');
  }
  free(): void {
    if (this.handle) this.a.XGDMatrixFree(this.handle);
    this.handle = null;
  }
}

export class Booster {
  handle: unknown;
  constructor(private a: Api, dtrain: DMatrix, params: Record<string, string | number>) {
    const out = [null];
    check(a, a.XGBoosterCreate([dtrain.handle], 1, out), 'XGBoosterCreate');
    this.handle = out[0];
    for (const [k, v] of Object.entries(params)) check(a, a.XGBoosterSetParam(this.handle, k, String(v)), `XGBoosterSetParam(${k}=${v})`);
  }
  update(iter: number, dtrain: DMatrix): void {
    check(this.a, this.a.XGBoosterUpdateOneIter(this.handle, iter, dtrain.handle), 'XGBoosterUpdateOneIter');
  }
  /** Normal prediction (probabilities for classification objectives), flat Float32Array. */
  predict(d: DMatrix): Float32Array {
    const len = [0], ptr = [null];
    check(this.a, this.a.XGBoosterPredict(this.handle, d.handle, 0, 0, 0, len, ptr), 'XGBoosterPredict');
    const n = Number(len[0]);
    return Float32Array.from(this.a.koffi.decode(ptr[0], 'float', n) as number[]);
  }
  /** The model in XGBoost's JSON format. */
  saveJson(): Buffer {
    const len = [0], ptr = [null];
    check(this.a, this.a.XGBoosterSaveModelToBuffer(this.handle, '{"format": "json"}', len, ptr), 'XGBoosterSaveModelToBuffer');
    const n = Number(len[0]);
    return Buffer.from(this.a.koffi.decode(ptr[0], 'uint8_t', n) as number[]);
  }
  free(): void {
    if (this.handle) this.a.XGBoosterFree(this.handle);
    this.handle = null;
  }
}
