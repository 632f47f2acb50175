/**
 * The `pipe` command line (commander): one file per command in src/cli/. Exit codes: 0 success,
 * 1 a stage failed, 2 bad pipeline / override / usage, 3 pipeline locked (--no-wait),
 * 130 interrupted.
 */
import { resolve } from 'node:path';
import { damagedIndexMessage, isDamagedDb } from './engine/cache/workspace.js';
import { diskFullText, isDiskFull } from './lib/system/disk.js';
import { Command, CommanderError } from './lib/vendor.js';
import { PipeError } from './engine/errors.js';
import type { Cli } from './cli/common.js';
import { commandName } from './cli/argv.js';
import { pipeVersion } from './lib/package-root.js';

/**
 * Each command's module, by the command names it registers, in help order. Only the module of
 * the command being run is loaded (the others' imports cost start-up time on every command);
 * help, a missing or an unknown command (for "did you mean") load them all.
 */
const COMMANDS: [names: string[], load: () => Promise<(cli: Cli) => void>][] = [
  [['run'], async () => (await import('./cli/run.js')).registerRun],
  [['status'], async () => (await import('./cli/status.js')).registerStatus],
  [['invalidate'], async () => (await import('./cli/invalidate.js')).registerInvalidate],
  [['graph'], async () => (await import('./cli/graph.js')).registerGraph],
  [['show'], async () => (await import('./cli/show.js')).registerShow],
  [['report'], async () => (await import('./cli/report.js')).registerReport],
  [['runs'], async () => (await import('./cli/runs.js')).registerRuns],
  [['diff'], async () => (await import('./cli/diff.js')).registerDiff],
  [['gc'], async () => (await import('./cli/gc.js')).registerGc],
  [['doctor'], async () => (await import('./cli/doctor.js')).registerDoctor],
  [['kinds'], async () => (await import('./cli/kinds.js')).registerKinds],
  [['init'], async () => (await import('./cli/init.js')).registerInit],
  [['push', 'pull'], async () => (await import('./cli/remote.js')).registerRemote],
];

/** The reader of our output went away (`pipe kinds | head`): stop quietly, like a SIGPIPE. */
const isEpipe = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code === 'EPIPE';
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (isEpipe(e)) process.exit(process.exitCode ?? 0);
    throw e;
  });
}

/** A full disk in words (where, how much is free), and what to do about it. */
const diskFullMessage = (e: unknown, cacheDir: string) =>
  `${diskFullText(e, cacheDir)}; free some space (\`pipe gc\` removes results nothing needs) and run again — finished stages are kept`;

async function main(argv: string[]): Promise<number> {
  const program = new Command('pipe')
    .description('pipe — declarative, cached, parallel pipelines for ML research')
    .option('--root <dir>', 'project root holding cache/, artifacts/ and the project\'s own stage kinds in stages/ (default: the nearest directory at or above the current one with pipe.config.json, cache/pipe.db or a package.json depending on pipe-ml; else the current directory)')
    .version(pipeVersion(), '-V, --version', 'print pipe\'s version')
    .showHelpAfterError('(run `pipe --help` for usage)')
    .exitOverride();
  const cli: Cli = { program, code: 0 };
  const name = commandName(argv);
  const only = COMMANDS.find(([names]) => name !== undefined && names.includes(name));
  for (const [, load] of only ? [only] : COMMANDS) (await load())(cli);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof PipeError) {
      process.stderr.write(e.format() + '\n');
      return e.exitCode;
    }
    const cacheDir = resolve((program.opts().root as string | undefined) ?? process.env.PIPE_ROOT ?? process.cwd(), 'cache');
    // the index went bad under a running command: say so, and how to rebuild it — no stack trace
    if (isDamagedDb(e)) {
      process.stderr.write(`pipe: ${damagedIndexMessage(cacheDir, (e as Error).message)}\n`);
      return 2;
    }
    if (isDiskFull(e)) {
      process.stderr.write(`pipe: ${diskFullMessage(e, cacheDir)}\n`);
      return 1;
    }
    throw e;
  }
  return cli.code;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: Error) => {
    if (isEpipe(e)) process.exit(process.exitCode ?? 0);
    if (isDiskFull(e)) {
      process.stderr.write(`pipe: ${diskFullMessage(e, resolve(process.env.PIPE_ROOT ?? process.cwd(), 'cache'))}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`pipe: internal error: ${e.stack ?? e.message}\n`);
    process.exitCode = 70;
  },
);
