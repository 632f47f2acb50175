/**
 * Built-in vega-lite templates for the figures the research codebases draw. Each template
 * turns options (field names, titles, reference lines, …) plus rows into a self-contained
 * vega-lite spec (rows under `datasets`), so the same spec renders headlessly to SVG/PNG and
 * interactively in the HTML report.
 *
 * Rows come from the `data` input; `fit` and `contour` also use the `overlay` input
 * (fitted curves; an optimisation trajectory).
 */
import type { Row } from './data.js';
import { fontMetrics } from './font-metrics.js';
import type { VlSpec } from './render.js';

export type FieldType = 'quantitative' | 'ordinal' | 'nominal' | 'temporal';

export interface RuleSpec {
  /** Vertical line at this x value. */
  x?: number;
  /** Vertical line at the value of this field (its first row in each panel). */
  x_field?: string;
  /** Horizontal line at this y value. */
  y?: number;
  label?: string;
  color?: string;
  /** Dashed (default true). */
  dash?: boolean;
}

export interface TemplateOptions {
  title?: string;
  subtitle?: string;
  /** Figure size in CSS px (facet panels are sized to share it). */
  width: number;
  height: number;
  x?: string;
  /** One field, or several (folded into `series`/`value` and coloured by field name). */
  y?: string | string[];
  color?: string;
  facet?: string;
  columns?: number;
  x_title?: string;
  y_title?: string;
  color_title?: string;
  x_type?: FieldType;
  y_type?: FieldType;
  color_type?: FieldType;
  log_x?: boolean;
  log_y?: boolean;
  x_domain?: [number, number];
  y_domain?: [number, number];
  /** Reference lines. */
  rules?: RuleSpec[];
  /** vega expression keeping rows, e.g. "datum.split === 'val'". */
  filter?: string;
  /** line: mark the row where `best_field` is smallest ('min') or largest ('max'). */
  best?: 'min' | 'max';
  best_field?: string;
  /** line: draw points on the lines. */
  points?: boolean;
  /** heatmap/contour/image-grid: colour scale domain and scheme. */
  domain?: [number, number];
  scheme?: string;
  /** heatmap: write values in the cells. */
  labels?: boolean;
  /** histogram */
  bins?: number;
  /** histogram: pre-binned data (x = bin start, x2 = bin end, y = count). */
  x2?: string;
  step?: number;
  extent?: [number, number];
  mean_line?: boolean;
  /** stacked-bar: stack to 100 %. */
  normalize?: boolean;
  /** pie: the value field (default: count rows per `color`). */
  theta?: string;
  /** box: whisker extent ('min-max' or a multiple of the IQR). */
  whiskers?: 'min-max' | number;
  size?: string;
  /** image-grid: pixel columns (default: every numeric column but `label`), image shape [h, w]. */
  pixels?: string[];
  shape?: [number, number];
  label?: string;
  max_images?: number;
  /** contour: number of levels or explicit level values; `log_levels` spaces them geometrically. */
  levels?: number | number[];
  log_levels?: boolean;
  /** contour/fit overlay fields (default: x / y, and `order` for the trajectory order). */
  overlay_x?: string;
  overlay_y?: string;
  order?: string;
  /** fit: text lines shown in a box in the top-left corner. */
  notes?: string[];
  /** band: the band around the mean over instances: std (±1 sample std), ci (t interval, 95%), minmax. */
  band?: 'std' | 'ci' | 'minmax';
  /** forest: the interval's fields. */
  lo?: string;
  hi?: string;
  /** fit: more box lines from the data: the first non-null value of this field (overlay rows, then data rows), split at newlines. */
  notes_field?: string;
}

export interface Datasets {
  data: Row[];
  overlay?: Row[];
}

type Builder = (o: TemplateOptions, d: Datasets) => VlSpec;

import { createRequire } from 'node:module';
// the t quantile (@stdlib), loaded when a band needs it
const requireHere = createRequire(import.meta.url);
const tq = (p: number, df: number): number => (requireHere('@stdlib/stats-base-dists-t-quantile') as typeof import('@stdlib/stats-base-dists-t-quantile'))(p, df);

const ys = (o: TemplateOptions): string[] => (o.y === undefined ? [] : Array.isArray(o.y) ? o.y : [o.y]);

function need(o: TemplateOptions, template: string, ...keys: (keyof TemplateOptions)[]): void {
  const missing = keys.filter((k) => o[k] === undefined || (Array.isArray(o[k]) && (o[k] as unknown[]).length === 0));
  if (missing.length) throw new Error(`template '${template}' needs param${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}`);
}

function checkFields(rows: Row[], fields: (string | undefined)[], template: string, port = 'data'): void {
  if (rows.length === 0) throw new Error(`template '${template}': input '${port}' has no rows`);
  const have = new Set<string>();
  for (const r of rows.slice(0, 200)) for (const k of Object.keys(r)) have.add(k);
  for (const f of fields) {
    if (f !== undefined && !have.has(f)) throw new Error(`template '${template}': field '${f}' is not in input '${port}' (fields: ${[...have].join(', ')})`);
  }
}

/** Infers a field's vega-lite type from its values. */
export function inferType(rows: Row[], field: string): FieldType {
  for (const r of rows) {
    const v = r[field];
    if (v === null || v === undefined) continue;
    return typeof v === 'number' ? 'quantitative' : 'nominal';
  }
  return 'nominal';
}

function titleOf(o: TemplateOptions): VlSpec | undefined {
  if (!o.title) return undefined;
  return o.subtitle ? { text: o.title, subtitle: o.subtitle } : { text: o.title };
}

function scaleOf(log: boolean | undefined, domain?: [number, number], zero?: boolean): VlSpec | undefined {
  const s: VlSpec = {};
  if (log) s.type = 'log';
  if (domain) s.domain = domain;
  if (zero === false && !log) s.zero = false;
  return Object.keys(s).length ? s : undefined;
}

function enc(field: string, type: FieldType, title?: string, extra: VlSpec = {}): VlSpec {
  const e: VlSpec = { field, type, ...extra };
  if (title !== undefined) e.title = title;
  return e;
}

