/**
 * JSON Schema validators with their compiled code cached across processes. ajv turns a schema
 * into JavaScript at run time; for the pipeline schema that costs more than everything else a
 * no-op `pipe run` does. Here every validator is compiled once per (schema, options, ajv
 * version): ajv's standalone code (https://ajv.js.org/standalone.html) is written to
 * `~/.cache/pipe/ajv/<hash>.js` ($XDG_CACHE_HOME, or `PIPE_SCHEMA_CACHE`; `off` disables it) and
 * later processes load that file instead of importing and running ajv's compiler.
 *
 * The key is the sha256 of the schema's JSON, the options and ajv's version, so an edited schema
 * is a new file, never a stale validator. A cache file that cannot be read, parsed or run is
 * ignored and rewritten; a cache directory that cannot be written costs only the speed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Options, ValidateFunction } from 'ajv';

export type { ValidateFunction, ErrorObject } from 'ajv';

// not `require`: the coordinator's bundle defines that name in every chunk (scripts/bundle-cli.mjs)
const requireCjs = createRequire(import.meta.url);
let ajvVersion: string | null = null;
const version = () => (ajvVersion ??= (requireCjs('ajv/package.json') as { version: string }).version);

/**
 * A directory of pipe's per-user cache: `$XDG_CACHE_HOME/pipe/<sub>` (default `~/.cache`), or
 * what the environment variable `envVar` names; `off` or `0` there disables that cache (null).
 */
export function userCacheDir(envVar: string, sub: string): string | null {
  const env = process.env[envVar];
  if (env === 'off' || env === '0') return null;
  if (env) return env;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pipe', sub);
}

const cacheDir = () => userCacheDir('PIPE_SCHEMA_CACHE', 'ajv');

const inProcess = new Map<string, ValidateFunction>();
export const schemaCacheStats = { loaded: 0, compiled: 0 };

/** A validator for `schema` with ajv `options` (`code.source` is added; strict off by default). */
export function compileSchema(schema: object, options: Options = {}): ValidateFunction {
  const opts: Options = { strict: false, validateSchema: false, ...options, code: { source: true, lines: false, ...(options.code ?? {}) } };
  const key = createHash('sha256').update(JSON.stringify([schema, opts, version()])).digest('hex').slice(0, 32);
  const known = inProcess.get(key);
  if (known) return known;
  const dir = cacheDir();
  const file = dir ? join(dir, `${key}.cjs`) : null;
  let v: ValidateFunction | null = null;
  if (file) {
    try {
      v = load(readFileSync(file, 'utf8'));
      schemaCacheStats.loaded++;
    } catch { v = null; }
  }
  if (!v) {
    const { Ajv } = requireCjs('ajv') as typeof import('ajv');
    const standalone = (requireCjs('ajv/dist/standalone') as { default: (ajv: unknown, v: ValidateFunction) => string }).default;
    const ajv = new Ajv(opts);
    const compiled = ajv.compile(schema);
    schemaCacheStats.compiled++;
    v = compiled;
    if (file) {
      try {
        const code = standalone(ajv, compiled);
        load(code); // only code that loads is kept
        mkdirSync(dir!, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, code);
        renameSync(tmp, file);
      } catch { /* an unwritable cache only costs speed */ }
    }
  }
  inProcess.set(key, v);
  return v;
}

/** Forgets the validators of this process (tests: the next call reads the cache file). */
export function forgetCompiledSchemas(): void {
  inProcess.clear();
}

function load(code: string): ValidateFunction {
  const module = { exports: {} as unknown };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('module', 'exports', 'require', code)(module, module.exports, requireCjs);
  const v = module.exports as ValidateFunction | { default?: ValidateFunction };
  const fn = typeof v === 'function' ? v : v.default;
  if (typeof fn !== 'function') throw new Error('not a validator');
  return fn;
}
