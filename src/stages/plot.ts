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
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';
import { figureParamsSchema } from '../lib/plot/schema.js';

export const plotParamsSchema = {
  ...figureParamsSchema,
  properties: { ...figureParamsSchema.properties, scale: { type: 'number', minimum: 0.25, maximum: 8, default: 2, description: 'PNG pixels per CSS px' } },
  oneOf: [{ required: ['template'] }, { required: ['spec'] }],
} as const;

/** The params after defaults, derived from the schema. */
export type PlotParams = FromSchema<typeof plotParamsSchema>;


export default defineStage<PlotParams>({
  kind: 'plot',
  version: '1',
  description: 'Render a vega-lite figure (built-in template or inline spec) from tables/JSON to SVG + PNG',
  paramsSchema: plotParamsSchema,
  // library versions and the font file change the bytes of a figure
  runtime: async () => (await import('../lib/plot/runtime.js')).figureRuntime(),
  needs: () => ['fonts'],
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
    // an image grid shows the first max_images rows: don't decode 60,000 MNIST images for 16
    const datasets = await readPortRows(ctx, p.path, p.template === 'image-grid' ? (p.max_images ?? 16) : undefined);
    if (p.template === 'line') {
      const { lineJoinWarning } = await import('../lib/plot/templates.js');
      const { templateOptions } = await import('../lib/plot/figure.js');
      const w = lineJoinWarning(templateOptions(p), datasets.data);
      if (w) ctx.log.warn(w);
    }
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
