/**
 * `script`: run a program in any language as a stage, with the same manifest, line protocol,
 * formats and output checks as `kind: python`:
 *
 *   fit:
 *     kind: script
 *     inputs: {data: prep.train}
 *     params:
 *       run: [Rscript, scripts/fit.R, --fast]     # the program and its arguments
 *       formats: {data: csv}
 *       outs: {coefs: csv}
 *       params: {alpha: 0.5}
 *
 * Arguments of `run` that are files of the project are tracked as code (so are `deps`). The
 * program reads $PIPE_MANIFEST (JSON) and may write protocol lines to fd 3
 * ($PIPE_PROTOCOL_FD), e.g. in a shell: echo '{"type":"metric","name":"n","value":3}' >&3
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { defineStage } from '../sdk/stage.js';
import { runScriptStage, scriptInputs, scriptOutputs, SCRIPT_COMMON_SCHEMA, type ScriptCommon } from '../lib/script/exec.js';

interface ScriptParams extends ScriptCommon {
  run: string[];
  schema?: string;
}

const projectFiles = (run: string[], root: string) =>
  run.slice(1).filter((a) => !isAbsolute(a) && !a.startsWith('-') && existsSync(join(root, a)) && statSync(join(root, a)).isFile());

export default defineStage<ScriptParams>({
  kind: 'script',
  version: '1',
  description: 'Run a program in any language (manifest, line protocol, formats, checked outputs)',
  paramsSchema: {
    type: 'object',
    properties: {
      run: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'the program and its arguments, e.g. [Rscript, scripts/fit.R]' },
      ...SCRIPT_COMMON_SCHEMA,
    },
    required: ['run'],
    additionalProperties: false,
  },
  inputs: (p) => scriptInputs(p),
  outputs: (p) => scriptOutputs(p),
  fileDeps: (p) => [...(p.deps ?? []), ...(p.schema ? [p.schema] : [])],
  codeFiles: (p, root) => projectFiles(p.run, root),
  async run(ctx) {
    const [file, ...args] = ctx.params.run;
    const prog = file!.includes('/') && !isAbsolute(file!) ? join(ctx.projectDir, file!) : file!;
    return runScriptStage(ctx, { kind: 'script', file: prog, args, what: ctx.params.run.join(' ') });
  },
});
