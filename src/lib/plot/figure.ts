/**
 * Shared by the `plot` and `animation` kinds: gathers the rows of a stage's `data` / `overlay`
 * inputs and turns params (template + options, or an inline vega-lite spec) into one
 * self-contained vega-lite spec.
 */
import type { StageContext } from '../../sdk/stage.js';
import { gatherRows, type Row } from './data.js';
import { buildTemplate, type Datasets, type TemplateOptions } from './templates.js';
import type { VlSpec } from './render.js';

import type { FigureParams } from './schema.js';
export type { FigureParams };

/** Rows of the `data` and `overlay` inputs; `dataLimit` reads only the first rows of `data`. */
export async function readPortRows(ctx: StageContext, jsonPath?: string, dataLimit?: number): Promise<Datasets> {
  const port = async (name: string): Promise<Row[] | undefined> => {
    if (!ctx.has(name)) return undefined;
    const list = ctx.inputs(name).map((h) => ({ path: h.path, from: h.from, matrix: h.matrix }));
    return gatherRows(list, jsonPath, name === 'data' ? dataLimit : undefined);
  };
  const data = (await port('data')) ?? [];
  const overlay = await port('overlay');
  return overlay ? { data, overlay } : { data };
}

const OPTION_KEYS = new Set(['template', 'spec', 'scale', 'path', 'fps', 'frame', 'loop', 'hold_last_ms', 'fixed_scales', 'max_frames', 'follow_y', 'trail']);

/** Template options = every param except the stage-level ones. */
export function templateOptions(p: FigureParams): TemplateOptions {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (!OPTION_KEYS.has(k) && v !== undefined) o[k] = v;
  return o as unknown as TemplateOptions;
}

function usesNamedData(spec: unknown): boolean {
  if (Array.isArray(spec)) return spec.some(usesNamedData);
  if (spec && typeof spec === 'object') {
    for (const [k, v] of Object.entries(spec)) {
      if (k === 'data' && v && typeof v === 'object') return true;
      if (usesNamedData(v)) return true;
    }
  }
  return false;
}

/** The vega-lite spec for a figure: the named template, or the inline spec with datasets. */
export function buildFigureSpec(p: FigureParams, d: Datasets, extraDatasets: Record<string, Row[]> = {}): VlSpec {
  if (p.template) return buildTemplate(p.template, templateOptions(p), d);
  if (!p.spec) throw new Error("plot needs 'template' or 'spec'");
  const spec: VlSpec = structuredClone(p.spec) as VlSpec;
  spec.datasets = { ...(spec.datasets as Record<string, unknown> | undefined), data: d.data, ...(d.overlay ? { overlay: d.overlay } : {}), ...extraDatasets };
  if (!usesNamedData({ ...spec, datasets: undefined })) spec.data = { name: 'data' };
  if (p.title && spec.title === undefined) spec.title = p.subtitle ? { text: p.title, subtitle: p.subtitle } : p.title;
  return spec;
}
