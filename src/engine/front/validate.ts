/**
 * Step 2 — validate: the pipeline file against its JSON Schema (pipeline-schema.ts; ajv), and every
 * stage's `kind` against the registry. Errors point at file:line:col with a did-you-mean.
 */
import { compileSchema, type ErrorObject } from './compiled-schema.js';
import { PipeError, PipeErrors, didYouMean } from '../errors.js';
import type { DocPath, LoadedFile } from './load.js';
import type { StageKind } from '../../sdk/stage.js';
import { pipelineSchema, type PipelineSchemaDoc } from './pipeline-schema.js';
import { checkResources } from './resources.js';

/** A validated pipeline document; its type is derived from the schema (pipeline-schema.ts). */
export type PipelineDoc = PipelineSchemaDoc & { params: Record<string, unknown> };
export type StageDecl = PipelineSchemaDoc['stages'][string];
/** `seed: {derive: [fold]}`: the seed is derived from the pipeline seed (or `base`) and these matrix keys. */
export type SeedDerive = Extract<NonNullable<StageDecl['seed']>, { derive: unknown }>;
/** `when:` — a boolean (or `${…}` giving one), `{equals: [a, b]}`, `{not_equals: [a, b]}` or `{in: [a, [b, c]]}`. */
export type WhenDecl = NonNullable<StageDecl['when']>;

export { pipelineSchema };

// No defaults here (the document is validated as written); meta-schema check is in the tests.
// Compiled on first use: a command whose graph comes from the graph cache validates nothing.
let docValidator: ReturnType<typeof compileSchema> | undefined;
const validator = () => (docValidator ??= compileSchema(pipelineSchema, { allErrors: true, strict: false, allowUnionTypes: true, validateSchema: false }));

const TOP_FIELDS = ['name', 'description', 'seed', 'report', 'metrics', 'params', 'stages', 'executor', 'resources', 'slurm'];
const STAGE_FIELDS = ['kind', 'description', 'params', 'seed', 'inputs', 'matrix', 'when', 'resources'];

function pathOf(e: ErrorObject): DocPath {
  return e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function metricName(e: ErrorObject, path: DocPath): { path: DocPath; message: string; key?: boolean } {
  const name = (e as ErrorObject & { propertyName?: string }).propertyName ?? (e.params as { propertyName?: string }).propertyName;
  return { path: name ? [...path, name] : path, key: true, message: `metrics: invalid metric name${name ? ` '${name}'` : ''} (a metric name as stages report it, or stage.metric: letters, digits, '_', '.', '-', and [k=v] for one matrix instance)` };
}

function describe(e: ErrorObject, path: DocPath): { path: DocPath; message: string; key?: boolean } {
  const where = path.length ? path.join('.') : 'pipeline';
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const fields = path.length === 0 ? TOP_FIELDS : path.length === 2 && path[0] === 'stages' ? STAGE_FIELDS : [];
      return { path: [...path, extra], key: true, message: `unknown field '${extra}' in ${where}${didYouMean(extra, fields)}` };
    }
    case 'required':
      return { path, message: `${where}: missing required field '${(e.params as { missingProperty: string }).missingProperty}'` };
    case 'propertyNames':
      if (path[0] === 'metrics') return metricName(e, path);
      return { path, message: `${where}: invalid name (stage names are letters, digits, '_' and '-', starting with a letter or '_')` };
    case 'pattern':
      if (path[0] === 'metrics' && path.length === 1) return metricName(e, path);
      if (e.parentSchema && (e.parentSchema as { description?: string }).description?.startsWith('stage.output')) {
        return { path, message: `${where}: '${String(e.data)}' is not a reference; write stage.output, stage[key=value].output or stage[*].output` };
      }
      return { path, message: `${where}: '${String(e.data)}' has an invalid form` };
    case 'type':
      return { path, message: `${where} must be ${(e.params as { type: string }).type}` };
    case 'enum':
      return { path, message: `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'minProperties':
      return { path, message: `${where} must not be empty` };
    default:
      return { path, message: `${where} ${e.message ?? 'is invalid'}` };
  }
}

export function validatePipeline(file: LoadedFile, kinds: Map<string, StageKind>, allKinds: string[] = [...kinds.keys()]): PipelineDoc {
  const data = file.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new PipeError('a pipeline file must be a YAML mapping with `name` and `stages`', file.locate([]));
  }
  const validateDoc = validator();
  if (!validateDoc(data)) {
    const errs = validateDoc.errors ?? [];
    // oneOf produces one error per branch plus the oneOf itself; keep the most specific per path.
    const byPath = new Map<string, ErrorObject>();
    for (const e of errs) {
      const k = e.instancePath + (e.keyword === 'additionalProperties' ? `/${(e.params as { additionalProperty: string }).additionalProperty}` : '');
      const prev = byPath.get(k);
      if (!prev || (prev.keyword === 'oneOf' && e.keyword !== 'oneOf') || e.keyword === 'additionalProperties' || e.keyword === 'required') byPath.set(k, e);
    }
    // drop errors of a parent when a child error exists
    const keys = [...byPath.keys()];
    const kept = keys.filter((k) => !keys.some((o) => o !== k && o.startsWith(k + '/') && byPath.get(k)!.keyword === 'oneOf'));
    throw new PipeErrors(kept.map((k) => {
      const e = byPath.get(k)!;
      const d = describe(e, pathOf(e));
      return new PipeError(d.message, file.locate(d.path, { key: d.key }));
    }));
  }
  const doc = data as PipelineDoc;
  doc.params ??= {};
  const errors: PipeError[] = [...checkResources(doc.resources, file, ['resources'])];
  for (const [id, st] of Object.entries(doc.stages)) {
    errors.push(...checkResources(st.resources, file, ['stages', id, 'resources']));
    if (!kinds.has(st.kind)) {
      errors.push(new PipeError(`stage '${id}': unknown stage kind '${st.kind}'${didYouMean(st.kind, allKinds)}`, file.locate(['stages', id, 'kind'])));
    }
  }
  if (errors.length) throw new PipeErrors(errors);
  return doc;
}
