/** `pipe kinds`: the stage kinds (built-in and the project's own, with where they come from), or one kind's schema and ports. */
import { relative } from 'node:path';
import { didYouMean, PipeError } from '../engine/errors.js';
import { kindOrigin, loadKinds } from '../engine/front/registry.js';
import type { InputSpec, OutputSpec, StageKind } from '../sdk/stage.js';
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
      const d = describeKind(k);
      if (o.json) { out(JSON.stringify(d, null, 2)); return; }
      out(`${k.kind} (v${k.version}, ${origin(k)}): ${k.description}\n\nparams schema:\n${indent(JSON.stringify(k.paramsSchema, null, 2))}`);
      out(`\ninputs:${typeof d.inputs === 'string' ? ` ${d.inputs}` : d.inputs.length ? '' : ' none'}`);
      if (typeof d.inputs !== 'string') for (const i of d.inputs) out(`  ${i.name}${i.multiple ? '[]' : ''}${i.optional ? '?' : ''}: ${i.type}${i.description ? ` — ${i.description}` : ''}`);
      out(`outputs:${typeof d.outputs === 'string' ? ` ${d.outputs}` : d.outputs.length ? '' : ' none'}`);
      if (typeof d.outputs !== 'string') {
        for (const x of d.outputs) {
          out(`  ${x.name}: ${x.type}${x.condition ? ` (only when ${x.condition})` : ''}${x.description ? ` — ${x.description}` : ''}`);
          if (x.columns) out(`      columns: ${x.columns.join(', ')}`);
        }
      }
    });
}

interface KindDescription {
  kind: string; version: string; description: string; source?: string; file?: string; params: unknown;
  /** The ports, or (ports named by the params) how they are named. */
  inputs: { name: string; type: string; multiple: boolean; optional: boolean; description?: string }[] | string;
  outputs: { name: string; type: string; description?: string; condition?: string; columns?: string[] }[] | string;
}

/** Every input and output of a kind: conditional outputs with their condition, table columns. */
export function describeKind(k: StageKind): KindDescription {
  const inputs = typeof k.inputs === 'function'
    ? 'named by the params'
    : Object.entries(k.inputs as Record<string, InputSpec>).map(([n, s]) => ({ name: n, type: s.type ?? 'any', multiple: !!s.multiple, optional: !!s.optional, ...(s.description ? { description: s.description } : {}) }));
  const outputs = typeof k.outputs === 'function'
    ? 'named by the params (e.g. `outs:` / the script\'s manifest)'
    : Object.entries(k.outputs as Record<string, OutputSpec>).map(([n, s]) => ({ name: n, type: s.type, ...(s.description ? { description: s.description } : {}), ...(s.condition ? { condition: s.condition } : s.when ? { condition: 'depends on the params' } : {}), ...(s.columns ? { columns: s.columns } : {}) }));
  return { kind: k.kind, version: k.version, description: k.description, source: kindOrigin(k)?.source, file: kindOrigin(k)?.file, params: k.paramsSchema, inputs, outputs };
}
