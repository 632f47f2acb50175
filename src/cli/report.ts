/** `pipe report`: the HTML report (and REPORT.md) of a pipeline from the cache, without running; or, with --compare, a page comparing runs. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PipeError } from '../engine/errors.js';
import { displayPath } from '../engine/front/load.js';
import { collect, loadGraph, out, statuses, workspace, type Cli } from './common.js';

export function registerReport(cli: Cli): void {
  cli.program.command('report')
    .description('write the HTML report (and REPORT.md) of a pipeline from the cache, without running; --compare: a page comparing runs')
    .argument('[pipeline]', 'pipeline YAML file (with --compare: optional, scopes the run references)')
    .option('--set <path=value>', 'with these overrides', collect, [])
    .option('--compare <runs...>', 'compare these runs (ids, names, HEAD~N; two or more): diff table and overlaid curves, one self-contained HTML file')
    .option('--group-by <key>', 'with --compare: per run and value of this matrix key, the mean curve over the instances with a ±1 std band (repeatable), and the diff per group', collect, [])
    .option('-o, --out <dir>', 'output directory (default: artifacts/<pipeline>/report, with --compare artifacts/<pipeline>/compare)')
    .option('--open', 'open the page in a browser')
    .action(async (file: string | undefined, o) => {
      const ws = workspace(cli);
      let html: string;
      if (o.compare) {
        if (!ws.hasCache()) throw new PipeError('no cache here yet: nothing has run (pipe run <pipeline.yaml>)');
        const refs = o.compare as string[];
        if (refs.length < 2) throw new PipeError('--compare needs two or more runs, e.g. --compare 3 4 or --compare base lr-1e-2');
        const { pickRuns } = await import('./diff-impl.js');
        const { pipelineNameOf } = await import('./runs.js');
        const { diffRuns } = await import('../runs/diff.js');
        const { compareHtml } = await import('../runs/compare-html.js');
        const runs = pickRuns(ws, [...(file ? [file] : []), ...refs], pipelineNameOf);
        const diff = await diffRuns(ws.db, (h) => ws.store.path(h), runs, { groupBy: o.groupBy });
        const dir = resolve(o.out ?? join(ws.artifactsDir, runs[0]!.pipeline, 'compare'));
        mkdirSync(dir, { recursive: true });
        html = join(dir, `compare-${runs.map((r) => r.id).join('-')}.html`);
        writeFileSync(html, compareHtml({ diff, curves: diff.curves, groupBy: o.groupBy }));
        out(`wrote ${displayPath(html)}`);
      } else {
        if (o.groupBy.length) throw new PipeError('--group-by goes with --compare (pipe report --compare <runA> <runB> --group-by <key>)');
        if (!file) throw new PipeError('name the pipeline: pipe report <pipeline.yaml> (or compare runs: pipe report --compare <runA> <runB>)');
        const g = await loadGraph(file, o.set);
        const st = await statuses(ws, g);
        const { writeReportFor } = await import('../report-data.js');
        const dir = resolve(o.out ?? join(ws.artifactsDir, g.pipeline.name, 'report'));
        mkdirSync(dir, { recursive: true });
        const r = await writeReportFor(g, st, ws, dir);
        html = r.html;
        out(`wrote ${displayPath(r.html)}\nwrote ${displayPath(r.markdown)}`);
      }
      if (o.open) {
        const { spawn } = await import('node:child_process');
        spawn(process.platform === 'darwin' ? 'open' : 'xdg-open', [html], { detached: true, stdio: 'ignore' }).on('error', () => out(`open ${html} in a browser`)).unref();
      }
      ws.close();
    });
}
