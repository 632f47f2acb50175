/**
 * Running a researcher's script as a stage (`kind: python`, `kind: script`, and the protocol
 * half of `kind: command`): the stage manifest, the spawn with the line protocol on fd 3,
 * input conversion, output validation and conversion, and the curves table.
 *
 * The manifest (JSON, path in $PIPE_MANIFEST):
 *   { "version": 1, "stage": "train[fold=0]", "kind": "python", "params": {…}, "seed": 7,
 *     "attempt": 1, "matrix": {"fold": 0}, "work_dir": "…", "project_dir": "…",
 *     "inputs": {
 *       "train": {"path": "…/train.npz", "format": "npz", "from": "prep[fold=0].train",
 *                 "matrix": {"fold": 0}, "columns": ["x1", …]},
 *       "stats": {"multiple": true, "format": "json", "items": [{"path", "format", "from", "matrix"}, …]}
 *     },
 *     "outputs": {"model": {"path": "…", "format": "file"}, "preds": {"path": "….csv", "format": "csv"}},
 *     "protocol": {"fd": 3} }
 * A gathered input (`prep[*].stats`, a selector, or a list of references) is `multiple` and its
 * `items` come in the order of the producing instances in the pipeline's expansion (matrix keys
 * in the order the producer declares them, values in listed order, the last key varying
 * fastest), the same order every run.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InputHandle, PortType, StageContext, StageResult } from '../../sdk/stage.js';
import { FORMAT_EXT, isTableFormat, readTableAs, writeTableAs, type TableFormat } from '../formats/index.js';
import type { MetricValue } from './protocol.js';
import { exitError, gpuEnv, spawnWithProtocol, writeCurves } from './spawn.js';
export { exitError, gpuEnv, spawnWithProtocol, writeCurves, type SpawnResult } from './spawn.js';

/** What a script output may be declared as: a port type, or a table format (stored as Arrow). */
export const OUT_FORMATS = ['arrow', 'csv', 'npy', 'npz', 'parquet', 'table', 'json', 'text', 'file', 'dir', 'png', 'svg', 'gif', 'html'] as const;
export type OutFormat = (typeof OUT_FORMATS)[number];
export const IN_FORMATS = ['arrow', 'csv', 'npy', 'npz', 'parquet'] as const;

export function portTypeOf(f: OutFormat): PortType {
  return isTableFormat(f) || f === 'table' ? 'table' : (f as PortType);
}

/** The params every script kind shares (the rest of a kind's params are its own). */
export interface ScriptCommon {
  outs: Record<string, OutFormat>;
  formats: Record<string, TableFormat>;
  deps: string[];
  env: Record<string, string>;
  params: Record<string, unknown>;
}

export const SCRIPT_COMMON_SCHEMA = {
  outs: {
    type: 'object', default: {},
    description: 'declared outputs: name → format (arrow|csv|npy|npz|parquet are tables, stored as Arrow; or json, text, file, dir, png, svg, gif, html)',
    additionalProperties: { enum: [...OUT_FORMATS] },
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_-]*$' },
  },
  formats: {
    type: 'object', default: {},
    description: 'table inputs the script wants in another format: input name → csv|npy|npz|parquet|arrow',
    additionalProperties: { enum: [...IN_FORMATS] },
  },
  deps: { type: 'array', items: { type: 'string' }, default: [], description: 'other project files the script reads (fingerprinted)' },
  env: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
  params: { type: 'object', default: {}, description: "the script's own params (the manifest's `params`)" },
  schema: { type: 'string', description: "a JSON Schema file (relative to the project root) the script's params must satisfy" },
} as const;

/** The inputs of a script kind: any name; those named in `formats` must be bound to tables (checked at load time). */
export function scriptInputs(p: Partial<ScriptCommon>): Record<string, { type: PortType; multiple: boolean; convertTo?: string }> {
  const out: Record<string, { type: PortType; multiple: boolean; convertTo?: string }> = { '*': { type: 'any', multiple: true } };
  for (const [name, f] of Object.entries(p.formats ?? {})) out[name] = { type: 'table', multiple: true, ...(f !== 'arrow' ? { convertTo: f } : { convertTo: 'arrow' }) };
  return out;
}

/** The outputs a script kind declares: its `outs`, plus `curves` (rows sent with the protocol) unless declared. */
export function scriptOutputs(p: Partial<ScriptCommon>): Record<string, { type: PortType; ext?: string }> {
  const out: Record<string, { type: PortType; ext?: string }> = {};
  for (const [k, f] of Object.entries(p.outs ?? {})) out[k] = { type: portTypeOf(f) };
  if (!('curves' in out)) out.curves = { type: 'table' };
  return out;
}

