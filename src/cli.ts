/**
 * The `pipe` command line (commander). Exit codes: 0 success, 1 a stage failed,
 * 2 bad pipeline / override / usage, 3 pipeline locked (--no-wait), 130 interrupted.
 */
import { Command, CommanderError, Option } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { PipeError } from './engine/errors.js';
import { executePipeline, runSelection, selectStages } from './engine/execute.js';
import { enforcePreflight, preflight } from './engine/preflight.js';
import type { PipelineGraph } from './engine/graph.js';
import { loadGraph } from './engine/pipeline.js';
import { Planner, type StageState, type StageStatus } from './engine/plan.js';
import { ListrReporter, PlainReporter } from './engine/reporters.js';
import { renderAscii, renderDot, renderMermaid, setGraphColor, type GraphFormat } from './engine/render-graph.js';
import { loadKinds } from './engine/registry.js';
import { resolvePorts } from './engine/stage.js';
import { Workspace } from './engine/workspace.js';
import type { FingerprintData } from './engine/fingerprint.js';
import { displayPath } from './engine/load.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');

function workspace(opts: { root?: string }): Workspace {
  return new Workspace(opts.root ?? process.env.PIPE_ROOT ?? process.cwd());
}

const isPipelineArg = (a: string | undefined) => !!a && (/\.ya?ml$/i.test(a) || (existsSync(a) && !a.includes('[')));

/** The pipeline file given, or the one of the latest run in this workspace's cache. */
function pipelineFile(ws: Workspace, given: string | undefined): string {
  if (given) return given;
  const f = ws.hasCache() ? ws.db.latestPipelineFile() : undefined;
  if (!f) throw new PipeError('no pipeline file given and no runs in the cache: pass one, e.g. `pipe status pipelines/quickstart.yaml`');
  return displayPath(f);
}

async function statuses(ws: Workspace, g: PipelineGraph): Promise<StageStatus[]> {
  return new Planner(g, ws.db, ws.store, ws.root).statusAll();
}

const STATE_ORDER: StageState[] = ['fresh', 'stale', 'never-run', 'failed'];

