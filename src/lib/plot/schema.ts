/**
 * Params JSON schema of figures (the `plot` and `animation` kinds): a built-in template with its
 * options, or an inline vega-lite spec. Cheap to import (no vega).
 */
import type { FromSchema } from 'json-schema-to-ts';

export const TEMPLATE_LIST = ['line', 'band', 'forest', 'heatmap', 'histogram', 'pie', 'bar', 'stacked-bar', 'box', 'scatter', 'fit', 'image-grid', 'contour'] as const;


const str = { type: 'string', minLength: 1 } as const;
const num = { type: 'number' } as const;
/** [lo, hi] */
const range = { type: 'array', items: [num, num], minItems: 2, maxItems: 2, additionalItems: false } as const;
const fieldType = { enum: ['quantitative', 'ordinal', 'nominal', 'temporal'] } as const;

/** Params shared by `plot` and `animation` (figure options; every template option). */
export const figureParamsSchema = {
  type: 'object',
  properties: {
    template: { enum: TEMPLATE_LIST, description: 'built-in template' },
    spec: { type: 'object', description: 'inline vega-lite spec; data: {name: "data"} / {name: "overlay"} refer to the inputs' },
    title: { type: 'string' },
    subtitle: { type: 'string' },
    width: { type: 'integer', minimum: 50, maximum: 4000, default: 640, description: 'figure width (CSS px)' },
    height: { type: 'integer', minimum: 50, maximum: 4000, default: 400, description: 'figure height (CSS px)' },
    path: { type: 'string', description: 'JSON inputs: dotted path of the rows inside the document' },
    x: str,
    x2: { type: 'string', minLength: 1, description: 'histogram: the data is pre-binned — x = bin start, x2 = bin end, y = count' },
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
        properties: { x: num, y: num, x_field: { type: 'string', minLength: 1, description: 'vertical line at the value of this field (first row of each panel)' }, label: { type: 'string' }, color: { type: 'string' }, dash: { type: 'boolean' } },
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
    shape: { type: 'array', items: [{ type: 'integer', minimum: 1 }, { type: 'integer', minimum: 1 }], minItems: 2, maxItems: 2, additionalItems: false },
    max_images: { type: 'integer', minimum: 1 },
    levels: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'array', items: num, minItems: 1 }] },
    log_levels: { type: 'boolean' },
    notes: { type: 'array', items: { type: 'string' } },
    band: { enum: ['std', 'ci', 'minmax'], description: "band: the band around the mean over instances at each x — ±1 sample std (default), the 95% t interval of the mean, or min–max" },
    lo: { type: 'string', minLength: 1, description: 'forest: field of the interval low end' },
    hi: { type: 'string', minLength: 1, description: 'forest: field of the interval high end' },
    notes_field: { type: 'string', minLength: 1, description: 'fit: box lines from this field of the first row that has it' },
  },
  additionalProperties: false,
} as const satisfies Record<string, unknown> & { properties: Record<string, unknown> };

/** Figure params after defaults, derived from the schema (a figure's template options plus `template`/`spec`/`path`). */
export type FigureParams = FromSchema<typeof figureParamsSchema>;
