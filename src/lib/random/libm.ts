/**
 * The C library's `log`, `log1p` and `exp`, the functions NumPy's generators call: glibc's are not
 * correctly rounded everywhere and differ from V8's `Math` in the last bit on some arguments, so
 * drawing NumPy's exact numbers needs the same libm. Called through koffi (the FFI pipe already
 * uses for OpenBLAS and libxgboost); where no libm can be loaded (not Linux, koffi missing) the
 * correctly rounded `crLog` and V8's `Math` stand in and `libmSource` says so.
 */
import { createRequire } from 'node:module';

type F = (x: number) => number;
let fns: { log: F; log1p: F; exp: F; source: string } | undefined;

function load(fallbackLog: F): { log: F; log1p: F; exp: F; source: string } {
  try {
    const require = createRequire(import.meta.url);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const koffi: any = require('koffi');
    const lib = koffi.load(process.platform === 'darwin' ? 'libSystem.B.dylib' : 'libm.so.6');
    return { log: lib.func('double log(double)'), log1p: lib.func('double log1p(double)'), exp: lib.func('double exp(double)'), source: 'libm' };
  } catch {
    return { log: fallbackLog, log1p: Math.log1p, exp: Math.exp, source: 'js' };
  }
}

/** The C library's functions (loaded once); `fallbackLog` is used where none can be loaded. */
export function libm(fallbackLog: F): { log: F; log1p: F; exp: F; source: string } {
  return (fns ??= load(fallbackLog));
}
