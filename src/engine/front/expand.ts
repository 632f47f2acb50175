/**
 * Step 3 — expand: apply `--set` overrides, interpolate `${params.…}` / `${matrix.…}`, expand
 * `matrix:` into stage instances (`train[fold=3,model=relu]`), and validate each instance's
 * params against its kind's schema (defaults filled in).
 */
import { frontLibs } from '../../lib/front-libs.js';
import { PipeError, PipeErrors, didYouMean } from '../errors.js';
import { compileSchema, type ValidateFunction } from './compiled-schema.js';
import { pipelineSchema } from './pipeline-schema.js';
import type { DocPath, LoadedFile } from './load.js';
import { ParamsError, validateParams } from './params.js';
import { resolvePorts, type InputSpec, type MatrixValues, type Scalar, type StageKind } from '../../sdk/stage.js';
import type { PipelineDoc, SeedDerive, StageDecl, WhenDecl } from './validate.js';
import { canonicalJson, sha256 } from '../../lib/hash.js';
import { checkResourcesValue } from './resources.js';

export interface RefSelector {
  /** Explicit constraints, e.g. {fold: 3}. */
  where: MatrixValues;
  /** `[*]` or a selector: gather every matching instance. */
  gather: boolean;
}

export interface InputRefDecl {
  text: string;
  stage: string;
  output: string;
  selector: RefSelector;
  path: DocPath;
}

export interface StageInstance {
  id: string;
  base: string;
  kind: StageKind;
  matrix: MatrixValues;
  /** Params after interpolation, overrides and schema defaults. */
  params: unknown;
  seed: number;
  inputs: Record<string, { refs: InputRefDecl[]; spec: InputSpec }>;
  decl: StageDecl;
}

export interface ExpandedPipeline {
  name: string;
  file: LoadedFile;
  doc: PipelineDoc;
  params: Record<string, unknown>;
  instances: StageInstance[];
  /** Stages whose `when:` switched every instance off, with the condition as evaluated. */
  disabled: Map<string, string>;
  /** `report: {headline: […]}`: the outputs the report opens with (every reference gathers). */
  headline: InputRefDecl[];
}

export function instanceId(base: string, matrix: MatrixValues): string {
  const keys = Object.keys(matrix);
  return keys.length ? `${base}[${keys.map((k) => `${k}=${matrix[k]}`).join(',')}]` : base;
}

// ---------------------------------------------------------------- overrides

function leafPaths(o: unknown, prefix = ''): string[] {
  if (o && typeof o === 'object' && !Array.isArray(o)) {
    return Object.entries(o).flatMap(([k, v]) => [prefix + k, ...leafPaths(v, prefix + k + '.')]);
  }
  return [];
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown, create: boolean): boolean {
  let o: Record<string, unknown> = target;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i]!;
    if (!(k in o) || typeof o[k] !== 'object' || o[k] === null || Array.isArray(o[k])) {
      if (!create) return false;
      o[k] = {};
    }
    o = o[k] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1]!;
  if (!(last in o) && !create) return false;
  o[last] = value;
  return true;
}

let seedValidator: ValidateFunction | null = null;
const validSeed = (v: unknown): boolean => (seedValidator ??= compileSchema(pipelineSchema.properties.seed))(v);