/** Layers drawing `o.rules` (datum-encoded, one mark per panel). */
function ruleLayers(o: TemplateOptions, xType: FieldType = 'quantitative', yType: FieldType = 'quantitative'): VlSpec[] {
  const layers: VlSpec[] = [];
  (o.rules ?? []).forEach((r, i) => {
    const color = r.color ?? ['#d62728', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'][i % 6];
    const one = [{ window: [{ op: 'row_number', as: '__r' }], groupby: [] }, { filter: 'datum.__r === 1' }];
    const mark: VlSpec = { type: 'rule', color, strokeWidth: 1.5 };
    if (r.dash !== false) mark.strokeDash = [6, 4];
    if (r.x !== undefined || r.x_field !== undefined) {
      const x = r.x_field !== undefined ? { field: r.x_field, type: xType } : { datum: r.x, type: xType };
      layers.push({ transform: one, mark, encoding: { x } });
      if (r.label) {
        layers.push({
          transform: r.x_field !== undefined ? [...one, { calculate: `${JSON.stringify(r.label + ' ')} + format(datum[${JSON.stringify(r.x_field)}], '.4~g')`, as: '__rule_label' }] : one,
          mark: { type: 'text', color, align: 'left', baseline: 'top', dx: 4, dy: 4 + 14 * i, fontSize: 11, fontWeight: 'bold' },
          encoding: { x, y: { value: 0 }, text: r.x_field !== undefined ? { field: '__rule_label' } : { value: r.label } },
        });
      }
    } else if (r.y !== undefined) {
      layers.push({ transform: one, mark, encoding: { y: { datum: r.y, type: yType } } });
      if (r.label) {
        layers.push({
          transform: one,
          mark: { type: 'text', color, align: 'right', baseline: 'bottom', dx: -4, dy: -2, fontSize: 11 },
          encoding: { y: { datum: r.y, type: yType }, x: { value: { expr: 'width' } }, text: { value: r.label } },
        });
      }
    }
  });
  return layers;
}

/** Wraps layers into a single view or a facet, sizing panels to share the figure size. */
function finish(o: TemplateOptions, d: Datasets, layers: VlSpec[], opts: { transform?: VlSpec[]; resolve?: VlSpec; extraDatasets?: Record<string, Row[]> } = {}): VlSpec {
  const datasets: Record<string, Row[]> = { data: d.data, ...opts.extraDatasets };
  const transform = [...(o.filter ? [{ filter: o.filter }] : []), ...(opts.transform ?? [])];
  const body: VlSpec = layers.length === 1 ? { ...layers[0] } : { layer: layers };
  if (opts.resolve) body.resolve = opts.resolve;
  const base: VlSpec = { datasets, data: { name: 'data' } };
  const t = titleOf(o);
  if (t) base.title = t;
  if (!o.facet) return { ...base, ...(transform.length ? { transform } : {}), ...body };
  const values = new Set(d.data.map((r) => String(r[o.facet!])));
  const n = Math.max(1, values.size);
  const columns = o.columns ?? Math.min(n, Math.max(1, Math.round(Math.sqrt(n * (o.width / o.height)))));
  const rows = Math.ceil(n / columns);
  const legend = o.color || ys(o).length > 1 ? 150 : 0;
  const w = Math.max(60, Math.floor((o.width - 90 - legend) / columns - 22));
  const h = Math.max(50, Math.floor((o.height - (o.title ? 40 : 0) - 40) / rows - 48));
  return {
    ...base,
    ...(transform.length ? { transform } : {}),
    facet: { field: o.facet, type: inferType(d.data, o.facet) === 'quantitative' ? 'ordinal' : 'nominal', title: null, header: { labelFontSize: 12 } },
    columns,
    spec: { width: w, height: h, ...body },
    resolve: { scale: { x: 'shared', y: 'shared' } },
    usermeta: { pipeGrid: { columns, rows } },
  };
}

const line: Builder = (o, d) => {
  need(o, 'line', 'x', 'y');
  const yList = ys(o);
  checkFields(d.data, [o.x, ...yList, o.color, o.facet, o.best_field], 'line');
  const folded = yList.length > 1;
  if (folded && o.color) throw new Error(`template 'line': with several y fields the colour is the field name; drop 'color' or use one y`);
  const yField = folded ? 'value' : yList[0]!;
  const colorField = folded ? 'series' : o.color;
  const xType = o.x_type ?? inferType(d.data, o.x!);
  const yTitle = o.y_title ?? (folded ? '' : yList[0]);
  const main: VlSpec = {
    ...(folded ? { transform: [{ fold: yList, as: ['series', 'value'] }] } : {}),
    mark: { type: 'line', strokeWidth: 2, point: o.points ? { size: 30, filled: true } : false, clip: true },
    encoding: {
      x: enc(o.x!, xType, o.x_title, scaleOf(o.log_x, o.x_domain, false) ? { scale: scaleOf(o.log_x, o.x_domain, false) } : {}),
      y: enc(yField, o.y_type ?? 'quantitative', yTitle, scaleOf(o.log_y, o.y_domain, false) ? { scale: scaleOf(o.log_y, o.y_domain, false) } : { scale: { zero: false } }),
      ...(colorField ? { color: enc(colorField, o.color_type ?? (folded ? 'nominal' : inferType(d.data, colorField)), o.color_title ?? (folded ? null as any : undefined)) } : {}),
      tooltip: [{ field: o.x!, type: xType }, ...(folded ? [{ field: 'series', type: 'nominal' }] : colorField ? [{ field: colorField }] : []), { field: yField, type: 'quantitative', format: '.4~g' }],
    },
  };
  const layers: VlSpec[] = [main];
  if (o.best) {
    const bf = o.best_field ?? (folded ? yList[yList.length - 1]! : yField);
    const groupby = [...(o.facet ? [o.facet] : []), ...(!folded && colorField && bf === yField && !o.best_field ? [] : [])];
    const pick: VlSpec[] = [
      { filter: `isValid(datum[${JSON.stringify(bf)}])` },
      { window: [{ op: 'row_number', as: '__rank' }], sort: [{ field: bf, order: o.best === 'min' ? 'ascending' : 'descending' }, { field: o.x!, order: 'ascending' }], groupby },
      { filter: 'datum.__rank === 1' },
    ];
    layers.push({ transform: pick, mark: { type: 'rule', color: '#444', strokeDash: [5, 4], strokeWidth: 1.5 }, encoding: { x: { field: o.x!, type: xType } } });
    // the diamond marks the best value on its own axis: only when best_field is one of the plotted y fields
    if (yList.includes(bf)) layers.push({
      transform: pick,
      mark: { type: 'point', shape: 'diamond', size: 90, filled: true, color: '#222' },
      encoding: { x: { field: o.x!, type: xType }, y: { field: bf, type: 'quantitative' }, tooltip: [{ field: o.x!, type: xType, title: `best ${o.x}` }, { field: bf, type: 'quantitative', format: '.4~g' }] },
    });
    layers.push({
      transform: [...pick, { calculate: `'best ${o.x} ' + datum[${JSON.stringify(o.x)}] + ' (${bf} ' + format(datum[${JSON.stringify(bf)}], '.4~g') + ')'`, as: '__label' }],
      // left of the line when it is in the right half, so the label stays inside the plot
      mark: {
        type: 'text', baseline: 'top', dy: 4, fontSize: 11, color: '#222',
        align: { expr: `scale('x', datum[${JSON.stringify(o.x)}]) > width / 2 ? 'right' : 'left'` },
        dx: { expr: `scale('x', datum[${JSON.stringify(o.x)}]) > width / 2 ? -5 : 5` },
      },
      encoding: { x: { field: o.x!, type: xType }, y: { value: 0 }, text: { field: '__label' } },
    });
  }
  layers.push(...ruleLayers(o, xType));
  return finish(o, d, layers);
};

const heatmapLayers = (o: TemplateOptions, rows: Row[]): VlSpec[] => {
  const xType = o.x_type ?? (inferType(rows, o.x!) === 'quantitative' ? 'ordinal' : 'nominal');
  const yType = o.y_type ?? (inferType(rows, o.y as string) === 'quantitative' ? 'ordinal' : 'nominal');
  const colorScale: VlSpec = { scheme: o.scheme ?? 'viridis' };
  if (o.domain) colorScale.domain = o.domain;
  const layers: VlSpec[] = [{
    mark: { type: 'rect' },
    encoding: {
      x: enc(o.x!, xType, o.x_title, { sort: null, axis: { labelAngle: new Set(rows.map((r) => r[o.x!])).size <= 16 ? 0 : -45 } }),
      y: enc(o.y as string, yType, o.y_title, { sort: null }),
      color: enc(o.color!, 'quantitative', o.color_title, { scale: colorScale, legend: { gradientLength: Math.min(220, Math.max(80, o.height - 120)) } }),
      tooltip: [{ field: o.x! }, { field: o.y as string }, { field: o.color!, type: 'quantitative', format: '.4~g' }],
    },
  }];
  if (o.labels) {
    const [lo, hi] = o.domain ?? [Math.min(...rows.map((r) => Number(r[o.color!]))), Math.max(...rows.map((r) => Number(r[o.color!])))];
    const mid = (lo + hi) / 2;
    layers.push({
      mark: { type: 'text', fontSize: 10 },
      encoding: {
        x: enc(o.x!, xType, undefined, { sort: null }), y: enc(o.y as string, yType, undefined, { sort: null }),
        text: { field: o.color!, type: 'quantitative', format: '.2f' },
        color: { condition: { test: `datum[${JSON.stringify(o.color)}] > ${mid}`, value: (o.scheme ?? 'viridis') === 'viridis' ? 'black' : 'white' }, value: (o.scheme ?? 'viridis') === 'viridis' ? 'white' : 'black' },
      },
    });
  }
  return layers;
};

const heatmap: Builder = (o, d) => {
  need(o, 'heatmap', 'x', 'y', 'color');
  checkFields(d.data, [o.x, o.y as string, o.color, o.facet], 'heatmap');
  return finish(o, d, heatmapLayers(o, d.data));
};

const histogram: Builder = (o, d) => {
  need(o, 'histogram', 'x');
  if (o.x2) {
    // pre-binned: one bar per row from x to x2, height y (e.g. analyze-actmix's exact 50 bins on [0, ln K])
    const y = Array.isArray(o.y) ? o.y[0] : o.y;
    if (!y) throw new Error('histogram with x2 (pre-binned) needs y (the count field)');
    checkFields(d.data, [o.x, o.x2, y, o.color, o.facet], 'histogram');
    const layers: VlSpec[] = [{
      mark: { type: 'bar', ...(o.color ? { opacity: 0.85 } : { color: '#4c78a8' }) },
      encoding: {
        x: { field: o.x, type: 'quantitative', bin: { binned: true }, title: o.x_title ?? o.x, ...(o.x_domain || o.extent ? { scale: { domain: o.x_domain ?? o.extent } } : {}) },
        x2: { field: o.x2 },
        y: { field: y, type: 'quantitative', title: o.y_title ?? 'count', ...(o.log_y ? { scale: { type: 'symlog' } } : {}) },
        ...(o.color ? { color: enc(o.color, o.color_type ?? 'nominal', o.color_title) } : {}),
        tooltip: [{ field: o.x, type: 'quantitative', title: 'from', format: '.4~g' }, { field: o.x2, type: 'quantitative', title: 'to', format: '.4~g' }, { field: y, type: 'quantitative', title: 'count' }],
      },
    }];
    layers.push(...ruleLayers(o));
    return finish(o, d, layers);
  }
  checkFields(d.data, [o.x, o.color, o.facet], 'histogram');
  const bin: VlSpec = o.step ? { step: o.step } : { maxbins: o.bins ?? 50 };
  if (o.extent) bin.extent = o.extent;
  const layers: VlSpec[] = [{
    mark: { type: 'bar', binSpacing: 1, ...(o.color ? { opacity: 0.85 } : { color: '#4c78a8' }) },
    encoding: {
      x: { field: o.x, type: 'quantitative', bin, title: o.x_title ?? o.x, ...(o.x_domain || o.extent ? { scale: { domain: o.x_domain ?? o.extent } } : {}) },
      y: { aggregate: 'count', type: 'quantitative', title: o.y_title ?? 'count', ...(o.log_y ? { scale: { type: 'symlog' } } : {}) },
      ...(o.color ? { color: enc(o.color, o.color_type ?? 'nominal', o.color_title) } : {}),
      tooltip: [{ field: o.x, bin, type: 'quantitative', title: o.x }, { aggregate: 'count', type: 'quantitative', title: 'count' }],
    },
  }];
  if (o.mean_line) {
    const mean: VlSpec[] = [{ joinaggregate: [{ op: 'mean', field: o.x!, as: '__mean' }], groupby: [] }, { window: [{ op: 'row_number', as: '__r' }], groupby: [] }, { filter: 'datum.__r === 1' }];
    layers.push({ transform: mean, mark: { type: 'rule', color: '#ff7f0e', strokeWidth: 2 }, encoding: { x: { field: '__mean', type: 'quantitative' } } });
    layers.push({
      transform: [...mean, { calculate: "'mean ' + format(datum.__mean, '.3~g')", as: '__label' }],
      mark: { type: 'text', color: '#ff7f0e', align: 'left', baseline: 'top', dx: 4, dy: 4 + 14 * (o.rules?.length ?? 0), fontSize: 11, fontWeight: 'bold' },
      encoding: { x: { field: '__mean', type: 'quantitative' }, y: { value: 0 }, text: { field: '__label' } },
    });
  }
  layers.push(...ruleLayers(o));
  return finish(o, d, layers);
};

const pie: Builder = (o, d) => {
  need(o, 'pie', 'color');
  checkFields(d.data, [o.color, o.theta, o.facet], 'pie');
  const r = Math.max(40, Math.min(o.width - 220, o.height - (o.title ? 70 : 30)) / 2);
  const transform: VlSpec[] = o.theta
    ? [{ aggregate: [{ op: 'sum', field: o.theta, as: '__v' }], groupby: [o.color!, ...(o.facet ? [o.facet] : [])] }]
    : [{ aggregate: [{ op: 'count', as: '__v' }], groupby: [o.color!, ...(o.facet ? [o.facet] : [])] }];
  transform.push({ joinaggregate: [{ op: 'sum', field: '__v', as: '__total' }], groupby: o.facet ? [o.facet] : [] }, { calculate: 'datum.__v / datum.__total', as: '__share' });
  const theta = { field: '__v', type: 'quantitative', stack: true };
  const color = enc(o.color!, o.color_type ?? 'nominal', o.color_title, { sort: { field: '__v', order: 'descending' } });
  const order = { field: '__v', type: 'quantitative', sort: 'descending' };
  const layers: VlSpec[] = [
    { mark: { type: 'arc', outerRadius: r, stroke: 'white', strokeWidth: 1.5 }, encoding: { theta, color, order, tooltip: [{ field: o.color! }, { field: '__v', type: 'quantitative', title: o.theta ?? 'count' }, { field: '__share', type: 'quantitative', format: '.1%', title: 'share' }] } },
    {
      transform: [{ filter: 'datum.__share >= 0.04' }],
      mark: { type: 'text', radius: r * 0.68, fontSize: 12, fontWeight: 'bold', fill: 'white' },
      encoding: { theta, order, text: { field: '__share', type: 'quantitative', format: '.0%' } },
    },
  ];
  const spec = finish(o, d, layers, { transform });
  if (!o.facet) spec.view = { stroke: null };
  else spec.spec.view = { stroke: null };
  return spec;
};

function barLike(o: TemplateOptions, d: Datasets, name: string, stacked: boolean): VlSpec {
  need(o, name as any, 'x', 'y');
  const yList = ys(o);
  checkFields(d.data, [o.x, ...yList, o.color, o.facet], name);
  const folded = yList.length > 1;
  const yField = folded ? 'value' : yList[0]!;
  const colorField = folded ? 'series' : o.color;
  const xType = o.x_type ?? (inferType(d.data, o.x!) === 'quantitative' ? 'ordinal' : 'nominal');
  const y: VlSpec = { field: yField, type: 'quantitative', title: o.y_title ?? (folded ? '' : yField), aggregate: 'sum' };
  if (stacked) y.stack = o.normalize ? 'normalize' : 'zero';
  if (stacked && o.normalize) y.axis = { format: '%' };
  if (o.y_domain) y.scale = { domain: o.y_domain };
  if (o.log_y) y.scale = { ...(y.scale ?? {}), type: 'log' };
  const encoding: VlSpec = {
    x: enc(o.x!, xType, o.x_title, { axis: { labelAngle: 0 }, sort: null }),
    y,
    tooltip: [{ field: o.x! }, ...(colorField ? [{ field: colorField }] : []), { field: yField, type: 'quantitative', aggregate: 'sum', format: '.4~g', title: yField }],
  };
  if (colorField) {
    encoding.color = enc(colorField, o.color_type ?? 'nominal', o.color_title ?? (folded ? null as any : undefined), { sort: null });
    if (!stacked) encoding.xOffset = { field: colorField, sort: null };
  }
  const layers: VlSpec[] = [{ ...(folded ? { transform: [{ fold: yList, as: ['series', 'value'] }] } : {}), mark: { type: 'bar', ...(colorField ? {} : { color: '#4c78a8' }) }, encoding }];
  layers.push(...ruleLayers(o, xType));
  return finish(o, d, layers);
}

const bar: Builder = (o, d) => barLike(o, d, 'bar', false);
const stackedBar: Builder = (o, d) => barLike(o, d, 'stacked-bar', true);

const box: Builder = (o, d) => {
  need(o, 'box', 'x', 'y');
  checkFields(d.data, [o.x, o.y as string, o.color, o.facet], 'box');
  const xType = o.x_type ?? 'nominal';
  const layers: VlSpec[] = [{
    mark: { type: 'boxplot', extent: o.whiskers ?? 1.5, size: 28, median: { color: 'black' } },
    encoding: {
      x: enc(o.x!, xType, o.x_title, { axis: { labelAngle: 0 } }),
      y: enc(o.y as string, 'quantitative', o.y_title, { scale: { zero: false, ...(o.log_y ? { type: 'log' } : {}) } }),
      color: enc(o.color ?? o.x!, 'nominal', o.color_title, { legend: o.color && o.color !== o.x ? {} : null }),
      ...(o.color && o.color !== o.x ? { xOffset: { field: o.color } } : {}),
    },
  }];
  layers.push(...ruleLayers(o, xType));
  return finish(o, d, layers);
};

const scatter: Builder = (o, d) => {
  need(o, 'scatter', 'x', 'y');
  checkFields(d.data, [o.x, o.y as string, o.color, o.size, o.facet], 'scatter');
  const fields = Object.keys(d.data[0] ?? {}).slice(0, 12);
  const layers: VlSpec[] = [{
    mark: { type: 'point', filled: true, opacity: 0.75, size: o.size ? undefined : 50 },
    encoding: {
      x: enc(o.x!, o.x_type ?? 'quantitative', o.x_title, { scale: scaleOf(o.log_x, o.x_domain, false) ?? { zero: false } }),
      y: enc(o.y as string, o.y_type ?? 'quantitative', o.y_title, { scale: scaleOf(o.log_y, o.y_domain, false) ?? { zero: false } }),
      ...(o.color ? { color: enc(o.color, o.color_type ?? inferType(d.data, o.color), o.color_title) } : {}),
      ...(o.size ? { size: { field: o.size, type: 'quantitative' } } : {}),
      tooltip: fields.map((f) => ({ field: f })),
    },
  }];
  // overlay: lines drawn over the points (decision boundaries, fits), one per `series` value
  if (d.overlay?.length) {
    const ox = o.overlay_x ?? o.x!, oy = o.overlay_y ?? (o.y as string);
    checkFields(d.overlay, [ox, oy], 'scatter', 'overlay');
    const series = 'series' in d.overlay[0]! ? 'series' : undefined;
    layers.push({
      data: { name: 'overlay' },
      mark: { type: 'line', strokeWidth: 2.5, clip: true, color: '#222' },
      encoding: {
        x: { field: ox, type: 'quantitative' }, y: { field: oy, type: 'quantitative' },
        ...(series ? { strokeDash: { field: series, type: 'nominal', title: null, sort: null }, detail: { field: series } } : {}),
      },
    });
  }
  layers.push(...ruleLayers(o));
  return finish(o, d, layers, { extraDatasets: d.overlay?.length ? { overlay: d.overlay } : {} });
};

/** Data points + curves (true function, fitted model, …) + an optional notes box. */
const fit: Builder = (o, d) => {
  need(o, 'fit', 'x', 'y');
  const yField = o.y as string;
  checkFields(d.data, [o.x, yField, o.facet], 'fit');
  const ox = o.overlay_x ?? o.x!;
  const oy = o.overlay_y ?? yField;
  if (d.overlay) checkFields(d.overlay, [ox, oy, o.color], 'fit', 'overlay');
  const xs = { scale: scaleOf(o.log_x, o.x_domain, false) ?? { zero: false } };
  const yScale = { scale: scaleOf(o.log_y, o.y_domain, false) ?? { zero: false } };
  const layers: VlSpec[] = [{
    mark: { type: 'point', filled: true, size: 28, opacity: 0.55, color: '#7f7f7f' },
    encoding: { x: enc(o.x!, 'quantitative', o.x_title, xs), y: enc(yField, 'quantitative', o.y_title, yScale), tooltip: [{ field: o.x! }, { field: yField }] },
  }];
  if (d.overlay) {
    layers.push({
      data: { name: 'overlay' },
      mark: { type: 'line', strokeWidth: 2.5, clip: true },
      encoding: {
        x: { field: ox, type: 'quantitative' }, y: { field: oy, type: 'quantitative' },
        ...(o.color ? { color: enc(o.color, 'nominal', o.color_title ?? null as any, { sort: null }), strokeDash: { field: o.color, type: 'nominal', sort: null } } : { color: { value: '#d62728' } }),
      },
    });
  }
  if (o.notes_field) {
    const f = o.notes_field;
    const hit = [...(d.overlay ?? []), ...d.data].find((r) => typeof r[f] === 'string' && r[f] !== '');
    if (hit) o = { ...o, notes: [...(o.notes ?? []), ...String(hit[f]).split('\n')] };
  }
  if (o.notes?.length) {
    const m = fontMetrics('regular');
    const boxW = Math.ceil(Math.max(...o.notes.map((t) => m.width(t, 11)))) + 14;
    layers.push({
      data: { values: [{}] },
      mark: { type: 'rect', fill: 'white', opacity: 0.85, stroke: '#999', strokeWidth: 0.8, cornerRadius: 3 },
      encoding: { x: { value: 4 }, x2: { value: 4 + boxW }, y: { value: 3 }, y2: { value: 3 + 15 * o.notes.length + 8 } },
    });
    layers.push({
      data: { values: [{}] },
      mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 11, lineHeight: 15, color: '#222' },
      encoding: { x: { value: 10 }, y: { value: 8 }, text: { value: o.notes } },
    });
  }
  layers.push(...ruleLayers(o));
  if (o.facet) throw new Error(`template 'fit' does not facet; render one figure per case`);
  return finish(o, d, layers, { extraDatasets: d.overlay ? { overlay: d.overlay } : {} });
};

