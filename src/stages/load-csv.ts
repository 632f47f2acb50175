/**
 * `load-csv`: a CSV file of the project as a table, with the dataset conventions (target,
 * features, task) filled in — given, or auto-detected from the column names as the Hebbian
 * seed does for its two CSVs:
 *
 *   study_success   hours_studied, sleep_hours, attendance_rate, has_breakfast → passed   (final_score kept)
 *   health_risk     bmi, steps_per_day, daily_calories → high_risk                         (risk_score kept)
 *
 * (pipe's own generator column names — hours, sleep, attendance, breakfast / bmi, steps,
 * calories — are recognised too.) The file is a dependency: editing it recomputes the stage.
 *
 *   data:
 *     kind: load-csv
 *     params: { path: data/health_risk.csv }          # schema: auto | study_success | health_risk | custom
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';

const SCHEMAS = {
  study_success: [
    { target: 'passed', features: ['hours_studied', 'sleep_hours', 'attendance_rate', 'has_breakfast'] },
    { target: 'passed', features: ['hours', 'sleep', 'attendance', 'breakfast'] },
  ],
  health_risk: [
    { target: 'high_risk', features: ['bmi', 'steps_per_day', 'daily_calories'] },
    { target: 'high_risk', features: ['bmi', 'steps', 'calories'] },
  ],
} as const;

export const loadCsvSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', minLength: 1, description: 'CSV file, relative to the project root' },
    schema: { enum: ['auto', 'study_success', 'health_risk', 'custom'], default: 'auto' },
    target: { type: 'string', description: 'custom: the binary/class target column' },
    features: { type: 'array', items: { type: 'string' }, description: 'custom: feature columns (default: every numeric column but the target)' },
  },
} as const;

export type LoadCsvParams = FromSchema<typeof loadCsvSchema>;

/** Which seed schema a header matches (every feature and the target present), or null. */
export function detectSchema(header: string[]): { name: keyof typeof SCHEMAS; target: string; features: string[] } | null {
  const has = new Set(header);
  for (const [name, variants] of Object.entries(SCHEMAS)) {
    for (const v of variants) if (has.has(v.target) && v.features.every((f) => has.has(f))) return { name: name as keyof typeof SCHEMAS, target: v.target, features: [...v.features] };
  }
  return null;
}

/** A decimal number as a data file writes it (no hex, no Infinity/NaN words, no separators). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export default defineStage<LoadCsvParams>({
  kind: 'load-csv',
  version: '1',
  description: "A project CSV as a table; target and features given or auto-detected (the Hebbian seed's study/health schemas)",
  paramsSchema: loadCsvSchema,
  inputs: {},
  outputs: { table: { type: 'table' } },
  fileDeps: (p) => [p.path],
  async run(ctx) {
    const p = ctx.params;
    const { readFile } = await import('node:fs/promises');
    const { isAbsolute, join } = await import('node:path');
    const { parse } = await import('csv-parse/sync');
    const { makeTable, numericVector, stringVector, writeTable } = await import('../sdk/table.js');
    const file = isAbsolute(p.path) ? p.path : join(ctx.projectDir, p.path);
    let parsed: { record: string[]; info: { lines: number } }[];
    try {
      parsed = parse(await readFile(file, 'utf8'), { columns: false, skip_empty_lines: true, trim: true, relax_column_count: true, info: true }) as never;
    } catch (e) {
      const err = e as Error & { lines?: number };
      throw new Error(`${p.path}${err.lines ? `:${err.lines}` : ''}: not readable as CSV (${err.message})`);
    }
    if (parsed.length < 2) throw new Error(`${p.path}: needs a header and at least one row`);
    const header = parsed[0]!.record;
    const body = parsed.slice(1).map((x) => x.record);
    /** The line of the file a body row came from (for messages). */
    const lineOf = (i: number) => parsed[i + 1]!.info.lines;
    body.forEach((r, i) => { if (r.length !== header.length) throw new Error(`${p.path}:${lineOf(i)}: ${r.length} fields, the header has ${header.length}`); });
    let target: string, features: string[], dataset: string;
    if (p.schema === 'custom') {
      if (!p.target) throw new Error("schema custom needs 'target'");
      target = p.target;
      features = p.features ?? [];
      dataset = p.path.replace(/^.*\//, '').replace(/\.csv$/i, '');
    } else {
      const found = detectSchema(header);
      if (!found || (p.schema !== 'auto' && found.name !== p.schema)) {
        throw new Error(`${p.path}: columns ${header.join(', ')} do not match ${p.schema === 'auto' ? 'the study_success or health_risk schema' : `the ${p.schema} schema`} (${Object.entries(SCHEMAS).map(([n, v]) => `${n}: ${v[0].features.join(', ')} → ${v[0].target}`).join('; ')}); use schema: custom with target/features`);
      }
      ({ target, features, name: dataset } = found);
    }
    // decimal numbers only: '0x1F', 'Infinity', '1_000' are not numbers in a data file
    const isNumber = (v: string) => NUMBER.test(v);
    const numeric = header.map((_, c) => body.every((r) => r[c] === '' || isNumber(r[c]!)));
    if (!features.length) features = header.filter((h, c) => h !== target && numeric[c]);
    for (const f of [target, ...features]) {
      const c = header.indexOf(f);
      if (c < 0) throw new Error(`${p.path}: no column '${f}' (columns: ${header.join(', ')})`);
      if (!numeric[c]) {
        const i = body.findIndex((r) => r[c] !== '' && !isNumber(r[c]!));
        throw new Error(`${p.path}:${lineOf(i)}: column '${f}': ${JSON.stringify(body[i]![c])} is not a number`);
      }
    }
    const cols: Record<string, ReturnType<typeof numericVector>> = {};
    header.forEach((h, c) => {
      if (!numeric[c]) { cols[h] = stringVector(body.map((r) => r[c] || null)); return; }
      const valid = body.map((r) => (r[c] === '' ? 0 : 1));
      const vals = body.map((r) => (r[c] === '' ? 0 : Number(r[c])));
      cols[h] = h === target ? numericVector('int32', vals, valid) : numericVector('float64', vals, valid);
    });
    const labels = new Set(body.map((r) => r[header.indexOf(target)]));
    const classes = [...labels].map(Number).sort((a, b) => a - b);
    if (classes.some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`${p.path}: target '${target}' must hold class indices 0, 1, …`);
    const table = makeTable(cols, { dataset, target, task: 'classification', classes: Array.from({ length: Math.max(2, classes.at(-1)! + 1) }, (_, i) => String(i)), features, source: { file: p.path, rows: body.length } });
    await writeTable(ctx.output('table').path, table);
    ctx.log.info(`${p.path}: ${body.length} rows, schema ${dataset} (target ${target}; features ${features.join(', ')})`);
    return { metrics: { rows: body.length, positive_rate: body.filter((r) => r[header.indexOf(target)] === '1').length / body.length } };
  },
});
