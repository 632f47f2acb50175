/** `pipe graph`: the DAG coloured by state (ascii, dot, mermaid, html). */
import { Option } from '../lib/vendor.js';
import { writeFileSync } from 'node:fs';
import { renderAscii, renderDot, renderMermaid, setGraphColor, type GraphFormat } from '../engine/ui/render-graph.js';
import { collect, loadGraph, out, pipelineFile, statuses, workspace, type Cli } from './common.js';

export function registerGraph(cli: Cli): void {
  cli.program.command('graph')
    .description('draw the DAG, coloured by state')
    .argument('[pipeline]', 'pipeline YAML file (default: the latest run)')
    .addOption(new Option('--format <f>', 'output format').choices(['ascii', 'dot', 'mermaid', 'html']).default('ascii'))
    .option('--expand', 'one node per matrix instance instead of one per stage group')
    .option('--set <path=value>', 'with these overrides', collect, [])
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (file: string | undefined, o) => {
      const ws = workspace(cli);
      const g = await loadGraph(pipelineFile(ws, file), o.set);
      const st = await statuses(ws, g);
      const states = new Map(st.map((s) => [s.id, s.state]));
      const fmt = o.format as GraphFormat;
      setGraphColor(!o.output && process.stdout.isTTY && !process.env.NO_COLOR);
      let text: string;
      if (fmt === 'html') {
        const { dagHtmlFor } = await import('../report-data.js');
        text = await dagHtmlFor(g, st, ws);
      } else text = fmt === 'dot' ? renderDot(g, states, o.expand) : fmt === 'mermaid' ? renderMermaid(g, states, o.expand) : renderAscii(g, states, o.expand);
      if (o.output) { writeFileSync(o.output, text); out(`wrote ${o.output}`); } else out(text);
      ws.close();
    });
}