function checkMagic(bytes: Buffer, f: OutFormat): string | undefined {
  const starts = (sig: number[]) => sig.every((b, i) => bytes[i] === b);
  switch (f) {
    case 'json':
      try { JSON.parse(bytes.toString('utf8')); return undefined; } catch (e) { return `not valid JSON (${(e as Error).message})`; }
    case 'png': return starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) ? undefined : 'not a PNG image (no PNG signature)';
    case 'gif': return bytes.subarray(0, 4).toString('latin1') === 'GIF8' ? undefined : 'not a GIF image (no GIF8 signature)';
    case 'svg': return /<svg[\s>]/.test(bytes.subarray(0, 4096).toString('utf8')) ? undefined : 'not an SVG image (no <svg> element in its first 4 KiB)';
    case 'text': case 'html':
      try { new TextDecoder('utf-8', { fatal: true }).decode(bytes); return undefined; } catch { return 'not UTF-8 text'; }
    default: return undefined;
  }
}

export interface PreparedIO {
  manifest: Record<string, unknown>;
  /** Output name → where the script writes it (may differ from the store path when converted). */
  writes: Record<string, { path: string; format: OutFormat }>;
}

/** Converts the inputs that asked for another format and lays out the manifest's inputs and outputs. */
export async function prepareIO(ctx: StageContext, p: ScriptCommon & { gathered?: string[] }, extra: { kind: string; attempt: number; gathered: string[] }): Promise<PreparedIO> {
  const work = ctx.tmpDir;
  const inputs: Record<string, unknown> = {};
  for (const [name] of Object.entries(p.formats ?? {})) {
    if (!ctx.has(name)) throw new Error(`formats names input '${name}', which is not connected (inputs: ${ctx.inputNames().join(', ') || 'none'})`);
  }
  for (const name of ctx.inputNames()) {
    const handles = ctx.inputs(name);
    const want = p.formats?.[name];
    const items = [];
    for (let i = 0; i < handles.length; i++) {
      const h = handles[i]!;
      items.push(await inputEntry(h, want, join(work, 'inputs'), handles.length > 1 ? `${name}-${i}` : name));
    }
    const multiple = extra.gathered.includes(name) || handles.length !== 1;
    inputs[name] = multiple ? { multiple: true, format: items[0]?.format ?? want ?? null, items } : items[0];
  }
  const outputs: Record<string, unknown> = {};
  const writes: PreparedIO['writes'] = {};
  for (const [name, f] of Object.entries(p.outs ?? {})) {
    const store = ctx.output(name).path;
    let path = store;
    if (isTableFormat(f) && f !== 'arrow') {
      await mkdir(join(work, 'outputs'), { recursive: true });
      path = join(work, 'outputs', name + FORMAT_EXT[f]);
    }
    const format = f === 'table' ? 'arrow' : f;
    writes[name] = { path, format };
    outputs[name] = { path, format };
  }
  return {
    manifest: {
      version: 1, stage: ctx.id, kind: extra.kind, params: p.params ?? {}, seed: ctx.seed, attempt: extra.attempt,
      matrix: ctx.matrix, ...(ctx.gpus ? { gpus: ctx.gpus } : {}), work_dir: work, project_dir: ctx.projectDir, inputs, outputs, protocol: { fd: 3 },
      // resume checkpoints: the fingerprint's directory and the save interval (python/pipe_stage: `checkpoint`)
      ...(ctx.checkpoint ? { checkpoint: { dir: ctx.checkpoint.dir, every_epochs: ctx.checkpoint.every.epochs, every_seconds: ctx.checkpoint.every.seconds } } : {}),
    },
    writes,
  };
}

async function inputEntry(h: InputHandle, want: TableFormat | undefined, dir: string, base: string) {
  const type = h.type;
  const entry: Record<string, unknown> = { path: h.path, format: type === 'table' ? 'arrow' : type ?? 'file', from: `${h.from}.${h.output}`, matrix: h.matrix };
  if (type === 'table' || want) {
    let t;
    try { t = await readTableAs(h.path, 'arrow'); } catch (e) {
      if (want) throw new Error(`input '${h.name}' from ${h.from}.${h.output} is not a table, so it cannot be converted to ${want}: ${(e as Error).message}`);
    }
    if (t) {
      entry.columns = t.schema.fields.map((f) => f.name);
      const meta = t.schema.metadata.get('pipe');
      if (meta) entry.meta = JSON.parse(meta);
      if (want && want !== 'arrow') {
        await mkdir(dir, { recursive: true });
        const path = join(dir, base + FORMAT_EXT[want]);
        try { await writeTableAs(path, t, want); } catch (e) {
          throw new Error(`input '${h.name}' from ${h.from}.${h.output}: cannot convert to ${want}: ${(e as Error).message}`);
        }
        entry.path = path;
      }
      entry.format = want ?? 'arrow';
    }
  }
  return entry;
}