/** Wide pixel rows (one image per row) → a grid of small greyscale/colour images. */
const imageGrid: Builder = (o, d) => {
  need(o, 'image-grid', 'shape');
  const [h, w] = o.shape!;
  if (o.filter) throw new Error(`template 'image-grid' has no 'filter'; select the images upstream`);
  const first = d.data[0] ?? {};
  if (o.label === undefined && 'label' in first) o = { ...o, label: 'label' };
  // pixels: one list column (e.g. MNIST's FixedSizeList 'image'), or one numeric column per pixel
  const listCol = (o.pixels?.length === 1 && Array.isArray(first[o.pixels[0]!])) ? o.pixels[0]
    : !o.pixels ? Object.keys(first).find((k) => Array.isArray(first[k]) && (first[k] as unknown[]).length === h * w) : undefined;
  const pixels = listCol ? [] : o.pixels ?? Object.keys(first).filter((k) => k !== o.label && typeof first[k] === 'number' && k !== 'source');
  if (!listCol && pixels.length !== h * w) throw new Error(`template 'image-grid': ${pixels.length} pixel columns but shape ${h}×${w} needs ${h * w} (set 'pixels': the pixel columns, or one list column)`);
  checkFields(d.data, [listCol, ...pixels.slice(0, 3), o.label], 'image-grid');
  const n = Math.min(d.data.length, o.max_images ?? 16);
  const long: Row[] = [];
  for (let i = 0; i < n; i++) {
    const r = d.data[i]!;
    const name = o.label !== undefined ? `#${i} · ${r[o.label]}` : `#${i}`;
    const values = listCol ? (r[listCol] as unknown[]) : pixels.map((p) => r[p]);
    if (values.length !== h * w) throw new Error(`template 'image-grid': image ${i} has ${values.length} pixels, shape ${h}×${w} needs ${h * w}`);
    values.forEach((v, k) => long.push({ image: name, i, row: Math.floor(k / w), col: k % w, value: v }));
  }
  const columns = o.columns ?? Math.min(n, 8);
  const rows = Math.ceil(n / columns);
  const cell = Math.max(2, Math.floor(Math.min((o.width - 150) / columns - 14, (o.height - (o.title ? 40 : 0) - 20) / rows - 34) / Math.max(h, w)));
  const colorScale: VlSpec = { scheme: o.scheme ?? 'greys' };
  if (o.domain) colorScale.domain = o.domain;
  const spec: VlSpec = {
    datasets: { data: long }, data: { name: 'data' },
    facet: { field: 'image', type: 'nominal', title: null, sort: { field: 'i', op: 'min' }, header: { labelFontSize: 10, labelFontWeight: 'normal', labelPadding: 3 } },
    columns,
    spec: {
      width: cell * w, height: cell * h,
      // stroke = fill colour hides the hairline seams between pixels
      mark: { type: 'rect', strokeWidth: 0.5, stroke: { expr: "scale('color', datum.value)" } },
      encoding: {
        x: { field: 'col', type: 'ordinal', axis: null },
        y: { field: 'row', type: 'ordinal', axis: null },
        color: { field: 'value', type: 'quantitative', scale: colorScale, title: o.color_title ?? 'value', legend: { type: 'gradient', gradientLength: Math.min(160, Math.max(60, o.height - 100)) } },
        tooltip: [{ field: 'image' }, { field: 'row' }, { field: 'col' }, { field: 'value', type: 'quantitative', format: '.3~g' }],
      },
    },
    config: { view: { stroke: null }, facet: { spacing: 6 } },
    usermeta: { pipeGrid: { columns, rows, aspect: [w, h] } },
  };
  const t = titleOf(o);
  if (t) spec.title = t;
  return spec;
};

