/**
 * What the `pipe` commands share: option helpers, the workspace, the pipeline file default,
 * statuses. One file per command in this directory registers that command on the program.
 */
import type { Command } from '../lib/vendor.js';
import { existsSync } from 'node:fs';
import { PipeError } from '../engine/errors.js';
import type { PipelineGraph } from '../engine/front/graph.js';
import { displayPath } from '../engine/front/load.js';
import { loadGraph } from '../engine/front/pipeline.js';
import { Planner, type StageStatus } from '../engine/cache/plan.js';
import { useProject } from '../engine/front/registry.js';
import { Workspace } from '../engine/cache/workspace.js';
import { useRequirementRoot } from '../lib/system/requirements.js';
import { projectRoot } from './root.js';

export const collect = (v: string, prev: string[] = []) => [...prev, v];
export const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');

/** State shared by the commands of one invocation. */
export interface Cli {
  program: Command;
  /** The exit code the program ends with (a command may set it). */
  code: number;
}

export function workspace(cli: Cli): Workspace {
  const ws = new Workspace(projectRoot({ root: cli.program.opts().root as string | undefined }));
  useProject(ws.root); // project kinds live in <root>/stages/
  useRequirementRoot(ws.root); // project-specific checks (a Python stage's interpreter and modules)
  return ws;
}

export const isPipelineArg = (a: string | undefined) => !!a && (/\.ya?ml$/i.test(a) || (existsSync(a) && !a.includes('[')));

/** The pipeline file given, or the one of the latest run in this workspace's cache. */
export function pipelineFile(ws: Workspace, given: string | undefined): string {
  if (given) return given;
  const f = ws.hasCache() ? ws.db.latestPipelineFile() : undefined;
  if (!f) throw new PipeError('no pipeline file given and no runs in the cache: pass one, e.g. `pipe status pipelines/quickstart.yaml`');
  return displayPath(f);
}

export { loadGraph };

export async function statuses(ws: Workspace, g: PipelineGraph): Promise<StageStatus[]> {
  return new Planner(g, ws.db, ws.store, ws.root).statusAll();
}

export function indent(s: string): string {
  return s.split('\n').map((l) => '  ' + l).join('\n');
}

export function fmtSize(n: number): string {
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}
