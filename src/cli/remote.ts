/**
 * The remote cache on the command line: `--remote NAME` / `--no-remote` / `--remote-optional` on
 * run, status, pull and push; `pipe push [stages]` uploads fresh local results, `pipe pull`
 * fills the local cache from the remote and runs nothing.
 */
import { Option, type Command } from '../lib/vendor.js';
import { pipeVersion } from '../lib/package-root.js';
import { PipeError } from '../engine/errors.js';
import { chooseRemote } from '../engine/front/remotes.js';
import { loadUserConfig } from '../engine/front/resources.js';
import type { RemoteCache } from '../engine/cache/remote.js';
import { readManifest, type ResultManifest } from '../engine/cache/manifests.js';
import type { Workspace } from '../engine/cache/workspace.js';
import { executePipeline } from '../engine/exec/execute.js';
import { runScope } from '../engine/exec/subset.js';
import { PlainReporter } from '../engine/ui/reporters.js';
import type { FingerprintData } from '../engine/cache/fingerprint.js';
import { collect, loadGraph, out, pipelineFile, statuses, workspace, type Cli } from './common.js';

const PIPE_VERSION = pipeVersion();

/** Adds the remote options to a command. */
export function remoteOptions(c: Command): Command {
  return c
    .option('--remote <name>', 'use this remote cache (defined under remotes: in pipe.config.json or the user config; default: remote: there, or $PIPE_REMOTE)')
    .option('--no-remote', 'use no remote cache')
    .option('--remote-optional', 'if the remote cannot be reached or refuses the credentials, warn and work locally (default: an error)');
}

/**
 * The remote a command uses, checked (reachable, credentials accepted), or undefined when none
 * is configured. An unusable remote is an error (exit 2), or with --remote-optional a warning.
 */
export async function openRemote(ws: Workspace, o: { remote?: string | false; remoteOptional?: boolean }, say: (m: string) => void = (m) => process.stderr.write(`pipe: ${m}\n`)): Promise<RemoteCache | undefined> {
  const choice = chooseRemote(ws.root, loadUserConfig(), { remote: o.remote });
  if (!choice) return undefined;
  // loaded only when a remote is in use (its S3 and directory backends cost every command start-up time)
  const { backendFor, RemoteCache, RemoteError } = await import('../engine/cache/remote.js');
  const remote = new RemoteCache(choice.name, backendFor(choice.name, choice.spec, ws.root), ws.tmpDir, choice.spec.push ?? 'auto', PIPE_VERSION);
  try {
    await remote.check();
  } catch (e) {
    const msg = e instanceof RemoteError ? e.message : (e as Error).message;
    if (o.remoteOptional) {
      say(`remote '${choice.name}' cannot be used (${msg}); working locally (--remote-optional)`);
      return undefined;
    }
    throw new PipeError(`remote '${choice.name}' (${remote.where}) cannot be used: ${msg}\n  (pass --remote-optional to work locally when the remote is down, or --no-remote)`, undefined, 2);
  }
  return remote;
}

export function registerRemote(cli: Cli): void {
  remoteOptions(cli.program.command('push')
    .description('upload the fresh results of a pipeline to the remote cache (all stages, or these)')
    .argument('[pipeline]', 'pipeline YAML file (default: the latest run\'s)')
    .argument('[stages...]', 'stages (base names or instance ids) to push; default all fresh ones')
    .option('--set <path=value>', 'the configuration to push (as for pipe run)', collect, []))
    .action(async (file: string | undefined, stages: string[], o) => {
      const ws = workspace(cli);
      const g = await loadGraph(pipelineFile(ws, file), o.set);
      const remote = await openRemote(ws, o);
      if (!remote) throw new PipeError('no remote cache configured: define one under remotes: in pipe.config.json (or the user config) and name it with remote: or --remote', undefined, 2);
      const want = stages.length ? runScope(g, stages, []).selection : undefined;
      const st = (await statuses(ws, g)).filter((s) => !want || want.has(s.id));
      const fresh = st.filter((s) => s.state === 'fresh' && s.fp && s.outputs);
      let pushed = 0;
      let had = 0;
      let bytes = 0;
      const failures: string[] = [];
      for (const s of fresh) {
        const stage = g.byId.get(s.id)!;
        const m: ResultManifest = readManifest(ws.cacheDir, s.fp!) ?? {
          v: 1, fingerprint: s.fp!, fpData: s.fpData as FingerprintData, pipeline: g.pipeline.name, stageId: s.id, kind: stage.kind.kind,
          outputs: s.outputs!.map(({ execution_id: _, ...o }) => o), metrics: parseMetrics(s.hit?.metrics), started: s.hit?.started ?? 0, ended: s.hit?.ended ?? 0,
        };
        try {
          const r = await remote.push(m, ws.store, ws.db);
          if (r.skipped) had++;
          else { pushed++; bytes += r.bytes; }
        } catch (e) {
          failures.push(`${s.id}: ${(e as Error).message}`);
        }
      }
      const notFresh = st.filter((s) => s.state !== 'fresh');
      out(`remote '${remote.name}' (${remote.where}): ${pushed} result(s) pushed (${(bytes / 1e6).toFixed(1)} MB uploaded), ${had} already there${notFresh.length ? `; ${notFresh.length} stage(s) not fresh here were left out (run them first: ${notFresh.slice(0, 3).map((s) => s.id).join(', ')}${notFresh.length > 3 ? ', …' : ''})` : ''}`);
      for (const f of failures) process.stderr.write(`pipe: push failed: ${f}\n`);
      cli.code = failures.length ? 1 : 0;
      ws.close();
    });

  remoteOptions(cli.program.command('pull')
    .description('fetch a pipeline\'s results from the remote cache into the local one (verifying every byte); runs nothing')
    .argument('[pipeline]', 'pipeline YAML file (default: the latest run\'s)')
    .argument('[stages...]', 'stages (base names or instance ids) to pull, with what they need; default all')
    .option('--set <path=value>', 'the configuration to pull (as for pipe run)', collect, [])
    .option('-j, --jobs <n>', 'stages fetched in parallel', (v) => Number(v), 4)
    .addOption(new Option('--progress <mode>').choices(['plain']).default('plain').hideHelp())
    .option('-v, --verbose', 'a line for every stage'))
    .action(async (file: string | undefined, stages: string[], o) => {
      const ws = workspace(cli);
      const g = await loadGraph(pipelineFile(ws, file), o.set);
      const remote = await openRemote(ws, o);
      if (!remote) throw new PipeError('no remote cache configured: define one under remotes: in pipe.config.json (or the user config) and name it with remote: or --remote', undefined, 2);
      const s = await executePipeline(g, ws, {
        jobs: o.jobs, keepGoing: true, only: stages.length ? stages : undefined, wait: true, argv: process.argv.slice(2), overrides: o.set,
        reporter: new PlainReporter(undefined, !!o.verbose, false), remote, pullOnly: true,
      });
      const local = s.cached - s.remote;
      out(`pulled ${s.remote} result(s) from remote '${remote.name}', ${local} already local${s.skipped ? `, ${s.skipped} not available (not on the remote, or below one that is not)` : ''}`);
      cli.code = s.failed ? 1 : 0;
      ws.close();
    });
}

function parseMetrics(m: unknown): unknown {
  if (typeof m !== 'string') return m ?? null;
  try { return JSON.parse(m); } catch { return null; }
}