/** Grid → rect cells (edges at midpoints) for quantitative heat images. */
function gridCells(rows: Row[], x: string, y: string): { xs: number[]; ys: number[]; edges: (v: number, axis: 'x' | 'y') => [number, number] } {
  const xs = [...new Set(rows.map((r) => Number(r[x])))].sort((a, b) => a - b);
  const yv = [...new Set(rows.map((r) => Number(r[y])))].sort((a, b) => a - b);
  const edgeMap = (vals: number[]) => {
    const m = new Map<number, [number, number]>();
    vals.forEach((v, i) => {
      const lo = i > 0 ? (vals[i - 1]! + v) / 2 : v - (vals.length > 1 ? (vals[1]! - v) / 2 : 0.5);
      const hi = i < vals.length - 1 ? (v + vals[i + 1]!) / 2 : v + (vals.length > 1 ? (v - vals[i - 1]!) / 2 : 0.5);
      m.set(v, [lo, hi]);
    });
    return m;
  };
  const ex = edgeMap(xs);
  const ey = edgeMap(yv);
  return { xs, ys: yv, edges: (v, axis) => (axis === 'x' ? ex : ey).get(v)! };
}

/** Marching squares: iso-line segments of z at `level` on a rectilinear grid. */
export function isoSegments(xs: number[], ys: number[], z: (i: number, j: number) => number, level: number): [number, number, number, number][] {
  const segs: [number, number, number, number][] = [];
  const lerp = (a: number, b: number, za: number, zb: number) => (za === zb ? (a + b) / 2 : a + ((level - za) / (zb - za)) * (b - a));
  for (let j = 0; j < ys.length - 1; j++) {
    for (let i = 0; i < xs.length - 1; i++) {
      const z00 = z(i, j), z10 = z(i + 1, j), z11 = z(i + 1, j + 1), z01 = z(i, j + 1);
      if (![z00, z10, z11, z01].every(Number.isFinite)) continue;
      const c = (z00 >= level ? 1 : 0) | (z10 >= level ? 2 : 0) | (z11 >= level ? 4 : 0) | (z01 >= level ? 8 : 0);
      if (c === 0 || c === 15) continue;
      const x0 = xs[i]!, x1 = xs[i + 1]!, y0 = ys[j]!, y1 = ys[j + 1]!;
      const bottom: [number, number] = [lerp(x0, x1, z00, z10), y0];
      const right: [number, number] = [x1, lerp(y0, y1, z10, z11)];
      const top: [number, number] = [lerp(x0, x1, z01, z11), y1];
      const left: [number, number] = [x0, lerp(y0, y1, z00, z01)];
      const add = (a: [number, number], b: [number, number]) => segs.push([a[0], a[1], b[0], b[1]]);
      const centre = (z00 + z10 + z11 + z01) / 4 >= level;
      switch (c) {
        case 1: case 14: add(left, bottom); break;
        case 2: case 13: add(bottom, right); break;
        case 3: case 12: add(left, right); break;
        case 4: case 11: add(right, top); break;
        case 6: case 9: add(bottom, top); break;
        case 7: case 8: add(left, top); break;
        case 5: if (centre) { add(left, top); add(bottom, right); } else { add(left, bottom); add(right, top); } break;
        case 10: if (centre) { add(left, bottom); add(right, top); } else { add(left, top); add(bottom, right); } break;
      }
    }
  }
  return segs;
}