export function applyOverrides(doc: PipelineDoc, file: LoadedFile, overrides: string[]): PipelineDoc {
  const out = structuredClone(doc);
  const errors: PipeError[] = [];
  for (const raw of overrides) {
    const eq = raw.indexOf('=');
    if (eq <= 0) {
      errors.push(new PipeError(`--set ${raw}: expected path=value (e.g. --set training.lr=0.01)`, file.locate(['params'], { key: true })));
      continue;
    }
    let path = raw.slice(0, eq).trim();
    const add = path.startsWith('+');
    if (add) path = path.slice(1);
    let value: unknown;
    try {
      value = frontLibs().parseYamlValue(raw.slice(eq + 1));
    } catch {
      value = raw.slice(eq + 1);
    }
    const keys = path.split('.');
    if (keys[0] === 'stages') {
      const st = keys[1];
      if (!st || !(st in out.stages)) {
        errors.push(new PipeError(`--set ${raw}: no stage '${st ?? ''}'${didYouMean(st ?? '', Object.keys(out.stages))}`, file.locate(['stages'], { key: true })));
        continue;
      }
      const decl = out.stages[st]!;
      if (keys[2] === 'seed' && keys.length === 3) { decl.seed = value as number; continue; }
      if (keys[2] === 'resources' && keys.length === 4) {
        decl.resources = { ...decl.resources, [keys[3]!]: value };
        continue;
      }
      if (keys[2] !== 'params' || keys.length < 4) {
        errors.push(new PipeError(`--set ${raw}: stage overrides look like stages.${st}.params.<name>=value, stages.${st}.resources.<name>=value or stages.${st}.seed=N`, file.locate(['stages', st], { key: true })));
        continue;
      }
      decl.params ??= {};
      setPath(decl.params, keys.slice(3), value, true);
      continue;
    }
    if (keys[0] === 'resources' && keys.length === 2 && !('resources' in out.params)) {
      out.resources = { ...out.resources, [keys[1]!]: value };
      continue;
    }
    if (path === 'seed' && !('seed' in out.params)) {
      // validated exactly like `seed:` in the file (an integer): 'abc' must not become a stream
      if (!validSeed(value)) {
        errors.push(new PipeError(`--set ${raw}: seed must be an integer (as \`seed:\` in the file), got ${JSON.stringify(value)}`, file.locate(doc.seed !== undefined ? ['seed'] : ['name'], { key: true })));
        continue;
      }
      out.seed = value as number;
      continue;
    }
    if (!setPath(out.params, keys, value, add)) {
      errors.push(new PipeError(`--set ${raw}: no pipeline param '${path}'${didYouMean(path, leafPaths(out.params))} (use --set +${path}=… to add one)`, file.locate(['params'], { key: true })));
    }
  }
  if (errors.length) throw new PipeErrors(errors);
  return out;
}

// ------------------------------------------------------------ interpolation

const WHOLE = /^\$\{([^}]+)\}$/;
const ANY = /\$\{([^}]+)\}/g;
const PASS_THROUGH = /^(inputs|outputs)\./;

interface Scope {
  params: Record<string, unknown>;
  matrix: MatrixValues;
  file: LoadedFile;
  seed?: number;
}

function lookup(expr: string, scope: Scope, path: DocPath): unknown {
  const e = expr.trim();
  const [ns, ...rest] = e.split('.');
  if (ns === 'params') {
    let v: unknown = scope.params;
    for (let i = 0; i < rest.length; i++) {
      const k = rest[i]!;
      if (v && typeof v === 'object' && k in (v as object)) v = (v as Record<string, unknown>)[k];
      else {
        const have = rest.slice(0, i).join('.');
        throw new PipeError(`\${${e}}: no pipeline param '${rest.join('.')}'${didYouMean(rest.join('.'), leafPaths(scope.params))}${have ? ` (under params.${have})` : ''}`, scope.file.locate(path));
      }
    }
    return v;
  }
  if (ns === 'matrix') {
    const k = rest.join('.');
    if (!(k in scope.matrix)) {
      const keys = Object.keys(scope.matrix);
      throw new PipeError(`\${${e}}: ${keys.length ? `no matrix key '${k}'${didYouMean(k, keys)}` : 'this stage has no matrix'}`, scope.file.locate(path));
    }
    return scope.matrix[k];
  }
  throw new PipeError(`\${${e}}: unknown namespace '${ns}' (use \${params.…} or \${matrix.…}; \${inputs.…}/\${outputs.…} are for command strings)`, scope.file.locate(path));
}

export function interpolate(value: unknown, scope: Scope, path: DocPath): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole && !PASS_THROUGH.test(whole[1]!.trim())) return structuredClone(lookup(whole[1]!, scope, path));
    if (!value.includes('${')) return value;
    return value.replace(ANY, (m, expr: string) => {
      if (PASS_THROUGH.test(expr.trim())) return m;
      const v = lookup(expr, scope, path);
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, scope, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, scope, [...path, k])]));
  }
  return value;
}

