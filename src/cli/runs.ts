/** `pipe runs [<pipeline>]`: every run of a pipeline as a row — what was set, what changed, what it scored. */
import { Option } from '../lib/vendor.js';
import { PipeError } from '../engine/errors.js';
import { loadPipelineFile } from '../engine/front/load.js';
import type { Column } from '../runs/list.js';
import type { TextTable } from '../runs/table.js';
import { collect, out, workspace, type Cli } from './common.js';

/** The `name:` of a pipeline file, without loading its stage kinds. */
export function pipelineNameOf(file: string): string {
  const data = loadPipelineFile(file).data as { name?: unknown } | null;
  if (!data || typeof data.name !== 'string') throw new PipeError(`${file}: no pipeline name (a pipeline file has \`name:\`)`);
  return data.name;
}

export function registerRuns(cli: Cli): void {
  const runsCmd = cli.program.command('runs');
  runsCmd
    .description('list the runs of a pipeline: name, time, overrides, changed params (p:) and metrics (m:)')
    .argument('[pipeline]', 'pipeline YAML file or pipeline name (default: the pipeline of the latest run)')
    .option('--all', 'every column, also those equal in all runs, and every metric (not only those with a goal)')
    .option('--keep <column>', 'always show this column (glob with *, e.g. \'m:*loss*\'; repeatable)', collect, [])
    .option('--drop <column>', 'hide this column (glob; repeatable)', collect, [])
    .option('--sort-by <column>', 'sort the runs by this column')
    .addOption(new Option('--sort-order <order>', 'with --sort-by').choices(['asc', 'desc']).default('asc'))
    .option('-n, --limit <n>', 'only the latest n runs', (v) => Number(v))
    .option('--group-by <key>', 'aggregate matrix stages per value of this matrix key (repeatable; default: every matrix key but replicate keys — fold, seed, rep, …)', collect, [])
    .option('--pool', 'aggregate each matrix stage over all its instances (mean over every configuration of the matrix)')
    .option('--every-run', 'list every run (default: a rerun that changed nothing is folded into the run it repeats, shown ×N)')
    .option('--transpose', 'one row per column, one column per run (default: when the table is wider than the terminal)')
    .option('--no-transpose', 'never transpose')
    .option('--json', 'JSON: one object per run with the shown columns (typed values)')
    .option('--csv', 'CSV with the shown columns')
    .option('--md', 'Markdown table')
    .action(async (given: string | undefined, o) => {
      const ws = workspace(cli);
      if (!ws.hasCache()) throw new PipeError('no cache here yet: nothing has run (pipe run <pipeline.yaml>)');
      // imported on use: `pipe run` does not pay for loading them
      const { collapseRepeats, defaultGroupBy, listRuns } = await import('../runs/list.js');
      const { pipelineOf, runView, usesGrouped, withMetrics } = await import('../runs/model.js');
      const { renderCsv, renderMd, renderText, terminalWidth, textWidth, transpose } = await import('../runs/table.js');
      const pipeline = pipelineOf(ws.db, given, pipelineNameOf);
      if (o.pool && o.groupBy.length) throw new PipeError('--pool and --group-by: choose one (pool every instance, or group by keys)');
      let runs = ws.db.runRows(pipeline).map(runView);
      if (!o.everyRun) runs = collapseRepeats(runs);
      // groups need every instance's metrics (and the matrix values, for the default grouping),
      // except where a record stored the groups of the grouping asked for (recorded since it could)
      if (!o.pool) runs = runs.map((r) => (r.record?.grouped ? r : withMetrics(ws.db, r)));
      const groupBy: string[] = o.pool ? [] : o.groupBy.length ? o.groupBy : defaultGroupBy(runs);
      if (!o.pool) runs = runs.map((r) => (r.record?.grouped && !usesGrouped(r, groupBy) ? withMetrics(ws.db, r) : r));
      const { columns } = listRuns(runs, { all: o.all, keep: o.keep, drop: o.drop, sortBy: o.sortBy, sortOrder: o.sortOrder, limit: o.limit, groupBy, pool: !!o.pool });
      const header = columns.map((c) => c.id);
      const n = columns[0]?.text.length ?? 0;
      const rows = Array.from({ length: n }, (_, i) => columns.map((c) => c.text[i]!));
      if (o.json) {
        out(JSON.stringify(Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map((c) => [c.id, jsonValue(c, i)]))), null, 2));
      } else if (o.csv) {
        out(renderCsv(header, rows));
      } else if (o.md) {
        out(renderMd(header, rows));
      } else {
        const right = new Set(columns.map((c, i) => (c.kind !== 'meta' && c.values.every((v) => v === undefined || typeof v === 'number') ? i : -1)).filter((i) => i >= 0));
        let t: TextTable = { header, rows, right };
        const wide = textWidth(t) > terminalWidth();
        if (o.transpose === true || (o.transpose === undefined && wide)) {
          t = transpose(t, 'column', columns[0]!.text);
          t.rows = t.rows.slice(1); // the run ids are the header now
        }
        out(renderText(t));
        const folded = runs.reduce((a, r) => a + (r.repeats?.length ?? 0), 0);
        out(`\n${runs.length + folded} run(s) of '${pipeline}'${n < runs.length ? `, ${n} shown` : ''}${folded ? `; ${folded} rerun(s) that changed nothing folded into the run they repeat (×N; --every-run lists them)` : ''}${groupBy.length ? `; matrix stages per ${groupBy.join(', ')} (mean over the other keys' instances; --group-by, --pool)` : ''}`);
      }
      ws.close();
    });

  runsCmd.command('note')
    .description('attach a note to a run (shown by pipe runs; "" removes it)')
    .argument('<run>', 'run id, name or HEAD~N')
    .argument('<text>', 'the note')
    .option('--pipeline <pipeline>', 'pipeline YAML file or name (default: that of the latest run)')
    .action(async (ref: string, text: string, o) => {
      const ws = workspace(cli);
      if (!ws.hasCache()) throw new PipeError('no cache here yet: nothing has run (pipe run <pipeline.yaml>)');
      const { pipelineOf, resolveRun, runLabel } = await import('../runs/model.js');
      const row = resolveRun(ws.db, ref, /^#?\d+$/.test(ref) ? undefined : pipelineOf(ws.db, o.pipeline, pipelineNameOf));
      ws.db.setRunNote(row.id, text);
      out(text ? `noted ${runLabel(row)}: ${text}` : `removed the note of ${runLabel(row)}`);
      ws.close();
    });

  runsCmd.command('rm')
    .description('remove run records (the cached results their stages computed stay)')
    .argument('<runs...>', 'run ids, names or HEAD~N')
    .option('--pipeline <pipeline>', 'pipeline YAML file or name (default: that of the latest run)')
    .action(async (refs: string[], o) => {
      const ws = workspace(cli);
      if (!ws.hasCache()) throw new PipeError('no cache here yet: nothing has run (pipe run <pipeline.yaml>)');
      const { pipelineOf, resolveRun, runLabel } = await import('../runs/model.js');
      const rows = refs.map((ref) => resolveRun(ws.db, ref, /^#?\d+$/.test(ref) ? undefined : pipelineOf(ws.db, o.pipeline, pipelineNameOf)));
      for (const r of rows) if (r.state === 'running') throw new PipeError(`${runLabel(r)} is running; stop it first`);
      for (const r of rows) ws.db.removeRun(r.id);
      out(`removed ${rows.map(runLabel).join(', ')}`);
      ws.close();
    });
}

function jsonValue(c: Column, i: number): unknown {
  const v = c.values[i];
  if (c.id === 'time' && typeof v === 'number') return new Date(v).toISOString();
  return v === undefined ? null : v;
}
