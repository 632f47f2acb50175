/**
 * Where the native library's sources are, from their one list (native/sources.json, which
 * native/build.mjs compiles). The loader checks them for a stale build; the engine's code
 * fingerprint adds them (and the build script, whose flags change results) to the closure of
 * every module that loads the library.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** native/ at the package root (src/lib/ml/blas → ../../../../native; same from dist/). */
export const NATIVE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'native');

let list: string[] | undefined;

/** Package-root-relative paths of everything the native library is built from: sources, the list, the build script. */
export function nativeSourceFiles(): string[] {
  list ??= [
    ...(JSON.parse(readFileSync(join(NATIVE_DIR, 'sources.json'), 'utf8')) as { sources: string[] }).sources,
    'sources.json',
    'build.mjs',
  ].map((f) => `native/${f}`);
  return list;
}