// ------------------------------------------------------------------ matrix

function matrixAxes(base: string, decl: StageDecl, scope: Scope): [string, Scalar[]][] {
  const axes: [string, Scalar[]][] = [];
  for (const [key, spec] of Object.entries(decl.matrix ?? {})) {
    if (key === 'exclude') continue;
    const path: DocPath = ['stages', base, 'matrix', key];
    let values: unknown = interpolate(spec, scope, path);
    if (values && typeof values === 'object' && !Array.isArray(values) && 'range' in values) {
      const r = (values as { range: unknown }).range;
      const nums = (Array.isArray(r) ? r : [0, r]).map(Number);
      if (nums.some((x) => !Number.isInteger(x))) throw new PipeError(`matrix.${key}: range must be integers, got ${JSON.stringify(r)}`, scope.file.locate(path));
      const [start, stop, step = 1] = nums as [number, number, number?];
      if (step === 0 || (stop - start) / step > 100000) throw new PipeError(`matrix.${key}: bad range ${JSON.stringify(r)}`, scope.file.locate(path));
      values = [];
      for (let x = start; step > 0 ? x < stop : x > stop; x += step) (values as number[]).push(x);
    }
    if (!Array.isArray(values) || values.length === 0) {
      throw new PipeError(`matrix.${key} must be a non-empty list (got ${JSON.stringify(values)})`, scope.file.locate(path));
    }
    for (const v of values) {
      if (typeof v === 'object') throw new PipeError(`matrix.${key}: values must be strings, numbers or booleans`, scope.file.locate(path));
    }
    if (new Set(values.map(String)).size !== values.length) throw new PipeError(`matrix.${key} has duplicate values`, scope.file.locate(path));
    axes.push([key, values as Scalar[]]);
  }
  return axes;
}

function cartesian(axes: [string, Scalar[]][]): MatrixValues[] {
  let out: MatrixValues[] = [{}];
  for (const [k, vs] of axes) out = out.flatMap((m) => vs.map((v) => ({ ...m, [k]: v })));
  return out;
}

// -------------------------------------------------------------- references

const REF = /^([A-Za-z_][A-Za-z0-9_-]*)(?:\[([^\]]*)\])?\.([A-Za-z_][A-Za-z0-9_-]*)$/;

function parseRef(text: string, scope: Scope, path: DocPath): InputRefDecl {
  const resolved = String(interpolate(text, scope, path));
  const m = REF.exec(resolved);
  if (!m) throw new PipeError(`'${text}' is not a reference; write stage.output, stage[key=value].output or stage[*].output`, scope.file.locate(path));
  const [, stage, sel, output] = m;
  const selector: RefSelector = { where: {}, gather: false };
  if (sel !== undefined) {
    selector.gather = true;
    for (const part of sel.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (part === '*') continue;
      const eq = part.indexOf('=');
      if (eq <= 0) throw new PipeError(`'${text}': selector part '${part}' must be key=value or *`, scope.file.locate(path));
      const v = frontLibs().parseYamlValue(part.slice(eq + 1)) as Scalar;
      selector.where[part.slice(0, eq).trim()] = v;
    }
    // A selector that pins every key is resolved as a single reference by the graph step.
  }
  return { text, stage: stage!, output: output!, selector, path };
}

// ------------------------------------------------------------------ expand

