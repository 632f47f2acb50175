/**
 * `plot`: a figure from table/JSON artifacts, rendered headlessly to SVG and PNG.
 *
 *   loss_plot:
 *     kind: plot
 *     inputs: { data: train.history }             # a gather (train[*].history) is concatenated,
 *     params:                                      # rows tagged with the matrix values + source
 *       template: line                              # or  spec: { <vega-lite>, data: {name: data} }
 *       x: epoch
 *       y: [train_loss, val_loss]
 *       best: min
 *       best_field: val_loss
 *       title: Loss
 *
 * Outputs: `svg`, `png` (exactly width × height CSS px; the PNG has `scale` × that pixels) and
 * `spec` (the vega-lite spec as rendered, data inline, for interactive embedding in reports).
 * Templates: see src/lib/plot/templates.ts. Rendering is deterministic, so equal inputs give
 * equal bytes.
 */
import { defineStage } from '../engine/stage.js';
import type { TemplateOptions } from '../lib/plot/templates.js';

const TEMPLATE_LIST = ['line', 'heatmap', 'histogram', 'pie', 'bar', 'stacked-bar', 'box', 'scatter', 'fit', 'image-grid', 'contour'];

export interface PlotParams extends Omit<TemplateOptions, 'width' | 'height'> {
  template?: string;
  spec?: Record<string, unknown>;
  width: number;
  height: number;
  scale: number;
  /** JSON inputs: take the rows from this dotted path. */
  path?: string;
}

const str = { type: 'string', minLength: 1 };
const num = { type: 'number' };
const range = { type: 'array', items: num, minItems: 2, maxItems: 2 };
const fieldType = { enum: ['quantitative', 'ordinal', 'nominal', 'temporal'] };

export const plotParamsSchema = {
  type: 'object',
  properties: {
    template: { enum: TEMPLATE_LIST, description: 'built-in template' },
    spec: { type: 'object', description: 'inline vega-lite spec; data: {name: "data"} / {name: "overlay"} refer to the inputs' },
    title: { type: 'string' },
    subtitle: { type: 'string' },
    width: { type: 'integer', minimum: 50, maximum: 4000, default: 640, description: 'figure width (CSS px)' },
    height: { type: 'integer', minimum: 50, maximum: 4000, default: 400, description: 'figure height (CSS px)' },
    scale: { type: 'number', minimum: 0.25, maximum: 8, default: 2, description: 'PNG pixels per CSS px' },
    path: { type: 'string', description: 'JSON inputs: dotted path of the rows inside the document' },
    x: str,
    y: { anyOf: [str, { type: 'array', items: str, minItems: 1 }] },
    color: str, facet: str, size: str, label: str, theta: str, order: str, overlay_x: str, overlay_y: str, best_field: str,
    columns: { type: 'integer', minimum: 1 },
    x_title: { type: 'string' }, y_title: { type: 'string' }, color_title: { type: 'string' },
    x_type: fieldType, y_type: fieldType, color_type: fieldType,
    log_x: { type: 'boolean' }, log_y: { type: 'boolean' },
    x_domain: range, y_domain: range, domain: range, extent: range,
    rules: {
      type: 'array',
      items: {
        type: 'object',
        properties: { x: num, y: num, label: { type: 'string' }, color: { type: 'string' }, dash: { type: 'boolean' } },
        additionalProperties: false,
      },
    },
    filter: { type: 'string', description: "vega expression keeping rows, e.g. \"datum.split === 'val'\"" },
    best: { enum: ['min', 'max'] },
    points: { type: 'boolean' },
    scheme: { type: 'string' },
    labels: { type: 'boolean' },
    bins: { type: 'integer', minimum: 1 },
    step: { type: 'number', exclusiveMinimum: 0 },
    mean_line: { type: 'boolean' },
    normalize: { type: 'boolean' },
    whiskers: { anyOf: [{ const: 'min-max' }, { type: 'number', exclusiveMinimum: 0 }] },
    pixels: { type: 'array', items: str },
    shape: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 2, maxItems: 2 },
    max_images: { type: 'integer', minimum: 1 },
    levels: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'array', items: num, minItems: 1 }] },
    log_levels: { type: 'boolean' },
    notes: { type: 'array', items: { type: 'string' } },
  },
  oneOf: [{ required: ['template'] }, { required: ['spec'] }],
  additionalProperties: false,
};

export default defineStage<PlotParams>({
  kind: 'plot',
  version: '1',
  description: 'Render a vega-lite figure (built-in template or inline spec) from tables/JSON to SVG + PNG',
  paramsSchema: plotParamsSchema,
  inputs: {
    data: { type: 'any', multiple: true, optional: true, description: 'table or JSON rows (several are concatenated)' },
    overlay: { type: 'any', multiple: true, optional: true, description: 'second data set (fit curves, trajectories)' },
  },
  outputs: {
    svg: { type: 'svg' },
    png: { type: 'png' },
    spec: { type: 'json', ext: '.vl.json', description: 'vega-lite spec as rendered, data inline' },
  },
  async run(ctx) {
    const { buildFigureSpec, readPortRows } = await import('../lib/plot/figure.js');
    const { renderVegaLite } = await import('../lib/plot/render.js');
    const p = ctx.params;
    const datasets = await readPortRows(ctx, p.path);
    const spec = buildFigureSpec(p, datasets);
    ctx.progress({ message: 'rendering' });
    const r = await renderVegaLite(spec, { width: p.width, height: p.height, scale: p.scale });
    for (const w of r.warnings) ctx.log.warn(w);
    await ctx.output('svg').writeText(r.svg);
    await ctx.output('png').writeBuffer(r.png);
    await ctx.output('spec').writeJSON(r.spec);
    return { metrics: { rows: datasets.data.length, png_width: r.pngWidth, png_height: r.pngHeight } };
  },
});
