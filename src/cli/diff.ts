/** `pipe diff [<pipeline>] [<runA> <runB> …]`: what differs between runs — params, metrics (by goal), stages and why; CI gates. */
import { PipeError } from '../engine/errors.js';
import { collect, out, workspace, type Cli } from './common.js';
import { pipelineNameOf } from './runs.js';

const num = (what: string) => (v: string) => {
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0) throw new PipeError(`${what} must be a non-negative number, got '${v}'`);
  return x;
};

export function registerDiff(cli: Cli): void {
  cli.program.command('diff')
    .description('compare runs: params and metrics that differ (Δ, %Δ, by goal), which stages reran and why; CI gates')
    .argument('[args...]', '[pipeline] [runA runB …] — runs by id (12, #12), name, HEAD or HEAD~N; default: the last two runs')
    .option('--all', 'every param and metric row, also those that are equal')
    .option('--fail-if <expr>', "exit 1 when the change of a metric against the first run matches, e.g. 'test_accuracy < -0.005' or 'rmse > 2%' (repeatable)", collect, [])
    .option('--atol <x>', 'metrics within this absolute tolerance count as equal; with a goal, worse beyond it fails (exit 1)', num('--atol'))
    .option('--rtol <x>', 'relative tolerance (of the first run\'s value), like --atol', num('--rtol'))
    .option('--group-by <key>', 'aggregate matrix stages per value of this matrix key (repeatable; default: over all instances)', collect, [])
    .option('--no-instances', 'matrix stages only aggregated, no row per instance')
    .option('--no-curves', 'do not read per-epoch curves (best vs last)')
    .option('--json', 'machine-readable')
    .option('--md', 'Markdown')
    .action(async (args: string[], o) => {
      const ws = workspace(cli);
      // the implementation is imported on use: `pipe run` does not pay for loading it
      const { diffCommand } = await import('./diff-impl.js');
      cli.code = await diffCommand(ws, args, o, out, pipelineNameOf);
      ws.close();
    });
}