/**
 * Checks every declared output where the script wrote it and converts table formats to the
 * store's Arrow; a missing or wrong file fails the stage naming the output, the file and what
 * was expected.
 */
export async function finishOutputs(ctx: StageContext, writes: PreparedIO['writes'], protocolRows: Record<string, MetricValue>[], declaredCurves: boolean): Promise<void> {
  const problems: string[] = [];
  for (const [name, w] of Object.entries(writes)) {
    const where = `output '${name}' (declared ${w.format}, file ${w.path})`;
    if (!existsSync(w.path)) { problems.push(`${where}: the script did not write it`); continue; }
    const isDir = statSync(w.path).isDirectory();
    if (w.format === 'dir') { if (!isDir) problems.push(`${where}: expected a directory, found a file`); continue; }
    if (isDir) { problems.push(`${where}: expected a file, found a directory`); continue; }
    if (isTableFormat(w.format)) {
      let t;
      try { t = await readTableAs(w.path, w.format, name); } catch (e) { problems.push(`${where}: not a readable ${w.format} table: ${(e as Error).message}`); continue; }
      if (w.format !== 'arrow') await writeTableAs(ctx.output(name).path, t, 'arrow');
      continue;
    }
    const bad = checkMagic(await readFile(w.path), w.format);
    if (bad) problems.push(`${where}: ${bad}`);
  }
  if (problems.length) throw new Error(problems.length === 1 ? problems[0]! : `${problems.length} outputs are wrong:\n  ${problems.join('\n  ')}`);
  if (!declaredCurves) await writeCurves(ctx.output('curves').path, protocolRows);
  else if (protocolRows.length) ctx.log.warn(`${protocolRows.length} curve row(s) sent with the protocol were ignored: the stage declares its own 'curves' output`);
}

/** Validates the script's params against a JSON Schema file of the project (ajv, defaults filled in). */
export async function checkParamsSchema(ctx: StageContext, schemaFile: string | undefined, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (!schemaFile) return params;
  const path = join(ctx.projectDir, schemaFile);
  let schema: object;
  try { schema = JSON.parse(await readFile(path, 'utf8')) as object; } catch (e) { throw new Error(`params schema ${schemaFile}: ${(e as Error).message}`); }
  const { default: Ajv } = await import('ajv');
  const ajv = new (Ajv as any)({ useDefaults: true, allErrors: true, strict: false });
  const copy = structuredClone(params);
  const validate = ajv.compile(schema);
  if (!validate(copy)) {
    const errs = (validate.errors as { instancePath: string; message: string }[]).map((e) => `params${e.instancePath.replace(/\//g, '.')} ${e.message}`);
    throw new Error(`params do not satisfy ${schemaFile}: ${errs.join('; ')}`);
  }
  return copy;
}

export async function writeManifest(ctx: StageContext, manifest: Record<string, unknown>): Promise<string> {
  const path = join(ctx.tmpDir, 'pipe-manifest.json');
  await writeFile(path, JSON.stringify(manifest, null, 2) + '\n');
  return path;
}

/** Runs a script stage end to end; returns its metrics. */
export async function runScriptStage(
  ctx: StageContext<ScriptCommon & { schema?: string }>,
  o: { kind: string; file: string; args: string[]; env?: Record<string, string>; what: string },
): Promise<StageResult> {
  const p = ctx.params;
  const params = await checkParamsSchema(ctx, p.schema, p.params ?? {});
  const gathered = ctx.inputNames().filter((n) => ctx.gathered?.(n));
  const io = await prepareIO(ctx, { ...p, params }, { kind: o.kind, attempt: ctx.attempt ?? 1, gathered });
  const manifestPath = await writeManifest(ctx, io.manifest);
  const env: NodeJS.ProcessEnv = {
    ...process.env, ...p.env, ...o.env,
    PIPE_MANIFEST: manifestPath, PIPE_SEED: String(ctx.seed), PIPE_STAGE: ctx.id, PIPE_WORK_DIR: ctx.tmpDir,
    ...gpuEnv(ctx),
  };
  ctx.log.debug(`$ ${[o.file, ...o.args].join(' ')}`);
  const r = await spawnWithProtocol(ctx, o.file, o.args, env);
  if (ctx.signal.aborted) throw new Error('aborted');
  if (r.code !== 0) throw exitError(o.what, r);
  await finishOutputs(ctx, io.writes, r.protocol.curveRows, 'curves' in (p.outs ?? {}));
  return { metrics: r.protocol.metrics };
}
