/** `pipe show`: params, fingerprint parts, outputs, metrics, timings and log tail of a stage. */
import { didYouMean, PipeError } from '../engine/errors.js';
import type { FingerprintData } from '../engine/cache/fingerprint.js';
import { displayPath } from '../engine/front/load.js';
import { fmtSize, indent, isPipelineArg, loadGraph, out, workspace, type Cli } from './common.js';

export function registerShow(cli: Cli): void {
  cli.program.command('show')
    .description('params, fingerprint, outputs, metrics, timings and log tail of a stage')
    .argument('<args...>', '[pipeline.yaml] <stage-id>')
    .option('--json', 'machine-readable')
    .option('--log-lines <n>', 'lines of log to show', (v) => Number(v), 30)
    .action(async (args: string[], o) => {
      const ws = workspace(cli);
      const given = isPipelineArg(args[0]) ? args.shift() : undefined;
      const id = args[0];
      if (!id) throw new PipeError('name a stage: pipe show <stage-id>');
      if (!ws.hasCache()) throw new PipeError('no cache here yet: nothing has run');
      let pipeline: string | undefined;
      if (given) pipeline = (await loadGraph(given)).pipeline.name;
      const rows = ws.db.findStage(id).filter((r) => !pipeline || r.pipeline === pipeline);
      const jobs = ws.db.slurmJobsOf(id, pipeline);
      const jobLine = (j: (typeof jobs)[number]) => `job ${j.job_id} ${j.slurm_state ?? 'SUBMITTED'}${j.node ? ` on ${j.node}` : ''} (attempt ${j.attempt}${j.live ? `, run ${j.run_id} is polling it` : ', no run is polling it: the next `pipe run` adopts it'})`;
      if (!rows.length && jobs.length && !o.json) {
        out(`${id}  (pipeline ${jobs[0]!.pipeline})`);
        out(`state:       running on Slurm, never finished before`);
        for (const j of jobs) out(`slurm:       ${jobLine(j)}`);
        ws.close();
        return;
      }
      if (!rows.length) throw new PipeError(`no executions of '${id}' in the cache${didYouMean(id, ws.db.stageIds())}`);
      const e = rows[0]!;
      const fp = JSON.parse(e.fp_data) as FingerprintData;
      const outputs = ws.db.outputs(e.id).map((x) => ({ name: x.name, type: x.type, hash: x.hash, size: x.size, object: ws.store.path(x.hash), state: ws.store.verify(x.hash) }));
      const src = e.cached_from ? ws.db.execution(e.cached_from) : undefined;
      const log = (src ?? e).log ?? '';
      const info = {
        id: e.stage_id, pipeline: e.pipeline, kind: e.kind, state: e.state, fingerprint: e.fingerprint,
        started: new Date(e.started).toISOString(), durationMs: src ? (src.ended ?? src.started) - src.started : e.ended ? e.ended - e.started : null,
        cachedFrom: src ? { execution: src.id, run: src.run_id, at: new Date(src.started).toISOString() } : null,
        fingerprintData: fp, metrics: e.metrics ? JSON.parse(e.metrics) : null, error: e.error, outputs, deps: e.deps ? JSON.parse(e.deps) : [],
        slurm: jobs.map((j) => ({ jobId: j.job_id, state: j.slurm_state ?? 'SUBMITTED', node: j.node, attempt: j.attempt, live: j.live })),
      };
      if (o.json) { out(JSON.stringify({ ...info, log }, null, 2)); return; }
      out(`${info.id}  (${info.kind}, pipeline ${info.pipeline})`);
      out(`state:       ${info.state}${src ? ` — cached result of run ${src.run_id} (${info.cachedFrom!.at})` : ''}`);
      for (const j of jobs) out(`slurm:       now ${jobLine(j)}`);
      out(`fingerprint: ${info.fingerprint}`);
      out(`started:     ${info.started}${info.durationMs !== null ? `, took ${(info.durationMs / 1000).toFixed(2)}s` : ''}`);
      if (info.deps.length) out(`depends on:  ${info.deps.join(', ')}`);
      out('\nparams:');
      out(indent(JSON.stringify(fp.params, null, 2)));
      out('\nfingerprint parts:');
      out(`  kind ${fp.kind} v${fp.version}, seed ${fp.seed} (format ${fp.format})`);
      for (const [k, h] of Object.entries(fp.code ?? {})) out(`  code ${k}: ${h.slice(0, 12)}`);
      for (const [k, hs] of Object.entries(fp.inputs ?? {})) out(`  input ${k}: ${hs.map((h) => h.slice(0, 12)).join(', ')}`);
      for (const [k, h] of Object.entries(fp.files ?? {})) out(`  file ${k}: ${h.slice(0, 12)}`);
      for (const [k, v] of Object.entries(fp.runtime ?? {})) out(`  runtime.${k}: ${v}`);
      if (outputs.length) {
        out('\noutputs:');
        for (const x of outputs) out(`  ${x.name.padEnd(14)} ${x.type.padEnd(6)} ${fmtSize(x.size).padStart(9)}  ${x.hash.slice(0, 12)}  ${x.state === 'ok' ? displayPath(ws.viewPath(e.pipeline, e.stage_id, x.name, x.type)) : `(${x.state})`}`);
      }
      if (info.metrics) { out('\nmetrics:'); out(indent(JSON.stringify(info.metrics, null, 2))); }
      if (info.error) { out('\nerror:'); out(indent(info.error)); }
      const tail = log.split('\n').filter(Boolean).slice(-o.logLines);
      if (tail.length) { out(`\nlog (last ${tail.length} lines):`); out(indent(tail.join('\n'))); }
      ws.close();
    });
}
