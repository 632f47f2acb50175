/**
 * The `pipe` command line (commander): one file per command in src/cli/. Exit codes: 0 success,
 * 1 a stage failed, 2 bad pipeline / override / usage, 3 pipeline locked (--no-wait),
 * 130 interrupted.
 */
import { resolve } from 'node:path';
import { damagedIndexMessage, isDamagedDb } from './engine/cache/workspace.js';
import { diskFullText, isDiskFull } from './lib/system/disk.js';
import { Command, CommanderError } from 'commander';
import { PipeError } from './engine/errors.js';
import type { Cli } from './cli/common.js';
import { registerDoctor } from './cli/doctor.js';
import { registerGc } from './cli/gc.js';
import { registerGraph } from './cli/graph.js';
import { registerInit } from './cli/init.js';
import { registerInvalidate } from './cli/invalidate.js';
import { registerKinds } from './cli/kinds.js';
import { registerReport } from './cli/report.js';
import { registerRun } from './cli/run.js';
import { registerRuns } from './cli/runs.js';
import { registerDiff } from './cli/diff.js';
import { registerShow } from './cli/show.js';
import { registerStatus } from './cli/status.js';
import { registerRemote } from './cli/remote.js';

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
    .showHelpAfterError('(run `pipe --help` for usage)')
    .exitOverride();
  const cli: Cli = { program, code: 0 };
  for (const register of [registerRun, registerStatus, registerInvalidate, registerGraph, registerShow, registerReport, registerRuns, registerDiff, registerGc, registerDoctor, registerKinds, registerInit, registerRemote]) register(cli);
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
