/**
 * Which remote cache a command uses. Remotes are defined by name in the project's
 * `pipe.config.json` (`remotes: {team: {...}}`, `remote: team` for the default) and in the user
 * config file (`remotes:` / `remote:` in ~/.config/pipe/config.yaml); a project's definition of a
 * name wins. The choice: `--remote NAME`, else $PIPE_REMOTE, else the project's `remote:`, else
 * the user's; `--no-remote` (or PIPE_REMOTE=none) turns it off.
 */
import { compileSchema, type ValidateFunction } from './compiled-schema.js';
import { PipeError } from '../errors.js';
import { projectConfig } from '../../lib/script/python.js';
import type { FromSchema } from 'json-schema-to-ts';

export const remoteSchema = {
  oneOf: [
    {
      type: 'object', additionalProperties: false, required: ['type', 'path'],
      properties: {
        type: { const: 'dir' },
        path: { type: 'string', minLength: 1, description: 'a directory on any mounted filesystem (relative paths are from the project root)' },
        push: { enum: ['auto', 'manual'], description: 'auto: upload every result a run computes (default); manual: only `pipe push`' },
      },
    },
    {
      type: 'object', additionalProperties: false, required: ['type', 'bucket'],
      properties: {
        type: { const: 's3' },
        bucket: { type: 'string', minLength: 1 },
        prefix: { type: 'string' },
        endpoint: { type: 'string', pattern: '^https?://', description: 'an S3-compatible store other than AWS (MinIO, Ceph, Garage…)' },
        region: { type: 'string' },
        profile: { type: 'string', description: 'an AWS profile (default: the SDK chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, roles)' },
        force_path_style: { type: 'boolean' },
        checksums: { enum: ['when_required', 'when_supported'] },
        push: { enum: ['auto', 'manual'] },
      },
    },
  ],
} as const;

/** One remote's definition, derived from the schema. */
export type RemoteSpec = FromSchema<typeof remoteSchema>;

export const remotesConfigProperties = {
  remotes: { type: 'object', additionalProperties: remoteSchema, propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' } },
  remote: { type: 'string', description: 'the default remote (a name under remotes:)' },
} as const;

// checked against the branch its `type` names (oneOf's own errors would name the wrong branch);
// compiled on first use: most runs define no remote, and compiling costs start-up time
let compiled: { dir: ValidateFunction; s3: ValidateFunction } | null = null;
const validators = () => {
  if (compiled) return compiled;
  return (compiled = { dir: compileSchema(remoteSchema.oneOf[0]), s3: compileSchema(remoteSchema.oneOf[1]) });
};

export interface RemoteChoice {
  name: string;
  spec: RemoteSpec;
  /** Where the definition came from (for messages). */
  source: string;
}

export interface RemoteOptions {
  /** --remote NAME; false for --no-remote. */
  remote?: string | false;
}

/** The remote a command uses, or undefined (none configured or turned off). */
export function chooseRemote(root: string, user: { remotes?: Record<string, unknown>; remote?: string; file?: string }, o: RemoteOptions, env: NodeJS.ProcessEnv = process.env): RemoteChoice | undefined {
  if (o.remote === false) return undefined;
  let proj: Record<string, unknown>;
  try {
    proj = projectConfig(root);
  } catch (e) {
    throw new PipeError((e as Error).message, undefined, 2);
  }
  const projRemotes = (proj.remotes ?? {}) as Record<string, unknown>;
  if (typeof projRemotes !== 'object' || Array.isArray(projRemotes)) throw new PipeError('pipe.config.json: remotes must be a mapping of names to remote definitions', undefined, 2);
  const name = o.remote || env.PIPE_REMOTE || (typeof proj.remote === 'string' ? proj.remote : undefined) || user.remote;
  if (!name || name === 'none') return undefined;
  const fromProject = projRemotes[name];
  const def = fromProject ?? user.remotes?.[name];
  const source = fromProject ? `${root}/pipe.config.json` : user.file ?? 'the user config';
  if (def === undefined) {
    const known = [...new Set([...Object.keys(projRemotes), ...Object.keys(user.remotes ?? {})])];
    throw new PipeError(`remote '${name}' is not defined (${known.length ? `defined: ${known.join(', ')}` : 'no remotes are defined'}); define it under remotes: in pipe.config.json or ${user.file ?? '~/.config/pipe/config.yaml'}`, undefined, 2);
  }
  const type = (def as { type?: unknown } | null)?.type;
  const validate = typeof type === 'string' ? validators()[type as keyof ReturnType<typeof validators>] : undefined;
  if (!validate) throw new PipeError(`remote '${name}' in ${source}: type must be 'dir' or 's3' (got ${JSON.stringify(type)})`, undefined, 2);
  if (!validate(def)) {
    const e = validate.errors?.[0];
    const extra = e?.keyword === 'additionalProperties' ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : '';
    const fields = Object.keys((type === 'dir' ? remoteSchema.oneOf[0] : remoteSchema.oneOf[1]).properties).join(', ');
    throw new PipeError(`remote '${name}' in ${source}: ${e ? `${e.instancePath ? e.instancePath.slice(1) : 'the definition'} ${e.message}${extra}` : 'invalid'} (a ${type} remote has: ${fields})`, undefined, 2);
  }
  return { name, spec: def as RemoteSpec, source };
}
