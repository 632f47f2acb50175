/** `pipe kinds`: the stage kinds (built-in and the project's own, with where they come from), or one kind's schema and ports. */
import { relative } from 'node:path';
import { didYouMean, PipeError } from '../engine/errors.js';
import { kindOrigin, loadKinds } from '../engine/front/registry.js';
import { resolvePorts, type StageKind } from '../sdk/stage.js';
import { indent, out, workspace, type Cli } from './common.js';

function origin(k: StageKind): string {
  const o = kindOrigin(k);
  if (!o) return '';
  return o.source === 'builtin' ? 'built-in' : `project ${relative(process.cwd(), o.file) || o.file}`;
}

export function registerKinds(cli: Cli): void {
  cli.program.command('kinds')
    .description('list the stage kinds, or show one kind\'s params, inputs and outputs')
    .argument('[kind]')
    .option('--json', 'machine-readable list')
    .action(async (name: string | undefined, o) => {
      workspace(cli); // selects the project whose stages/ holds project kinds
      const kinds = await loadKinds();
      if (!name) {
        const all = [...kinds.values()].sort((a, b) => a.kind.localeCompare(b.kind));
        if (o.json) { out(JSON.stringify(all.map((k) => ({ kind: k.kind, version: k.version, description: k.description, source: kindOrigin(k)?.source, file: kindOrigin(k)?.file })), null, 2)); return; }
        for (const k of all) out(`${k.kind.padEnd(20)} v${k.version.padEnd(4)} ${origin(k).padEnd(10)} ${k.description}`);
        return;
      }
      const k = kinds.get(name);
      if (!k) throw new PipeError(`unknown stage kind '${name}'${didYouMean(name, kinds.keys())}`);
      out(`${k.kind} (v${k.version}, ${origin(k)}): ${k.description}\n\nparams schema:\n${indent(JSON.stringify(k.paramsSchema, null, 2))}`);
      if (typeof k.inputs !== 'function') out(`\ninputs: ${Object.entries(k.inputs).map(([n, s]) => `${n}${s.multiple ? '[]' : ''}${s.optional ? '?' : ''}: ${s.type ?? 'any'}`).join(', ') || 'none'}`);
      if (typeof k.outputs !== 'function') out(`outputs: ${Object.entries(resolvePorts(k.outputs, {})).map(([n, s]) => `${n}: ${s.type}`).join(', ') || 'none'}`);
    });
}