async function main(argv: string[]): Promise<number> {
  const program = new Command('pipe')
    .description('pipe — declarative, cached, parallel pipelines for ML research')
    .option('--root <dir>', 'project root holding cache/ and artifacts/ (default: current directory)')
    .showHelpAfterError('(run `pipe --help` for usage)')
    .exitOverride();
  let code = 0;

  program.command('run')
    .description('run a pipeline; only stages whose fingerprint changed are executed')
    .argument('<pipeline>', 'pipeline YAML file')
    .option('--set <path=value>', 'override a pipeline param (repeatable); stages.<id>.params.<p>=v for one stage', collect, [])
    .option('-j, --jobs <n>', 'stages run in parallel (default: number of cores)', (v) => Number(v))
    .option('--only <stage>', 'run only this stage (base name or instance id) and what it needs (repeatable)', collect, [])
    .option('--force <stage>', 'recompute this stage even if cached (repeatable)', collect, [])
    .option('--dry-run', 'print what would run and why, run nothing')
    .option('--keep-going', 'continue with independent stages after a failure')
    .option('--no-wait', 'fail at once when another run of this pipeline holds the lock')
    .addOption(new Option('--backend <name>', 'compute backend for training stages (sets the pipeline param `backend`)').choices(['auto', 'blas', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']))
    .option('--no-report', 'skip the HTML report even if the pipeline asks for one (report: true)')
    .option('-v, --verbose', 'plain output with every event')
    .option('-q, --quiet', 'print only failures and the summary')
    .action(async (file: string, o) => {
      const ws = workspace(program.opts());
      const sets: string[] = [...o.set];
      if (o.backend) sets.push(`backend=${o.backend}`);
      const g = await loadGraph(file, sets);
      const jobs = o.jobs ?? availableParallelism();
      if (!Number.isInteger(jobs) || jobs < 1) throw new PipeError(`--jobs must be a positive integer`);
      // preflight: the needs of every stage about to run, before any starts (exit 2 when missing)
      const selection = runSelection(g, o.only);
      const forced = o.force.length ? selectStages(g, o.force) : new Set<string>();
      let stCache: Promise<StageStatus[]> | undefined;
      const getStatuses = () => (stCache ??= statuses(ws, g));
      const willRun = async () => new Set((await getStatuses()).filter((s) => selection.has(s.id) && (s.state !== 'fresh' || forced.has(s.id))).map((s) => s.id));
      const checked = await preflight(g.order.filter((s) => selection.has(s.id)), willRun);
      if (o.dryRun) {
        const sel = o.only.length ? new Set<string>() : undefined;
        if (sel) for (const id of selectStages(g, o.only)) sel.add(id);
        const st = await getStatuses();
        let n = 0;
        for (const s of st) {
          if (sel && !sel.has(s.id)) continue;
          if (s.state === 'fresh' && !forced.has(s.id)) continue;
          n++;
          out(`would run ${s.id}: ${forced.has(s.id) ? 'forced' : s.reasons.join('; ')}`);
        }
        out(`${n} would run, ${st.length - n} cached (dry run)`);
        for (const w of enforcePreflight(checked)) process.stderr.write(w + '\n');
        return;
      }
      for (const w of enforcePreflight(checked)) process.stderr.write(w + '\n');
      const ac = new AbortController();
      let sigints = 0;
      const onSig = () => {
        sigints++;
        if (sigints === 1) {
          process.stderr.write('\npipe: stopping — running stages are aborted and nothing half-written is recorded (Ctrl-C again to force)\n');
          ac.abort();
        } else process.exit(130);
      };
      process.on('SIGINT', onSig);
      process.on('SIGTERM', onSig);
      const tty = process.stderr.isTTY && !o.verbose && !o.quiet && !process.env.CI;
      const reporter = tty ? new ListrReporter() : new PlainReporter(undefined, !!o.verbose, !!o.quiet);
      const s = await executePipeline(g, ws, { jobs, keepGoing: !!o.keepGoing, only: o.only, force: o.force, wait: o.wait !== false, argv: process.argv.slice(2), reporter, signal: ac.signal });
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      code = ac.signal.aborted ? 130 : s.failed ? 1 : 0;
      if (g.pipeline.doc.report && o.report !== false && !ac.signal.aborted) {
        const { writeReportFor } = await import('./report-data.js');
        const dir = join(ws.artifactsDir, g.pipeline.name, 'report');
        mkdirSync(dir, { recursive: true });
        const r = await writeReportFor(g, await statuses(ws, g), ws, dir);
        out(`report: ${displayPath(r.html)}`);
      }
      ws.close();
    });

  program.command('status')
    .description('what is fresh, stale, never run or failed — and why')
    .argument('[pipeline]', 'pipeline YAML file (default: list the pipelines in the cache)')
    .option('--set <path=value>', 'evaluate with these overrides', collect, [])
    .option('--json', 'print [{id, state, reasons}] as JSON')
    .action(async (file: string | undefined, o) => {
      const ws = workspace(program.opts());
      if (!file) {
        const rows = ws.hasCache() ? ws.db.pipelines() : [];
        if (o.json) { out(JSON.stringify(rows.map((r) => ({ pipeline: r.pipeline, file: r.pipeline_file, runs: r.runs, lastRun: new Date(r.last).toISOString(), lastState: r.state })), null, 2)); return; }
        if (!rows.length) { out('no runs in the cache yet (pipe run <pipeline.yaml>)'); return; }
        for (const r of rows) out(`${r.pipeline.padEnd(24)} ${displayPath(r.pipeline_file).padEnd(40)} ${String(r.runs).padStart(4)} runs, last ${new Date(r.last).toISOString()} (${r.state})`);
        return;
      }
      const g = await loadGraph(file, o.set);
      const st = await statuses(ws, g);
      if (o.json) {
        out(JSON.stringify(st.map((s) => ({ id: s.id, state: s.state, reasons: s.reasons })), null, 2));
      } else {
        const w = Math.min(48, Math.max(5, ...st.map((s) => s.id.length)));
        out(`${'STAGE'.padEnd(w)}  ${'STATE'.padEnd(9)}  WHY`);
        for (const s of st) out(`${s.id.padEnd(w)}  ${s.state.padEnd(9)}  ${s.reasons.join('; ')}`);
        const counts = STATE_ORDER.map((k) => [k, st.filter((s) => s.state === k).length] as const).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`);
        out(`\n${st.length} stages: ${counts.join(', ')}`);
      }
      ws.close();
    });

  program.command('invalidate')
    .description('force the next run to recompute stages')
    .argument('<args...>', '[pipeline.yaml] <stage-id>… (base names select every matrix instance)')
    .option('--downstream', 'also invalidate every stage that depends on them')
    .action(async (args: string[], o) => {
      const ws = workspace(program.opts());
      const file = pipelineFile(ws, isPipelineArg(args[0]) ? args.shift() : undefined);
      if (!args.length) throw new PipeError('name at least one stage to invalidate');
      const g = await loadGraph(file);
      const ids = selectStages(g, args);
      if (o.downstream) {
        const stack = [...ids];
        while (stack.length) {
          const id = stack.pop()!;
          for (const c of g.graph.outNeighbors(id)) if (!ids.has(c)) { ids.add(c); stack.push(c); }
        }
      }
      const n = ws.db.invalidate(g.pipeline.name, [...ids]);
      out(`invalidated ${ids.size} stage(s) (${n} cached result(s)); the next run recomputes them`);
      ws.close();
    });

  program.command('graph')
    .description('draw the DAG, coloured by state')
    .argument('[pipeline]', 'pipeline YAML file (default: the latest run)')
    .addOption(new Option('--format <f>', 'output format').choices(['ascii', 'dot', 'mermaid', 'html']).default('ascii'))
    .option('--expand', 'one node per matrix instance instead of one per stage group')
    .option('--set <path=value>', 'with these overrides', collect, [])
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (file: string | undefined, o) => {
      const ws = workspace(program.opts());
      const g = await loadGraph(pipelineFile(ws, file), o.set);
      const st = await statuses(ws, g);
      const states = new Map(st.map((s) => [s.id, s.state]));
      const fmt = o.format as GraphFormat;
      setGraphColor(!o.output && process.stdout.isTTY && !process.env.NO_COLOR);
      let text: string;
      if (fmt === 'html') {
        const { dagHtmlFor } = await import('./report-data.js');
        text = await dagHtmlFor(g, st, ws);
      } else text = fmt === 'dot' ? renderDot(g, states, o.expand) : fmt === 'mermaid' ? renderMermaid(g, states, o.expand) : renderAscii(g, states, o.expand);
      if (o.output) { writeFileSync(o.output, text); out(`wrote ${o.output}`); } else out(text);
      ws.close();
    });

  program.command('show')
    .description('params, fingerprint, outputs, metrics, timings and log tail of a stage')
    .argument('<args...>', '[pipeline.yaml] <stage-id>')
    .option('--json', 'machine-readable')
    .option('--log-lines <n>', 'lines of log to show', (v) => Number(v), 30)
    .action(async (args: string[], o) => {
      const ws = workspace(program.opts());
      const given = isPipelineArg(args[0]) ? args.shift() : undefined;
      const id = args[0];
      if (!id) throw new PipeError('name a stage: pipe show <stage-id>');
      if (!ws.hasCache()) throw new PipeError('no cache here yet: nothing has run');
      let pipeline: string | undefined;
      if (given) pipeline = (await loadGraph(given)).pipeline.name;
      const rows = ws.db.findStage(id).filter((r) => !pipeline || r.pipeline === pipeline);
      if (!rows.length) {
        const all = ws.db.db.prepare('SELECT DISTINCT stage_id FROM executions').all() as { stage_id: string }[];
        const { didYouMean } = await import('./engine/errors.js');
        throw new PipeError(`no executions of '${id}' in the cache${didYouMean(id, all.map((r) => r.stage_id))}`);
      }
      const e = rows[0]!;
      const fp = JSON.parse(e.fp_data) as FingerprintData;
      const outputs = ws.db.outputs(e.id).map((x) => ({ name: x.name, type: x.type, hash: x.hash, size: x.size, object: ws.store.path(x.hash), state: ws.store.verify(x.hash) }));
      const src = e.cached_from ? (ws.db.db.prepare('SELECT * FROM executions WHERE id = ?').get(e.cached_from) as typeof e | undefined) : undefined;
      const log = (src ?? e).log ?? '';
      const info = {
        id: e.stage_id, pipeline: e.pipeline, kind: e.kind, state: e.state, fingerprint: e.fingerprint,
        started: new Date(e.started).toISOString(), durationMs: src ? (src.ended ?? src.started) - src.started : e.ended ? e.ended - e.started : null,
        cachedFrom: src ? { execution: src.id, run: src.run_id, at: new Date(src.started).toISOString() } : null,
        fingerprintData: fp, metrics: e.metrics ? JSON.parse(e.metrics) : null, error: e.error, outputs, deps: e.deps ? JSON.parse(e.deps) : [],
      };
      if (o.json) { out(JSON.stringify({ ...info, log }, null, 2)); return; }
      out(`${info.id}  (${info.kind}, pipeline ${info.pipeline})`);
      out(`state:       ${info.state}${src ? ` — cached result of run ${src.run_id} (${info.cachedFrom!.at})` : ''}`);
      out(`fingerprint: ${info.fingerprint}`);
      out(`started:     ${info.started}${info.durationMs !== null ? `, took ${(info.durationMs / 1000).toFixed(2)}s` : ''}`);
      if (info.deps.length) out(`depends on:  ${info.deps.join(', ')}`);
      out('\nparams:');
      out(indent(JSON.stringify(fp.params, null, 2)));
      out('\nfingerprint parts:');
      out(`  kind ${fp.kind} v${fp.version}, seed ${fp.seed}`);
      for (const [k, hs] of Object.entries(fp.inputs)) out(`  input ${k}: ${hs.map((h) => h.slice(0, 12)).join(', ')}`);
      for (const [k, h] of Object.entries(fp.files)) out(`  file ${k}: ${h.slice(0, 12)}`);
      for (const [k, v] of Object.entries(fp.runtime)) out(`  runtime.${k}: ${v}`);
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

  program.command('report')
    .description('write the HTML report (and REPORT.md) of a pipeline from the cache, without running')
    .argument('<pipeline>', 'pipeline YAML file')
    .option('--set <path=value>', 'with these overrides', collect, [])
    .option('-o, --out <dir>', 'output directory (default: artifacts/<pipeline>/report)')
    .option('--open', 'open the page in a browser')
    .action(async (file: string, o) => {
      const ws = workspace(program.opts());
      const g = await loadGraph(file, o.set);
      const st = await statuses(ws, g);
      const { writeReportFor } = await import('./report-data.js');
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

  program.command('gc')
    .description('delete cached artifacts no longer needed (keeps the latest result of every stage)')
    .option('--keep-runs <n>', 'also keep every output of the last N runs of each pipeline', (v) => Number(v), 3)
    .option('--dry-run', 'only say what would be deleted')
    .action(async (o) => {
      const ws = workspace(program.opts());
      if (!ws.hasCache()) { out('no cache here'); return; }
      const live = ws.db.liveObjects(o.keepRuns);
      let n = 0;
      let bytes = 0;
      for (const obj of ws.db.allObjects()) {
        if (live.has(obj.hash)) continue;
        n++;
        bytes += obj.size;
        if (!o.dryRun) {
          const { rmSync } = await import('node:fs');
          rmSync(ws.store.path(obj.hash), { recursive: true, force: true });
          ws.db.deleteObject(obj.hash);
        }
      }
      out(`${o.dryRun ? 'would delete' : 'deleted'} ${n} object(s), ${fmtSize(bytes)}; kept ${live.size}`);
      ws.close();
    });

  program.command('doctor')
    .description('check what this machine has for the installed pipelines (libraries, fonts, cache), with the fix for each problem')
    .option('--json', 'machine-readable')
    .action(async (o) => {
      const ws = workspace(program.opts());
      const { doctor, formatDoctor } = await import('./cli/doctor.js');
      const r = await doctor(ws);
      out(o.json ? JSON.stringify(r, null, 2) : formatDoctor(r));
      code = r.ok ? 0 : 1;
      ws.close();
    });

  program.command('kinds')
    .description('list the stage kinds, or show one kind\'s params, inputs and outputs')
    .argument('[kind]')
    .action(async (name: string | undefined) => {
      const kinds = await loadKinds();
      if (!name) {
        for (const k of [...kinds.values()].sort((a, b) => a.kind.localeCompare(b.kind))) out(`${k.kind.padEnd(20)} v${k.version.padEnd(4)} ${k.description}`);
        return;
      }
      const k = kinds.get(name);
      if (!k) {
        const { didYouMean } = await import('./engine/errors.js');
        throw new PipeError(`unknown stage kind '${name}'${didYouMean(name, kinds.keys())}`);
      }
      out(`${k.kind} (v${k.version}): ${k.description}\n\nparams schema:\n${indent(JSON.stringify(k.paramsSchema, null, 2))}`);
      if (typeof k.inputs !== 'function') out(`\ninputs: ${Object.entries(k.inputs).map(([n, s]) => `${n}${s.multiple ? '[]' : ''}${s.optional ? '?' : ''}: ${s.type ?? 'any'}`).join(', ') || 'none'}`);
      if (typeof k.outputs !== 'function') out(`outputs: ${Object.entries(resolvePorts(k.outputs, {})).map(([n, s]) => `${n}: ${s.type}`).join(', ') || 'none'}`);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof PipeError) {
      process.stderr.write(e.format() + '\n');
      return e.exitCode;
    }
    throw e;
  }
  return code;
}

function indent(s: string): string {
  return s.split('\n').map((l) => '  ' + l).join('\n');
}

function fmtSize(n: number): string {
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: Error) => {
    process.stderr.write(`pipe: internal error: ${e.stack ?? e.message}\n`);
    process.exitCode = 70;
  },
);
