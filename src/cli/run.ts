/** `pipe run`: run what is stale (or, with --dry-run, say exactly what that run would run). */
import { Option } from '../lib/vendor.js';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { PipeError } from '../engine/errors.js';
import { executePipeline } from '../engine/exec/execute.js';
import type { PipelineGraph } from '../engine/front/graph.js';
import { displayPath } from '../engine/front/load.js';
import { kindCode, type StageStatus } from '../engine/cache/plan.js';
import { enforcePreflight, preflight } from '../engine/exec/preflight.js';
import { formatReasons } from '../engine/cache/reasons.js';
import { JsonReporter, PlainReporter } from '../engine/ui/reporters.js';
import type { RunReporter } from '../engine/exec/execute.js';
import { RUN_NAME, RunRecorder } from '../runs/record.js';
import { runScope, wouldRun, type RunScope } from '../engine/exec/subset.js';
import type { Workspace } from '../engine/cache/workspace.js';
import { collect, loadGraph, out, statuses, workspace, type Cli } from './common.js';
import { loadUserConfig, type ExecutorName } from '../engine/front/resources.js';
import { checkRequirement } from '../lib/system/requirements.js';
import { openRemote, remoteOptions } from './remote.js';

/** The Slurm executor needs sbatch/squeue/scancel and a controller that answers. */
async function requireSlurm(): Promise<void> {
  const r = await checkRequirement('slurm');
  if (r.status !== 'ok') throw new PipeError(`--executor slurm: ${r.detail}${r.fix ? `; fix: ${r.fix}` : ''}`, undefined, 2);
}

/**
 * A kind running from dist/ whose TypeScript source is newer would compute results with the old
 * build and record them under the new code's hash: refuse to start.
 */
function checkBuild(g: PipelineGraph, scope: RunScope, ws: Workspace): void {
  const stale = new Set<string>();
  for (const k of new Set(scope.selection.stages().map((s) => s.kind))) for (const f of kindCode(k, ws.db).staleBuild) stale.add(f);
  if (stale.size) {
    const l = [...stale];
    throw new PipeError(`the build is older than the sources (${l.slice(0, 3).join(', ')}${l.length > 3 ? ` and ${l.length - 3} more` : ''}); run \`npm run build\` first — results of the old build must not be recorded under the new code's fingerprint`, undefined, 2);
  }
}

function checkRunName(ws: Workspace, pipeline: string, name: string): void {
  if (!RUN_NAME.test(name)) throw new PipeError(`--name '${name}': a run name starts with a letter or digit and has only letters, digits and _ . + - (and is not a bare number: that is a run id)`, undefined, 2);
  // a run that did not finish `done` (failed, interrupted, killed) gives its name to the next one
  const taken = (ws.hasCache() ? ws.db.runsNamed(name, pipeline) : []).filter((r) => r.state === 'done' || r.state === 'running');
  if (taken.length) throw new PipeError(`--name '${name}': run #${taken[0]!.id} of '${pipeline}' already has this name; pick another (pipe runs lists them)`, undefined, 2);
}

