/**
 * Validators compiled once and cached across processes (src/engine/front/compiled-schema.ts): the
 * cached standalone code validates, reports errors and fills defaults exactly as ajv's own
 * compile does; a changed schema is a new cache file; a damaged cache file is ignored and
 * rewritten; an unwritable cache directory only costs the speed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileSchema, forgetCompiledSchemas, schemaCacheStats } from '../../src/engine/front/compiled-schema.js';
import { pipelineSchema } from '../../src/engine/front/pipeline-schema.js';

const schema = {
  type: 'object', additionalProperties: false, required: ['kind'],
  properties: {
    kind: { type: 'string', enum: ['a', 'b'] },
    lr: { type: 'number', exclusiveMinimum: 0, default: 0.01 },
    layers: { type: 'array', items: { $ref: '#/definitions/layer' }, default: [] },
  },
  definitions: { layer: { type: 'object', properties: { width: { type: 'integer', minimum: 1, default: 8 } } } },
};
const opts = { allErrors: true, useDefaults: true, allowUnionTypes: true } as const;
const saved = process.env.PIPE_SCHEMA_CACHE;
afterEach(() => { if (saved === undefined) delete process.env.PIPE_SCHEMA_CACHE; else process.env.PIPE_SCHEMA_CACHE = saved; forgetCompiledSchemas(); });

function check(v: ReturnType<typeof compileSchema>) {
  const good: Record<string, unknown> = { kind: 'a', layers: [{}] };
  expect(v(good)).toBe(true);
  expect(good).toEqual({ kind: 'a', lr: 0.01, layers: [{ width: 8 }] }); // defaults filled, also through $ref
  const bad = { kind: 'c', lr: 0, extra: 1 };
  expect(v(bad)).toBe(false);
  return (v.errors ?? []).map((e) => `${e.instancePath} ${e.keyword} ${e.message}`).sort();
}

describe('compiled validators cached across processes', () => {
  it('a validator loaded from the cache file behaves exactly like a fresh ajv compile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-ajv-'));
    process.env.PIPE_SCHEMA_CACHE = dir;
    const before = { ...schemaCacheStats };
    const fresh = check(compileSchema(schema, opts));
    expect(schemaCacheStats.compiled).toBe(before.compiled + 1);
    expect(readdirSync(dir)).toHaveLength(1);
    forgetCompiledSchemas(); // as a new process would
    const loaded = check(compileSchema(schema, opts));
    expect(schemaCacheStats).toMatchObject({ loaded: before.loaded + 1, compiled: before.compiled + 1 });
    expect(loaded).toEqual(fresh);
    expect(fresh).toEqual(['/kind enum must be equal to one of the allowed values', '/lr exclusiveMinimum must be > 0', ' additionalProperties must NOT have additional properties'].sort());
  });

  it('the pipeline schema round-trips through the cache', () => {
    process.env.PIPE_SCHEMA_CACHE = mkdtempSync(join(tmpdir(), 'pipe-ajv-'));
    const o = { allErrors: true, allowUnionTypes: true };
    const a = compileSchema(pipelineSchema, o);
    forgetCompiledSchemas();
    const b = compileSchema(pipelineSchema, o);
    const doc = { name: 'x', stages: { s: { kind: 'command', params: { cmd: 'true' }, bogus: 1 } } };
    expect(a(doc)).toBe(false);
    expect(b(doc)).toBe(false);
    expect(b.errors).toEqual(a.errors);
  });

  it('an edited schema is a new file; a damaged file is rewritten; an unwritable directory still validates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-ajv-'));
    process.env.PIPE_SCHEMA_CACHE = dir;
    compileSchema(schema, opts);
    compileSchema({ ...schema, required: ['kind', 'lr'] }, opts);
    const files = readdirSync(dir);
    expect(files).toHaveLength(2);
    for (const f of files) writeFileSync(join(dir, f), 'module.exports = 42; // damaged');
    forgetCompiledSchemas();
    const before = { ...schemaCacheStats };
    check(compileSchema(schema, opts));
    expect(schemaCacheStats.compiled).toBe(before.compiled + 1); // not loaded: recompiled
    expect(readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).filter((t) => t.includes('damaged'))).toHaveLength(1);

    const notADir = join(dir, 'a-file');
    writeFileSync(notADir, '');
    process.env.PIPE_SCHEMA_CACHE = join(notADir, 'sub'); // cannot be created, even by root
    forgetCompiledSchemas();
    check(compileSchema(schema, opts));
    process.env.PIPE_SCHEMA_CACHE = 'off';
    forgetCompiledSchemas();
    check(compileSchema(schema, opts));
  });
});