const sig = (v: number) => Number(v.toPrecision(6));

/** Heat image of z over (x, y) with iso-contours, plus an optional trajectory from `overlay`. */
const contour: Builder = (o, d) => {
  need(o, 'contour', 'x', 'y', 'color');
  const x = o.x!, y = o.y as string, zf = o.color!;
  checkFields(d.data, [x, y, zf], 'contour');
  if (o.facet) throw new Error(`template 'contour' does not facet`);
  const g = gridCells(d.data, x, y);
  const zmap = new Map<string, number>();
  for (const r of d.data) zmap.set(`${Number(r[x])},${Number(r[y])}`, r[zf] === null ? NaN : Number(r[zf]));
  const z = (i: number, j: number) => zmap.get(`${g.xs[i]},${g.ys[j]}`) ?? NaN;
  const zs = [...zmap.values()].filter(Number.isFinite);
  const zmin = Math.min(...zs), zmax = Math.max(...zs);
  let levels: number[];
  if (Array.isArray(o.levels)) levels = o.levels;
  else {
    const k = o.levels ?? 10;
    if (o.log_levels && zmin > 0) levels = Array.from({ length: k }, (_, i) => sig(zmin * Math.pow(zmax / zmin, (i + 1) / (k + 1))));
    else levels = Array.from({ length: k }, (_, i) => sig(zmin + ((zmax - zmin) * (i + 1)) / (k + 1)));
  }
  const cells: Row[] = d.data.map((r) => {
    const [x0, x1] = g.edges(Number(r[x]), 'x');
    const [y0, y1] = g.edges(Number(r[y]), 'y');
    return { [x]: r[x], [y]: r[y], [zf]: r[zf], __x0: sig(x0), __x1: sig(x1), __y0: sig(y0), __y1: sig(y1) };
  });
  const segs: Row[] = [];
  for (const lv of levels) for (const s of isoSegments(g.xs, g.ys, z, lv)) segs.push({ level: lv, x: sig(s[0]), y: sig(s[1]), x2: sig(s[2]), y2: sig(s[3]) });
  const xDomain = o.x_domain ?? [g.edges(g.xs[0]!, 'x')[0], g.edges(g.xs[g.xs.length - 1]!, 'x')[1]].map(sig);
  const yDomain = o.y_domain ?? [g.edges(g.ys[0]!, 'y')[0], g.edges(g.ys[g.ys.length - 1]!, 'y')[1]].map(sig);
  const colorScale: VlSpec = { scheme: o.scheme ?? 'viridis', ...(o.log_levels && zmin > 0 ? { type: 'log' } : {}) };
  if (o.domain) colorScale.domain = o.domain;
  const xs = { scale: { domain: xDomain, nice: false, zero: false } };
  const yScale = { scale: { domain: yDomain, nice: false, zero: false } };
  const layers: VlSpec[] = [
    {
      mark: { type: 'rect', strokeWidth: 0.6 },
      encoding: {
        x: { field: '__x0', type: 'quantitative', title: o.x_title ?? x, ...xs, axis: { grid: false } }, x2: { field: '__x1' },
        y: { field: '__y0', type: 'quantitative', title: o.y_title ?? y, ...yScale, axis: { grid: false } }, y2: { field: '__y1' },
        stroke: { field: zf, type: 'quantitative', scale: colorScale, legend: null },
        color: { field: zf, type: 'quantitative', title: o.color_title ?? zf, scale: colorScale, legend: { type: 'gradient', gradientLength: Math.min(220, Math.max(80, o.height - 140)) } },
        tooltip: [{ field: x, type: 'quantitative' }, { field: y, type: 'quantitative' }, { field: zf, type: 'quantitative', format: '.4~g' }],
      },
    },
    {
      data: { name: 'contours' },
      mark: { type: 'rule', color: 'white', strokeWidth: 1, opacity: 0.8 },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, x2: { field: 'x2' }, y2: { field: 'y2' } },
    },
  ];
  const extra: Record<string, Row[]> = { contours: segs };
  if (d.overlay && d.overlay.length) {
    const ox = o.overlay_x ?? x, oy = o.overlay_y ?? y;
    checkFields(d.overlay, [ox, oy, o.order], 'contour', 'overlay');
    const traj: Row[] = d.overlay.map((r, i) => ({ ...r, __step: o.order ? r[o.order] : i }));
    traj.sort((a, b) => Number(a.__step) - Number(b.__step));
    traj.forEach((r, i) => { r.__end = i === 0 ? 'start' : i === traj.length - 1 ? 'end' : 'step'; });
    extra.trajectory = traj;
    layers.push({
      data: { name: 'trajectory' },
      mark: { type: 'line', color: '#ff4136', strokeWidth: 2, point: { size: 14, filled: true, color: '#ff4136' }, clip: true },
      encoding: { x: { field: ox, type: 'quantitative' }, y: { field: oy, type: 'quantitative' }, order: { field: '__step', type: 'quantitative' }, tooltip: [{ field: '__step', title: o.order ?? 'step' }, { field: ox }, { field: oy }] },
    });
    layers.push({
      data: { name: 'trajectory' },
      transform: [{ filter: "datum.__end !== 'step'" }],
      mark: { type: 'point', filled: true, size: 110, stroke: 'white', strokeWidth: 1.5, opacity: 1 },
      encoding: {
        x: { field: ox, type: 'quantitative' }, y: { field: oy, type: 'quantitative' },
        shape: { field: '__end', type: 'nominal', legend: null, scale: { domain: ['start', 'end'], range: ['circle', 'square'] } },
        color: { field: '__end', type: 'nominal', title: 'trajectory', scale: { domain: ['start', 'end'], range: ['#2ecc40', '#ff4136'] } },
      },
    });
  }
  layers.push(...ruleLayers(o));
  return finish(o, { data: cells }, layers, { extraDatasets: extra, resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } } });
};