export function expandPipeline(file: LoadedFile, doc0: PipelineDoc, kinds: Map<string, StageKind>, overrides: string[] = []): ExpandedPipeline {
  const doc = applyOverrides(doc0, file, overrides);
  const errors: PipeError[] = [];
  if (overrides.some((o) => /^\+?(stages\.[^.=]+\.)?resources\./.test(o))) {
    errors.push(...checkResourcesValue(doc.resources, file, ['resources']));
    for (const [id, d] of Object.entries(doc.stages)) errors.push(...checkResourcesValue(d.resources, file, ['stages', id, 'resources']));
    if (errors.length) throw new PipeErrors(errors);
  }
  const instances: StageInstance[] = [];
  const pipelineSeed = doc.seed ?? 0;
  const disabled = new Map<string, string>();
  for (const [base, decl] of Object.entries(doc.stages)) {
    const kind = kinds.get(decl.kind)!;
    try {
      const scope0: Scope = { params: doc.params, matrix: {}, file };
      let combos = cartesian(matrixAxes(base, decl, scope0));
      const exclude = decl.matrix?.exclude ?? [];
      combos = combos.filter((m) => !exclude.some((ex) => Object.entries(ex).every(([k, v]) => String(m[k]) === String(v))));
      if (decl.matrix && combos.length === 0) throw new PipeError(`stage '${base}': matrix expands to no instances`, file.locate(['stages', base, 'matrix'], { key: true }));
      let kept = 0, why = '';
      for (const matrix of combos) {
        const scope: Scope = { params: doc.params, matrix, file };
        const id = instanceId(base, matrix);
        if (decl.when !== undefined) {
          const w = evalWhen(decl.when, scope, ['stages', base, 'when'], id);
          if (!w.on) { why = w.text; continue; }
        }
        kept++;
        const raw = interpolate(decl.params ?? {}, scope, ['stages', base, 'params']);
        let params: unknown;
        try {
          params = validateParams(kind, raw);
        } catch (e) {
          if (!(e instanceof ParamsError)) throw e;
          throw new PipeErrors(e.issues.map((i) => new PipeError(
            `stage '${id}' (${kind.kind}): params${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}${i.message.startsWith('unknown parameter') ? didYouMean(String(i.path[i.path.length - 1]), Object.keys((kind.paramsSchema as { properties?: object }).properties ?? {})) : ''}`,
            file.locate(['stages', base, 'params', ...i.path], { key: i.message.startsWith('unknown parameter') }),
          )));
        }
        let seed = pipelineSeed;
        if (decl.seed !== undefined && typeof decl.seed === 'object') {
          seed = derivedSeed(decl.seed, matrix, pipelineSeed, scope, id, base);
        } else if (decl.seed !== undefined) {
          const s = Number(interpolate(decl.seed, scope, ['stages', base, 'seed']));
          if (!Number.isInteger(s)) throw new PipeError(`stage '${id}': seed must be an integer`, file.locate(['stages', base, 'seed']));
          seed = s;
        }
        const specs = resolvePorts(kind.inputs, params);
        const inputs: StageInstance['inputs'] = {};
        for (const [name, refsRaw] of Object.entries(decl.inputs ?? {})) {
          const spec = specs[name] ?? specs['*'];
          if (!spec) {
            throw new PipeError(`stage '${base}' (${kind.kind}) has no input '${name}'${didYouMean(name, Object.keys(specs))}; its inputs: ${Object.keys(specs).join(', ') || 'none'}`, file.locate(['stages', base, 'inputs', name], { key: true }));
          }
          const list = Array.isArray(refsRaw) ? refsRaw : [refsRaw];
          inputs[name] = {
            spec,
            refs: list.map((r, i) => parseRef(r, scope, ['stages', base, 'inputs', name, ...(Array.isArray(refsRaw) ? [i] : [])])),
          };
        }
        for (const [name, spec] of Object.entries(specs)) {
          if (name !== '*' && !spec.optional && !(name in inputs)) {
            throw new PipeError(`stage '${base}' (${kind.kind}): missing required input '${name}'`, file.locate(['stages', base], { key: true }));
          }
        }
        instances.push({ id, base, kind, matrix, params, seed, inputs, decl });
      }
      if (!kept) disabled.set(base, why);
    } catch (e) {
      if (e instanceof PipeErrors) errors.push(...e.errors);
      else if (e instanceof PipeError) errors.push(e);
      else throw e;
    }
  }
  const headline: InputRefDecl[] = [];
  if (doc.report && typeof doc.report === 'object') {
    (doc.report.headline ?? []).forEach((text, i) => {
      try {
        const r = parseRef(text, { params: doc.params, matrix: {}, file }, ['report', 'headline', i]);
        r.selector.gather = true;
        headline.push(r);
      } catch (e) {
        if (e instanceof PipeError) errors.push(e);
        else throw e;
      }
    });
  }
  if (errors.length) throw new PipeErrors(dedupe(errors));
  return { name: doc.name, file, doc, params: doc.params, instances, disabled, headline };
}

