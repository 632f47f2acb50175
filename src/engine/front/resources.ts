/**
 * What a stage asks of a cluster scheduler (`resources:` in the pipeline, per stage and as
 * pipeline-level defaults, or in the user config file), and the executor choice. Resources are
 * not part of the fingerprint: where and with how many CPUs a stage runs does not change what it
 * computes, so changing them recomputes nothing.
 *
 * Also the user config file (`$PIPE_CONFIG`, else `$XDG_CONFIG_HOME/pipe/config.yaml`, else
 * `~/.config/pipe/config.yaml`): `executor`, `resources` and `slurm` options, validated against
 * the same schema definitions as the pipeline file, with errors at file:line:col.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FromSchema } from 'json-schema-to-ts';
import { compileSchema, type ValidateFunction } from './compiled-schema.js';
import { remotesConfigProperties } from './remotes.js';
import { pipelineSchema } from './pipeline-schema.js';
import { PipeError, PipeErrors } from '../errors.js';
import { loadPipelineFile, type LoadedFile } from './load.js';

type Defs = (typeof pipelineSchema)['definitions'];
/** What a stage asks of a cluster scheduler (`resources:`), derived from the schema. */
export type Resources = FromSchema<Defs['resources']>;
/** Options of the Slurm executor (`slurm:`), derived from the schema. */
export type SlurmOptions = FromSchema<Defs['slurmOptions']>;
export type ExecutorName = FromSchema<Defs['executor']>;

export interface UserConfig {
  file?: string;
  executor?: ExecutorName;
  resources?: Resources;
  slurm?: SlurmOptions;
  /** Remote caches by name, and the default one (front/remotes.ts). */
  remotes?: Record<string, unknown>;
  remote?: string;
}

const TIME = /^(?:\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2})$/;
const MEM = /^(\d+(?:\.\d+)?)([KMGT]?)B?$/i;

/** Seconds of a Slurm time limit string (see `sbatch --time`). */
export function parseTime(s: string | number): number {
  const t = String(s).trim();
  if (!TIME.test(t)) throw new Error(`'${s}' is not a Slurm time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)`);
  if (t.includes('-')) {
    const [d, r] = t.split('-') as [string, string];
    const p = r.split(':').map(Number);
    return Number(d) * 86400 + (p[0] ?? 0) * 3600 + (p[1] ?? 0) * 60 + (p[2] ?? 0);
  }
  const p = t.split(':').map(Number);
  if (p.length === 1) return p[0]! * 60;
  if (p.length === 2) return p[0]! * 60 + p[1]!;
  return p[0]! * 3600 + p[1]! * 60 + p[2]!;
}

