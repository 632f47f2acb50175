/**
 * Where the project is. `--root` (or $PIPE_ROOT) wins; otherwise pipe walks up from the current
 * directory, like git and DVC, to the nearest directory that is a pipe project: it holds
 * `pipe.config.json`, or a cache (`cache/pipe.db`), or a `package.json` that depends on pipe
 * (`pipe-ml`) or is pipe itself. When the current directory is not inside a project and the
 * command names a pipeline file (`pipe status myexp/pipelines/x.yaml` from one folder up), the
 * walk starts from that file's directory instead. Nothing found: the current directory, as
 * before (a new project's first run creates its cache there).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export function isProjectRoot(dir: string): boolean {
  if (existsSync(join(dir, 'pipe.config.json')) || existsSync(join(dir, 'cache', 'pipe.db'))) return true;
  const pj = join(dir, 'package.json');
  if (!existsSync(pj)) return false;
  try {
    const p = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    return p.name === 'pipe-ml' || !!p.dependencies?.['pipe-ml'] || !!p.devDependencies?.['pipe-ml'];
  } catch {
    return false;
  }
}

/** The nearest project root at or above `start`, or undefined. */
export function findUp(start: string): string | undefined {
  let d = resolve(start);
  for (;;) {
    if (isProjectRoot(d)) return d;
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

export function projectRoot(opts: { root?: string; env?: NodeJS.ProcessEnv; cwd?: string; argv?: string[] } = {}): string {
  const env = opts.env ?? process.env;
  if (opts.root) return resolve(opts.root);
  if (env.PIPE_ROOT) return resolve(env.PIPE_ROOT);
  const cwd = opts.cwd ?? process.cwd();
  const found = findUp(cwd);
  if (found) return found;
  const file = (opts.argv ?? process.argv.slice(2)).find((a) => /\.ya?ml$/i.test(a) && existsSync(resolve(cwd, a)));
  if (file) {
    const fromFile = findUp(dirname(resolve(cwd, file)));
    if (fromFile) return fromFile;
  }
  return cwd;
}
