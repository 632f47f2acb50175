/** `pipe invalidate`: the next run recomputes the named stages (and with --downstream their dependents). */
import { PipeError } from '../engine/errors.js';
import { StageSubset } from '../engine/exec/subset.js';
import { isPipelineArg, loadGraph, out, pipelineFile, workspace, type Cli } from './common.js';

export function registerInvalidate(cli: Cli): void {
  cli.program.command('invalidate')
    .description('force the next run to recompute stages')
    .argument('<args...>', '[pipeline.yaml] <stage-id>… (base names select every matrix instance)')
    .option('--downstream', 'also invalidate every stage that depends on them')
    .action(async (args: string[], o) => {
      const ws = workspace(cli);
      const file = pipelineFile(ws, isPipelineArg(args[0]) ? args.shift() : undefined);
      if (!args.length) throw new PipeError('name at least one stage to invalidate');
      const g = await loadGraph(file);
      const named = StageSubset.named(g, args);
      const ids = o.downstream ? named.withDescendants() : named;
      const n = ws.db.invalidate(g.pipeline.name, ids.ids());
      out(`invalidated ${ids.size} stage(s) (${n} cached result(s)); the next run recomputes them`);
      ws.close();
    });
}