/** Evaluates a stage's `when:` for one instance; `text` says what was compared (for messages). */
function evalWhen(when: WhenDecl, scope: Scope, path: DocPath, id: string): { on: boolean; text: string } {
  const bad = (msg: string, at: DocPath = path) => new PipeError(`stage '${id}': when: ${msg}`, scope.file.locate(at));
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b) || (typeof a !== 'object' && typeof b !== 'object' && String(a) === String(b));
  if (typeof when === 'boolean' || typeof when === 'string') {
    const v = interpolate(when, scope, path);
    if (v === true || v === 'true') return { on: true, text: 'true' };
    if (v === false || v === 'false') return { on: false, text: `${show(when)} is false` };
    throw bad(`${show(when)} gives ${show(v)}, not true or false`);
  }
  if ('equals' in when || 'not_equals' in when) {
    const neg = 'not_equals' in when;
    const key = neg ? 'not_equals' : 'equals';
    const [a, b] = (when as Record<string, unknown[]>)[key]!.map((x, i) => interpolate(x, scope, [...path, key, i]));
    const eq = same(a, b);
    return { on: neg ? !eq : eq, text: `${show(a)} ${eq ? '=' : '≠'} ${show(b)}` };
  }
  const [a, list0] = when.in.map((x, i) => interpolate(x, scope, [...path, 'in', i]));
  if (!Array.isArray(list0)) throw bad(`in: [value, list] needs a list as its second item, got ${show(list0)}`, [...path, 'in', 1]);
  const on = list0.some((x) => same(a, x));
  return { on, text: `${show(a)} ${on ? 'in' : 'not in'} ${show(list0)}` };
}

/**
 * The seed of an instance derived from some of its matrix keys: `seed: {derive: [fold]}` gives
 * every instance with the same `fold` the same seed (so instances that differ only in `model`
 * share an init and their comparison is paired) and different folds different seeds. The value
 * is `deriveSeed(base, {fold: 0})`: the first 31 bits of sha256 over the canonical JSON of the
 * base (the pipeline seed unless `base:` is given) and the chosen keys' values; it does not
 * depend on the stage's name, so two stages deriving from the same keys get the same seeds.
 * `derive: []` gives every instance `deriveSeed(base, {})`.
 */
export function deriveSeed(base: number, values: MatrixValues): number {
  const keys = Object.keys(values).sort();
  const h = sha256(canonicalJson({ seed: base, derive: Object.fromEntries(keys.map((k) => [k, values[k]])) }));
  return parseInt(h.slice(0, 8), 16) >>> 1;
}

function derivedSeed(spec: SeedDerive, matrix: MatrixValues, pipelineSeed: number, scope: Scope, id: string, stage: string): number {
  const path: DocPath = ['stages', stage, 'seed'];
  let base = pipelineSeed;
  if (spec.base !== undefined) {
    base = Number(interpolate(spec.base, scope, [...path, 'base']));
    if (!Number.isInteger(base)) throw new PipeError(`stage '${id}': seed.base must be an integer`, scope.file.locate([...path, 'base']));
  }
  const keys = Object.keys(matrix);
  const values: MatrixValues = {};
  spec.derive.forEach((k, i) => {
    if (!(k in matrix)) {
      throw new PipeError(`stage '${id}': seed.derive names '${k}', ${keys.length ? `not a matrix key of this stage${didYouMean(k, keys)} (its keys: ${keys.join(', ')})` : 'but this stage has no matrix'}`, scope.file.locate([...path, 'derive', i]));
    }
    values[k] = matrix[k]!;
  });
  return deriveSeed(base, values);
}

function dedupe(errors: PipeError[]): PipeError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = e.format().replace(/'[^']*\[[^\]]*\]'/g, '');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