/** A time limit in seconds as Slurm's D-HH:MM:SS (rounded up to whole minutes, Slurm's unit). */
export function formatTime(secs: number): string {
  const mins = Math.max(1, Math.ceil(secs / 60));
  const d = Math.floor(mins / 1440);
  const h = Math.floor((mins % 1440) / 60);
  const m = mins % 60;
  const hms = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00`;
  return d ? `${d}-${hms}` : hms;
}

/** Megabytes of a Slurm memory string (no unit = megabytes). */
export function parseMem(s: string | number): number {
  const m = MEM.exec(String(s).trim());
  if (!m) throw new Error(`'${s}' is not a Slurm memory size (e.g. 512M, 4G)`);
  const f = { '': 1, K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.ceil(Number(m[1]) * f);
}

/** Stage resources over pipeline defaults over user-config defaults. */
export function mergeResources(...layers: (Resources | undefined)[]): Resources {
  const out: Resources = {};
  for (const l of layers) if (l) for (const [k, v] of Object.entries(l)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** The sbatch arguments for these resources at this attempt (1-based), after `scale`. */
export function sbatchArgs(r: Resources, scale: { time?: number; mem?: number; exclude?: string[] } = {}): string[] {
  const a: string[] = [];
  if (r.cpus !== undefined) a.push(`--cpus-per-task=${r.cpus}`);
  if (r.mem !== undefined) a.push(`--mem=${scale.mem && scale.mem !== 1 ? `${Math.ceil(parseMem(r.mem) * scale.mem)}M` : r.mem}`);
  if (r.time !== undefined) a.push(`--time=${scale.time && scale.time !== 1 ? formatTime(parseTime(r.time) * scale.time) : r.time}`);
  // --gres=gpu:N (gpu:<type>:N for `gpus: "a100:2"`): understood by every Slurm with GPUs configured
  if (r.gpus !== undefined && r.gres === undefined) a.push(`--gres=gpu:${r.gpus}`);
  if (r.gres !== undefined) a.push(`--gres=${r.gres}`);
  if (r.partition !== undefined) a.push(`--partition=${r.partition}`);
  if (r.account !== undefined) a.push(`--account=${r.account}`);
  if (r.qos !== undefined) a.push(`--qos=${r.qos}`);
  if (r.constraint !== undefined) a.push(`--constraint=${r.constraint}`);
  if (scale.exclude?.length) a.push(`--exclude=${scale.exclude.join(',')}`);
  a.push(r.requeue ? '--requeue' : '--no-requeue');
  a.push(...(r.sbatch_args ?? []));
  return a;
}

/** Checks what the schema cannot (time and memory formats), at the place they were written. */
export function checkResources(r: Resources | undefined, file: LoadedFile, path: (string | number)[]): PipeError[] {
  const errs: PipeError[] = [];
  if (!r) return errs;
  if (r.time !== undefined) {
    try { parseTime(String(r.time)); } catch (e) { errs.push(new PipeError(`${path.join('.')}.time: ${(e as Error).message}`, file.locate([...path, 'time']))); }
  }
  if (r.mem !== undefined) {
    try { parseMem(String(r.mem)); } catch (e) { errs.push(new PipeError(`${path.join('.')}.mem: ${(e as Error).message}`, file.locate([...path, 'mem']))); }
  }
  return errs;
}

// --------------------------------------------------------------- user config

export function userConfigPath(): string {
  if (process.env.PIPE_CONFIG) return process.env.PIPE_CONFIG;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'pipe', 'config.yaml');
}

// compiled when a config file is read (most runs have none)
let configValidator: ValidateFunction | null = null;
const configSchema = () => ({
  type: 'object',
  additionalProperties: false,
  properties: {
    executor: { $ref: '#/definitions/executor' },
    resources: { $ref: '#/definitions/resources' },
    slurm: { $ref: '#/definitions/slurmOptions' },
    ...remotesConfigProperties,
  },
  definitions: defs,
});

const defs = pipelineSchema.definitions;
let resValidator: ValidateFunction | null = null;

/** Resources after `--set` (the file itself was checked by the schema): type and format errors. */
export function checkResourcesValue(r: Resources | undefined, file: LoadedFile, path: (string | number)[]): PipeError[] {
  if (!r) return [];
  const validateRes = (resValidator ??= compileSchema({ $ref: '#/definitions/resources', definitions: defs }, { allErrors: true, allowUnionTypes: true }));
  if (!validateRes(r)) {
    return (validateRes.errors ?? []).map((e) => new PipeError(`--set ${path.join('.')}${e.instancePath.replace(/\//g, '.')}: ${e.keyword === 'additionalProperties' ? `unknown resource '${(e.params as { additionalProperty: string }).additionalProperty}' (known: ${Object.keys((defs.resources as { properties: object }).properties).join(', ')})` : e.message}`, file.locate(path, { key: true })));
  }
  return checkResources(r, file, path);
}

/** The user config file, validated; {} when there is none (an explicit PIPE_CONFIG must exist). */
export function loadUserConfig(): UserConfig {
  const path = userConfigPath();
  if (!existsSync(path)) {
    if (process.env.PIPE_CONFIG) throw new PipeError(`PIPE_CONFIG names ${path}, which does not exist`);
    return {};
  }
  const file = loadPipelineFile(path);
  const data = file.data ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new PipeError('the pipe config file must be a YAML mapping (executor, resources, slurm)', file.locate([]));
  const validateConfig = (configValidator ??= compileSchema(configSchema(), { allErrors: true, allowUnionTypes: true }));
  if (!validateConfig(data)) {
    throw new PipeErrors((validateConfig.errors ?? []).slice(0, 5).map((e) => {
      const p = e.instancePath.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      const extra = e.keyword === 'additionalProperties' ? (e.params as { additionalProperty: string }).additionalProperty : undefined;
      const where = [...p, ...(extra ? [extra] : [])];
      const msg = extra ? `unknown field '${extra}' in ${p.length ? p.join('.') : 'the config file'} (allowed: ${Object.keys((e.parentSchema as { properties?: object })?.properties ?? {}).join(', ')})` : `${p.join('.') || 'config'} ${e.message}`;
      return new PipeError(`config: ${msg}`, file.locate(where, { key: !!extra }));
    }));
  }
  const cfg = data as UserConfig;
  const errs = checkResources(cfg.resources, file, ['resources']);
  if (errs.length) throw new PipeErrors(errs);
  return { ...cfg, file: file.file };
}
