/**
 * Which Python a `kind: python` stage runs, found like a researcher expects: the stage's
 * `python:` param, else $PIPE_PYTHON, else the project's config (`python:` in pipe.config.json
 * at the project root), else the project's virtual environment (`.venv/bin/python`,
 * `venv/bin/python`), else the active virtualenv ($VIRTUAL_ENV) or conda env ($CONDA_PREFIX),
 * else `python3` on the PATH.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** pipe's Python helper package (`python/pipe_stage`), put on every Python stage's PYTHONPATH. */
export const PIPE_PYTHON_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'python');

export interface PythonChoice { path: string; source: string }

export function projectConfig(root: string): Record<string, unknown> {
  const f = join(root, 'pipe.config.json');
  if (!existsSync(f)) return {};
  try { return JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>; } catch (e) {
    throw new Error(`${f}: not valid JSON (${(e as Error).message})`);
  }
}

export function choosePython(root: string, stageParam?: string, env: NodeJS.ProcessEnv = process.env): PythonChoice {
  const abs = (p: string) => (isAbsolute(p) || !p.includes('/') ? p : resolve(root, p));
  if (stageParam) return { path: abs(stageParam), source: 'the stage (params.python)' };
  if (env.PIPE_PYTHON) return { path: abs(env.PIPE_PYTHON), source: 'PIPE_PYTHON' };
  const cfg = projectConfig(root).python;
  if (typeof cfg === 'string' && cfg) return { path: abs(cfg), source: 'pipe.config.json' };
  for (const d of ['.venv', 'venv']) {
    const p = join(root, d, 'bin', 'python');
    if (existsSync(p)) return { path: p, source: `the project's ${d}` };
  }
  if (env.VIRTUAL_ENV && existsSync(join(env.VIRTUAL_ENV, 'bin', 'python'))) return { path: join(env.VIRTUAL_ENV, 'bin', 'python'), source: 'the active virtualenv ($VIRTUAL_ENV)' };
  if (env.CONDA_PREFIX && existsSync(join(env.CONDA_PREFIX, 'bin', 'python'))) return { path: join(env.CONDA_PREFIX, 'bin', 'python'), source: 'the active conda env ($CONDA_PREFIX)' };
  return { path: 'python3', source: 'the PATH' };
}

/** The PYTHONPATH of a Python stage: pipe's helper first, then the caller's. */
export function pythonPath(env: NodeJS.ProcessEnv = process.env): string {
  return [PIPE_PYTHON_DIR, env.PYTHONPATH].filter(Boolean).join(':');
}
