/**
 * `command`: run any shell command as a stage (like a DVC stage).
 *
 *   prep:
 *     kind: command
 *     inputs: { raw: fetch.data }
 *     params:
 *       cmd: python scripts/prep.py ${inputs.raw} --out ${outputs.clean}
 *       deps: [scripts/prep.py]          # project files whose content is part of the fingerprint
 *       outs: { clean: file }            # declared outputs: name → file | dir | table | json | text
 *
 * The command runs with `sh -c` in the project root. `${inputs.X}` / `${outputs.X}` expand to
 * shell-quoted paths (a gathered input expands to all of its paths); the same paths are in the
 * environment as PIPE_INPUT_X / PIPE_OUTPUT_X (newline-separated; a gather too long for the
 * environment is in the file named by PIPE_INPUT_X_LIST instead), plus PIPE_SEED, PIPE_STAGE.
 * Outputs are written to a temporary place and only recorded if the command exits 0 and wrote
 * every declared output. The command may report metrics, curve rows (into a declared
 * `curves: table` output it does not write itself), progress and log lines with the line
 * protocol on fd 3 ($PIPE_PROTOCOL_FD; src/lib/script/protocol.ts), e.g.
 * `echo '{"type":"metric","name":"p_value","value":0.03}' >&3`.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage, type PortType } from '../sdk/stage.js';
import { exitError, gpuEnv, spawnWithProtocol, writeCurves } from '../lib/script/spawn.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const envName = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '_');

const commandParamsSchema = {
  type: 'object',
  properties: {
    cmd: { type: 'string', minLength: 1, description: 'shell command; ${inputs.X} and ${outputs.X} expand to paths' },
    deps: { type: 'array', items: { type: 'string' }, default: [], description: 'project files (relative to the root) the command reads' },
    outs: {
      type: 'object',
      additionalProperties: { enum: ['file', 'dir', 'table', 'json', 'text', 'png', 'svg', 'gif', 'html'] },
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_-]*$' },
      default: {},
    },
    env: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
    shell: { type: 'string', default: '/bin/sh' },
  },
  required: ['cmd'],
  additionalProperties: false,
} as const;

/** The params after defaults, derived from the schema (so the two cannot disagree). */
type CommandParams = FromSchema<typeof commandParamsSchema>;

export default defineStage<CommandParams>({
  kind: 'command',
  version: '1',
  description: 'Run a shell command with declared dependency files and outputs',
  paramsSchema: commandParamsSchema,
  inputs: { '*': { type: 'any', multiple: true } },
  outputs: (p) => Object.fromEntries(Object.entries(p.outs ?? {}).map(([k, t]) => [k, { type: t }])),
  fileDeps: (p) => p.deps ?? [],
  async run(ctx) {
    const p = ctx.params;
    const env: NodeJS.ProcessEnv = { ...process.env, ...p.env, PIPE_SEED: String(ctx.seed), PIPE_STAGE: ctx.id, ...gpuEnv(ctx) };
    const paths: Record<string, Record<string, string>> = { inputs: {}, outputs: {} };
    for (const name of ctx.inputNames()) {
      const list = ctx.inputs(name).map((h) => h.path);
      paths.inputs![name] = list.map(quote).join(' ');
      // One environment string may not exceed 128 KiB (MAX_ARG_STRLEN): long lists go to a file.
      const joined = list.join('\n');
      if (joined.length < 64 * 1024) env[`PIPE_INPUT_${envName(name)}`] = joined;
      else {
        const listFile = join(ctx.tmpDir, `inputs-${envName(name)}.txt`);
        await writeFile(listFile, joined + '\n');
        env[`PIPE_INPUT_${envName(name)}_LIST`] = listFile;
      }
    }
    for (const name of Object.keys(p.outs)) {
      const o = ctx.output(name);
      paths.outputs![name] = quote(o.path);
      env[`PIPE_OUTPUT_${envName(name)}`] = o.path;
    }
    const cmd = p.cmd.replace(/\$\{(inputs|outputs)\.([A-Za-z0-9_-]+)\}/g, (m, ns: string, name: string) => {
      const v = paths[ns]![name];
      if (v === undefined) throw new Error(`cmd refers to ${m}, but the stage has no ${ns === 'inputs' ? 'input' : 'output'} '${name}'`);
      return v;
    });
    ctx.log.debug(`$ ${cmd.length > 500 ? cmd.slice(0, 500) + '…' : cmd}`);
    // A command longer than one argument may be (128 KiB) runs from a script file.
    let args = ['-c', cmd];
    if (cmd.length > 100 * 1024) {
      const script = join(ctx.tmpDir, 'command.sh');
      await writeFile(script, cmd + '\n');
      args = [script];
    }
    const r = await spawnWithProtocol(ctx, p.shell, args, env);
    if (ctx.signal.aborted) throw new Error('aborted');
    if (r.code !== 0) throw exitError('command', r);
    const rows = r.protocol.curveRows;
    if (rows.length && p.outs.curves === 'table' && !existsSync(ctx.output('curves').path)) await writeCurves(ctx.output('curves').path, rows);
    else if (rows.length) ctx.log.warn(`${rows.length} curve row(s) sent with the protocol were ignored: declare outs: {curves: table} and do not write it yourself`);
    const missing = Object.keys(p.outs).filter((n) => !existsSync(ctx.output(n).path));
    if (missing.length) throw new Error(`command exited 0 but did not write output ${missing.map((m) => `'${m}' (${ctx.output(m).path})`).join(', ')}`);
    return Object.keys(r.protocol.metrics).length ? { metrics: r.protocol.metrics } : undefined;
  },
});