/**
 * Several instances (a gather over folds/seeds) drawn into one line per colour: consecutive rows
 * of different sources share a line, so the line jumps between them (a sawtooth). Returns the
 * warning, or undefined when every line is one instance.
 */
export function lineJoinWarning(o: TemplateOptions, rows: Row[]): string | undefined {
  if (!o.x || !rows.length || !rows.some((r) => 'source' in r)) return undefined;
  const keys = [o.color, o.facet].filter((k): k is string => !!k);
  const sources = new Map<string, Set<unknown>>();
  for (const r of rows) {
    const k = JSON.stringify(keys.map((c) => r[c]));
    let s = sources.get(k);
    if (!s) sources.set(k, (s = new Set()));
    s.add(r.source);
  }
  const worst = [...sources.entries()].sort((a, b) => b[1].size - a[1].size)[0]!;
  if (worst[1].size <= 1) return undefined;
  const label = keys.length ? keys.map((c, i) => `${c}=${JSON.parse(worst[0])[i]}`).join(', ') : 'the one line';
  return `template 'line': ${label} joins ${worst[1].size} instances (${[...worst[1]].slice(0, 3).join(', ')}${worst[1].size > 3 ? ', …' : ''}) into one line; use template 'band' (mean ± band per ${keys.join(', ') || 'line'}), colour or facet by the matrix key that tells them apart, or select one instance (e.g. train[fold=0])`;
}

