import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { kindNames, loadKinds } from '../../src/engine/front/registry.js';
import { pipelineSchema } from '../../src/engine/front/validate.js';
import { validateParams } from '../../src/engine/front/params.js';

// The engine compiles schemas without checking them against the JSON Schema meta-schema
// (start-up time); this test is that check.
describe('stage kinds are well-formed', () => {
  it('pipeline.schema.json is a valid JSON Schema', () => {
    const ajv = new Ajv({ strict: false, allowUnionTypes: true });
    expect(ajv.validateSchema(pipelineSchema)).toBe(true);
  });

  it('schemas/pipeline.schema.json is written from its one source (npm run schemas)', async () => {
    const { schemaFile, schemaText } = await import('../../scripts/write-schemas.js');
    expect(readFileSync(schemaFile, 'utf8'), 'schemas/pipeline.schema.json is stale: run `npm run schemas`').toBe(schemaText());
  });

  it('every kind: valid params schema, file named after the kind, ports resolvable', async () => {
    const kinds = await loadKinds();
    expect([...kinds.keys()].sort()).toEqual(kindNames());
    expect(kinds.has('command')).toBe(true);
    for (const [name, k] of kinds) {
      const ajv = new Ajv({ strict: false, allowUnionTypes: true });
      expect(ajv.validateSchema(k.paramsSchema), `${name}: ${ajv.errorsText()}`).toBe(true);
      expect(k.version, name).toMatch(/\S/);
      expect(k.description, name).toMatch(/\S/);
      expect(typeof k.run).toBe('function');
    }
  });

  it('command params get defaults and reject unknown fields', async () => {
    const k = (await loadKinds()).get('command')!;
    expect(validateParams(k, { cmd: 'true' })).toEqual({ cmd: 'true', deps: [], outs: {}, env: {}, shell: '/bin/sh' });
    expect(() => validateParams(k, { cmd: 'true', out: {} })).toThrow(/unknown parameter 'out'/);
  });
});
