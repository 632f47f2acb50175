/** `pipe report`: the HTML report and REPORT.md of a pipeline from the cache, without running. */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { displayPath } from '../engine/load.js';
import { collect, loadGraph, out, statuses, workspace, type Cli } from './common.js';

export function registerReport(cli: Cli): void {
  cli.program.command('report')
    .description('write the HTML report (and REPORT.md) of a pipeline from the cache, without running')
    .argument('<pipeline>', 'pipeline YAML file')
    .option('--set <path=value>', 'with these overrides', collect, [])
    .option('-o, --out <dir>', 'output directory (default: artifacts/<pipeline>/report)')
    .option('--open', 'open the page in a browser')
    .action(async (file: string, o) => {
      const ws = workspace(cli);
      const g = await loadGraph(file, o.set);
      const st = await statuses(ws, g);
      const { writeReportFor } = await import('../report-data.js');
      const dir = resolve(o.out ?? join(ws.artifactsDir, g.pipeline.name, 'report'));
      mkdirSync(dir, { recursive: true });
      const r = await writeReportFor(g, st, ws, dir);
      out(`wrote ${displayPath(r.html)}\nwrote ${displayPath(r.markdown)}`);
      if (o.open) {
        const { spawn } = await import('node:child_process');
        spawn(process.platform === 'darwin' ? 'open' : 'xdg-open', [r.html], { detached: true, stdio: 'ignore' }).on('error', () => out(`open ${r.html} in a browser`)).unref();
      }
      ws.close();
    });
}