/** Mean and band of `values` (the band per `how`). */
function bandOf(values: number[], how: 'std' | 'ci' | 'minmax'): { mean: number; lo: number; hi: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (how === 'minmax') return { mean, lo: Math.min(...values), hi: Math.max(...values) };
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const half = how === 'std' ? sd : n > 1 ? tQuantile975(n - 1) * sd / Math.sqrt(n) : 0;
  return { mean, lo: mean - half, hi: mean + half };
}

/** Two-sided 95% Student t quantile (t_{0.975, df}), from the t distribution's quantile function. */
function tQuantile975(df: number): number {
  return tq(0.975, df);
}

/**
 * `band`: curves over matrix instances (folds, seeds): per colour (and facet) the mean over the
 * instances at each x, and a band — ±1 sample std, the 95% t interval of the mean, or min–max —
 * instead of one line joining every instance.
 */
const band: Builder = (o, d) => {
  need(o, 'band', 'x', 'y');
  const y = ys(o);
  if (y.length !== 1) throw new Error(`template 'band' takes one y field`);
  const yf = y[0]!;
  checkFields(d.data, [o.x, yf, o.color, o.facet], 'band');
  const how = o.band ?? 'std';
  const keys = [o.facet, o.color].filter((k): k is string => !!k);
  const groups = new Map<string, { x: unknown; key: Row; values: number[]; sources: Set<unknown> }>();
  for (const r of d.data) {
    const v = r[yf];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const k = JSON.stringify([...keys.map((c) => r[c]), r[o.x!]]);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { x: r[o.x!], key: Object.fromEntries(keys.map((c) => [c, r[c]])), values: [], sources: new Set() }));
    g.values.push(v);
    g.sources.add(r.source);
  }
  const rows: Row[] = [...groups.values()].map((g) => {
    const b = bandOf(g.values, how);
    return { ...g.key, [o.x!]: g.x, [yf]: b.mean, __lo: b.lo, __hi: b.hi, __n: g.values.length } as Row;
  });
  rows.sort((a, b) => Number(a[o.x!]) - Number(b[o.x!]));
  const xType = o.x_type ?? inferType(rows, o.x!);
  // whole-number x (epochs, steps): no fractional ticks
  const intX = rows.every((r) => Number.isInteger(r[o.x!]));
  const what = how === 'std' ? '± 1 std' : how === 'ci' ? '95% t interval' : 'min–max';
  const colorEnc = o.color ? { color: enc(o.color, o.color_type ?? inferType(rows, o.color), o.color_title) } : {};
  const x = enc(o.x!, xType, o.x_title, { ...(scaleOf(o.log_x, o.x_domain, false) ? { scale: scaleOf(o.log_x, o.x_domain, false) } : {}), ...(intX && xType === 'quantitative' ? { axis: { tickMinStep: 1, format: 'd' } } : {}) });
  const layers: VlSpec[] = [
    { mark: { type: 'area', opacity: 0.22, clip: true }, encoding: { x, y: { field: '__lo', type: 'quantitative', title: o.y_title ?? `${yf} (mean, band ${what})`, scale: scaleOf(o.log_y, o.y_domain, false) ?? { zero: false } }, y2: { field: '__hi' }, ...colorEnc } },
    {
      mark: { type: 'line', strokeWidth: 2, clip: true, point: o.points ? { size: 30, filled: true } : false },
      encoding: {
        x, y: { field: yf, type: 'quantitative' }, ...colorEnc,
        tooltip: [{ field: o.x!, type: xType }, ...(o.color ? [{ field: o.color }] : []), { field: yf, type: 'quantitative', format: '.4~g', title: `mean ${yf}` }, { field: '__lo', type: 'quantitative', format: '.4~g', title: 'band low' }, { field: '__hi', type: 'quantitative', format: '.4~g', title: 'band high' }, { field: '__n', title: 'instances' }],
      },
    },
  ];
  layers.push(...ruleLayers(o, xType));
  return finish(o, { data: rows }, layers);
};