export function registerRun(cli: Cli): void {
  remoteOptions(cli.program.command('run'))
    .description('run a pipeline; only stages whose fingerprint changed are executed')
    .argument('<pipeline>', 'pipeline YAML file')
    .option('--set <path=value>', 'override a pipeline param (repeatable); stages.<id>.params.<p>=v for one stage', collect, [])
    .option('-j, --jobs <n>', 'stages run in parallel (default: number of cores)', (v) => Number(v))
    .option('--only <stage>', 'run only this stage (base name or instance id) and what it needs (repeatable)', collect, [])
    .option('--force <stage>', 'recompute this stage even if cached (repeatable)', collect, [])
    .option('--name <name>', 'name this run (unique within the pipeline) for `pipe runs` / `pipe diff`, e.g. --name lr-1e-2')
    .option('--dry-run', 'print what would run and why, run nothing')
    .option('--keep-going', 'continue with independent stages after a failure')
    .option('--no-wait', 'fail at once when another run of this pipeline holds the lock')
    .addOption(new Option('--backend <name>', 'compute backend for training stages (sets the pipeline param `backend`)').choices(['auto', 'blas', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']))
    .addOption(new Option('--executor <name>', 'where stages run: local worker processes, or slurm jobs (default: `executor:` of the pipeline, else of the user config, else local)').choices(['local', 'slurm']))
    .option('--gpus <n>', 'GPUs the local executor hands out to stages with resources: {gpus: N} (devices 0 … n-1; default: the GPUs found)', (v) => Number(v))
    .option('--no-report', 'skip the HTML report even if the pipeline asks for one (report: true)')
    .addOption(new Option('--progress <mode>', 'auto: the live display on a terminal, plain lines elsewhere; live; plain; json: one JSON event per line on stdout').choices(['auto', 'live', 'plain', 'json']).default('auto'))
    .option('-v, --verbose', 'plain output with every event')
    .option('-q, --quiet', 'print only failures and the summary')
    .action(async (file: string, o) => {
      const ws = workspace(cli);
      const sets: string[] = [...o.set];
      if (o.backend) sets.push(`backend=${o.backend}`);
      const g = await loadGraph(file, sets);
      if (o.name !== undefined) checkRunName(ws, g.pipeline.name, String(o.name));
      const config = loadUserConfig();
      const executor: ExecutorName = o.executor ?? g.pipeline.doc.executor ?? config.executor ?? 'local';
      if (o.gpus !== undefined && (!Number.isInteger(o.gpus) || o.gpus < 0)) throw new PipeError('--gpus must be a whole number ≥ 0');
      const jobs = o.jobs ?? availableParallelism();
      if (!Number.isInteger(jobs) || jobs < 1) throw new PipeError(`--jobs must be a positive integer`);
      const scope = runScope(g, o.only, o.force);
      checkBuild(g, scope, ws);
      // preflight: the needs of every stage about to run, before any starts (exit 2 when missing)
      let stCache: Promise<StageStatus[]> | undefined;
      const getStatuses = () => (stCache ??= statuses(ws, g));
      const runSet = async () => wouldRun(scope, new Map((await getStatuses()).map((s) => [s.id, s.state])));
      const checked = await preflight(scope.selection.stages(), async () => new Set((await runSet()).ids()));
      const remote = await openRemote(ws, o);
      if (o.dryRun) {
        const st = new Map((await getStatuses()).map((s) => [s.id, s]));
        const will = await runSet();
        for (const id of will.ids()) {
          const fp = st.get(id)!.fp;
          const there = !scope.forced.has(id) && remote && fp && (await remote.has(fp).catch(() => false));
          out(`would ${there ? `pull ${id} from remote '${remote.name}'` : `run ${id}`}: ${scope.forced.has(id) ? 'forced (--force)' : formatReasons(st.get(id)!.reasons)}`);
        }
        const notSelected = g.order.length - scope.selection.size;
        out(`${will.size} would run, ${scope.selection.size - will.size} cached${notSelected ? `, ${notSelected} not selected` : ''} (dry run)`);
        for (const w of enforcePreflight(checked)) process.stderr.write(w + '\n');
        return;
      }
      for (const w of enforcePreflight(checked)) process.stderr.write(w + '\n');
      if (executor === 'slurm') await requireSlurm();
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
      const mode: string = o.progress === 'auto' ? (process.stderr.isTTY && !o.verbose && !o.quiet && !process.env.CI ? 'live' : 'plain') : o.progress;
      let reporter: RunReporter;
      if (mode === 'live' || mode === 'json') {
        // the ETA: expected cache misses from the plan, durations from the cache's records
        const { EtaEstimator } = await import('../engine/ui/eta.js');
        const will = new Set((await runSet()).ids());
        const eta = new EtaEstimator(ws.db.durationHistory(g.pipeline.name), g.pipeline.name, scope.selection.stages(), will, jobs);
        if (mode === 'json') reporter = new JsonReporter({ pipeline: g.pipeline.name, jobs, eta });
        else {
          const { LiveReporter } = await import('../engine/ui/live.js');
          reporter = new LiveReporter({ pipeline: g.pipeline.name, jobs, eta });
        }
      } else reporter = new PlainReporter(undefined, !!o.verbose, !!o.quiet);
      const s = await executePipeline(g, ws, { remote, jobs, keepGoing: !!o.keepGoing, only: o.only, force: o.force, wait: o.wait !== false, argv: process.argv.slice(2), name: o.name, overrides: sets, reporter, recorder: new RunRecorder(ws.root, ws.db), signal: ac.signal,
        executor, slurm: config.slurm, resources: config.resources, jobsGiven: o.jobs !== undefined, gpus: o.gpus,
      });
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
      cli.code = ac.signal.aborted ? 130 : s.failed ? 1 : 0;
      if (g.pipeline.doc.report && o.report !== false && !ac.signal.aborted) {
        const { writeReportFor } = await import('../report-data.js');
        const dir = join(ws.artifactsDir, g.pipeline.name, 'report');
        mkdirSync(dir, { recursive: true });
        const r = await writeReportFor(g, await statuses(ws, g), ws, dir);
        if (mode === 'json') process.stdout.write(JSON.stringify({ event: 'report', path: r.html }) + '\n');
        else out(`report: ${displayPath(r.html)}`);
      }
      ws.close();
    });
}
