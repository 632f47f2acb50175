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

describe('pipe kinds <kind>', () => {
  it('every output, the condition of a conditional one, the curve columns; --json prints JSON', async () => {
    const { pipe: runPipe, project: mk } = await import('./helpers.js');
    const { resolvePorts } = await import('../../src/sdk/stage.js');
    const train = (await import('../../src/stages/train.js')).default;
    const dir = mk({});
    const r = await runPipe(dir, 'kinds', 'train', '--json');
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as { kind: string; outputs: { name: string; condition?: string; columns?: string[] }[] };
    expect(d.kind).toBe('train');
    expect(d.outputs.map((o) => o.name)).toEqual(['model', 'curves', 'predictions', 'metrics', 'alpha']);
    expect(d.outputs.find((o) => o.name === 'alpha')!.condition).toBe('model.activation = actmix and alpha_every > 0');
    expect(d.outputs.find((o) => o.name === 'curves')!.columns).toEqual(expect.arrayContaining(['epoch', 'val_loss', 'train_loss']));
    const text = (await runPipe(dir, 'kinds', 'train')).stdout;
    expect(text).toContain('alpha: table (only when model.activation = actmix and alpha_every > 0)');
    expect(text).toMatch(/columns: epoch, lr, temperature/);
    // the condition is what the engine applies
    expect(Object.keys(resolvePorts(train.outputs, { model: { activation: 'relu' } }))).not.toContain('alpha');
    expect(Object.keys(resolvePorts(train.outputs, { model: { activation: 'actmix' } }))).toContain('alpha');
    expect(Object.keys(resolvePorts(train.outputs, { model: { activation: 'actmix' }, alpha_every: 0 }))).not.toContain('alpha');
    // kinds whose ports the params name say so
    const cmd = JSON.parse((await runPipe(dir, 'kinds', 'command', '--json')).stdout) as { outputs: unknown };
    expect(cmd.outputs).toMatch(/named by the params/);
  });
});