/**
 * `forest`: one row per comparison (y, e.g. an `aggregate` stage's `paired` table's `label`): the
 * estimate (x) as a point with its interval (lo–hi) as a bar, and a rule at 0 (no difference);
 * facets get their own x scale (one per metric).
 */
const forest: Builder = (o, d) => {
  need(o, 'forest', 'x', 'y', 'lo', 'hi');
  const yf = ys(o)[0]!;
  checkFields(d.data, [o.x, yf, o.lo, o.hi, o.color, o.facet], 'forest');
  const yEnc = enc(yf, 'nominal', o.y_title ?? null as any, { sort: null });
  const colorEnc = o.color ? { color: enc(o.color, o.color_type ?? inferType(d.data, o.color), o.color_title) } : {};
  const layers: VlSpec[] = [
    { mark: { type: 'rule', color: '#888', strokeDash: [4, 3] }, encoding: { x: { datum: 0, type: 'quantitative' } } },
    { mark: { type: 'rule', strokeWidth: 2, ...(o.color ? {} : { color: '#4c78a8' }) }, encoding: { y: yEnc, x: { field: o.lo!, type: 'quantitative', title: o.x_title ?? `${o.x} [${o.lo}, ${o.hi}]`, scale: { zero: false, nice: true, padding: 12 } }, x2: { field: o.hi! }, ...colorEnc } },
    {
      mark: { type: 'point', filled: true, size: 60, opacity: 1, ...(o.color ? {} : { color: '#1f3f66' }) },
      encoding: {
        y: yEnc, x: { field: o.x!, type: 'quantitative' }, ...colorEnc,
        tooltip: [{ field: yf }, ...(o.facet ? [{ field: o.facet }] : []), { field: o.x!, type: 'quantitative', format: '+.4f' }, { field: o.lo!, type: 'quantitative', format: '+.4f' }, { field: o.hi!, type: 'quantitative', format: '+.4f' }, ...['p_adj', 'p', 'n'].filter((f) => f in (d.data[0] ?? {})).map((f) => ({ field: f, type: 'quantitative', format: f === 'n' ? 'd' : '.3f' }))],
      },
    },
  ];
  layers.push(...ruleLayers(o));
  const spec = finish(o, d, layers);
  if (o.facet) spec.resolve = { scale: { x: 'independent', y: 'independent' } };
  return spec;
};

export const TEMPLATES: Record<string, Builder> = {
  band, forest,
  line, heatmap, histogram, pie, bar, 'stacked-bar': stackedBar, box, scatter, fit, 'image-grid': imageGrid, contour,
};

export const TEMPLATE_NAMES = Object.keys(TEMPLATES);

export function buildTemplate(name: string, o: TemplateOptions, d: Datasets): VlSpec {
  const b = TEMPLATES[name];
  if (!b) throw new Error(`unknown plot template '${name}' (templates: ${TEMPLATE_NAMES.join(', ')})`);
  return b(o, d);
}
