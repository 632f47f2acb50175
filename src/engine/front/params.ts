/**
 * Validation of a stage's params against its kind's JSON Schema (ajv, defaults filled in).
 * Errors carry the JSON path inside `params` so the engine can point at file:line:col.
 */
import { compileSchema, type ValidateFunction, type ErrorObject } from './compiled-schema.js';
import type { StageKind } from '../../sdk/stage.js';

/**
 * ajv options of params validation (compiled once per schema and cached across processes, see
 * compiled-schema.ts). `validateSchema: false` skips compiling the JSON Schema meta-schema; kinds'
 * schemas are checked against it in the test suite instead.
 */
const PARAMS_OPTIONS = { allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true, validateSchema: false } as const;

const cache = new WeakMap<object, ValidateFunction>();

export interface ParamIssue {
  /** Path inside `params`, e.g. ['training', 'lr']. */
  path: (string | number)[];
  message: string;
}

export class ParamsError extends Error {
  constructor(readonly kind: string, readonly issues: ParamIssue[]) {
    super(issues.map((i) => `params${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}: ${i.message}`).join('; '));
  }
}

export function describeAjvError(e: ErrorObject): ParamIssue {
  const path = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  let message = e.message ?? 'invalid';
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    path.push(extra);
    message = `unknown parameter '${extra}'`;
  } else if (e.keyword === 'enum') {
    message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (e.keyword === 'required') {
    message = `missing required parameter '${(e.params as { missingProperty: string }).missingProperty}'`;
  }
  return { path, message };
}

/** Returns a deep copy of `raw` with defaults applied, or throws ParamsError. */
export function validateParams<P>(kind: StageKind<P>, raw: unknown): P {
  let v = cache.get(kind.paramsSchema);
  if (!v) {
    v = compileSchema(kind.paramsSchema as object, PARAMS_OPTIONS);
    cache.set(kind.paramsSchema, v);
  }
  const copy = structuredClone(raw ?? {});
  if (!v(copy)) {
    // additionalProperties and "if" errors duplicate each other; keep distinct messages
    const seen = new Set<string>();
    const issues = (v.errors ?? []).filter((e) => e.keyword !== 'if').map(describeAjvError).filter((i) => {
      const k = i.path.join('.') + i.message;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    throw new ParamsError(kind.kind, issues);
  }
  return copy as P;
}
