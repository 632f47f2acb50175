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
import { withTableLimits } from '../sdk/limits.js';

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

export default defineStage<LoadCsvParams>(withTableLimits({
  kind: 'load-csv',
  version: '1',
  description: "A project CSV as a table; target and features given or auto-detected (the Hebbian seed's study/health schemas)",
  paramsSchema: loadCsvSchema,
  inputs: {},
  outputs: { table: { type: 'table' } },
  fileDeps: (p) => [p.path],
  async run(ctx) {
    const p = ctx.params;
    const { isAbsolute, join } = await import('node:path');
    const { makeTable, numericVector, writeTable, dictionaryVector } = await import('../sdk/table.js');
    const { Vector } = await import('apache-arrow');
    const file = isAbsolute(p.path) ? p.path : join(ctx.projectDir, p.path);
    // One streamed pass of csv-parse (the file is never one string: V8 strings stop at ~512 MB):
    // every column is parsed as numbers into Float64 chunks of CHUNK rows (no per-row objects);
    // a column that turns out not to be numeric is read again, alone, as dictionary codes.
    const CHUNK = 1 << 20;
    let header: string[] | null = null;
    type Col = { chunks: Float64Array[]; valid: (Uint8Array | null)[]; nulls: number; firstBad: number }; // valid: only for chunks with a missing value
    let cols: Col[] = [];
    let rows = 0;
    let ragged: { record: number; fields: number } | null = null;
    await readCsv(file, p.path, (rec, k) => {
      if (!header) {
        header = rec;
        cols = rec.map(() => ({ chunks: [], valid: [], nulls: 0, firstBad: -1 }));
        return true;
      }
      if (rec.length !== header.length) { ragged = { record: k, fields: rec.length }; return false; }
      const at = rows % CHUNK;
      for (let c = 0; c < rec.length; c++) {
        const col = cols[c]!;
        if (at === 0) { col.chunks.push(new Float64Array(CHUNK)); col.valid.push(null); }
        const v = rec[c]!;
        if (v === '') {
          col.nulls++;
          const j = col.valid.length - 1;
          (col.valid[j] ??= new Uint8Array(CHUNK).fill(1))[at] = 0;
          continue;
        }
        if (col.firstBad < 0) {
          // decimal numbers only: '0x1F', 'Infinity', '1_000' are not numbers in a data file
          if (NUMBER.test(v)) col.chunks.at(-1)![at] = Number(v);
          else col.firstBad = rows;
        }
      }
      rows++;
      return true;
    });
    /** The line of the file a body row came from (for messages; found by a second, counting parse). */
    const lineOf = async (row: number) => (await readCsv(file, p.path, () => true, row + 1)) ?? '?';
    if (ragged) {
      const r = ragged as { record: number; fields: number };
      throw new Error(`${p.path}:${await lineOf(r.record - 1)}: ${r.fields} fields, the header has ${header!.length}`);
    }
    if (!header || rows === 0) throw new Error(`${p.path}: needs a header and at least one row`);
    const head: string[] = header;
    let target: string, features: string[], dataset: string;
    if (p.schema === 'custom') {
      if (!p.target) throw new Error("schema custom needs 'target'");
      target = p.target;
      features = p.features ?? [];
      dataset = p.path.replace(/^.*\//, '').replace(/\.csv$/i, '');
    } else {
      const found = detectSchema(head);
      if (!found || (p.schema !== 'auto' && found.name !== p.schema)) {
        throw new Error(`${p.path}: columns ${head.join(', ')} do not match ${p.schema === 'auto' ? 'the study_success or health_risk schema' : `the ${p.schema} schema`} (${Object.entries(SCHEMAS).map(([n, v]) => `${n}: ${v[0].features.join(', ')} → ${v[0].target}`).join('; ')}); use schema: custom with target/features`);
      }
      ({ target, features, name: dataset } = found);
    }
    const numeric = cols.map((c) => c.firstBad < 0);
    if (!features.length) features = head.filter((h, c) => h !== target && numeric[c]);
    for (const f of [target, ...features]) {
      const c = head.indexOf(f);
      if (c < 0) throw new Error(`${p.path}: no column '${f}' (columns: ${head.join(', ')})`);
      if (!numeric[c]) {
        let bad = '';
        await readCsv(file, p.path, (rec, k) => { if (k === cols[c]!.firstBad + 1) { bad = rec[c]!; return false; } return true; });
        throw new Error(`${p.path}:${await lineOf(cols[c]!.firstBad)}: column '${f}': ${JSON.stringify(bad)} is not a number`);
      }
    }
    const nChunks = Math.ceil(rows / CHUNK);
    const last = rows - (nChunks - 1) * CHUNK;
    const size = (j: number) => (j === nChunks - 1 ? last : CHUNK);
    const vectors: Record<string, ReturnType<typeof numericVector>> = {};
    const strings = head.map((_, c) => c).filter((c) => !numeric[c]);
    const codes = new Map<number, { chunks: Int32Array[]; levels: string[]; index: Map<string, number> }>();
    if (strings.length) {
      for (const c of strings) codes.set(c, { chunks: [], levels: [], index: new Map() });
      let row = 0;
      await readCsv(file, p.path, (rec, k) => {
        if (k === 0) return true;
        const at = row % CHUNK;
        for (const c of strings) {
          const cc = codes.get(c)!;
          if (at === 0) cc.chunks.push(new Int32Array(size(cc.chunks.length)));
          const v = rec[c]!;
          let j = -1;
          if (v !== '') {
            j = cc.index.get(v) ?? -1;
            if (j < 0) { j = cc.levels.length; cc.levels.push(v); cc.index.set(v, j); }
          }
          cc.chunks.at(-1)![at] = j;
        }
        row++;
        return true;
      });
    }
    let positives = 0, maxClass = 0, badClass = false;
    head.forEach((h, c) => {
      const col = cols[c]!;
      if (!numeric[c]) {
        const cc = codes.get(c)!;
        col.chunks = []; // the failed numeric parse is not needed
        vectors[h] = dictionaryColumn(cc.chunks, cc.levels);
        return;
      }
      const parts = col.chunks.map((vals, j) => {
        const n = size(j);
        const v = vals.subarray(0, n), ok = col.valid[j]?.subarray(0, n) ?? null;
        if (h !== target) return numericVector('float64', v, ok);
        const y = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          y[i] = v[i]!;
          if (ok && !ok[i]) continue;
          if (v[i] === 1) positives++;
          if (!Number.isInteger(v[i]!) || v[i]! < 0) badClass = true;
          else if (v[i]! > maxClass) maxClass = v[i]!;
        }
        return numericVector('int32', y, ok);
      });
      col.chunks = []; col.valid = [];
      vectors[h] = parts.length === 1 ? parts[0]! : new Vector(parts.flatMap((x) => x.data));
    });
    if (badClass) throw new Error(`${p.path}: target '${target}' must hold class indices 0, 1, …`);
    const table = makeTable(vectors, { dataset, target, task: 'classification', classes: Array.from({ length: Math.max(2, maxClass + 1) }, (_, i) => String(i)), features, source: { file: p.path, rows } });
    await writeTable(ctx.output('table').path, table);
    ctx.log.info(`${p.path}: ${rows} rows, schema ${dataset} (target ${target}; features ${features.join(', ')})`);
    return { metrics: { rows, positive_rate: positives / rows } };

    /** One dictionary-encoded column of several chunks sharing one dictionary. */
    function dictionaryColumn(chunks: Int32Array[], levels: string[]) {
      const first = dictionaryVector(chunks[0]!, levels);
      if (chunks.length === 1) return first;
      const dict = first.data[0]!.dictionary!;
      return new Vector([first.data[0]!, ...chunks.slice(1).map((k) => dictionaryVector(k, dict).data[0]!)]);
    }
  },
}));

/**
 * Streams the records of a CSV through `onRecord(record, k)` (k = record index, header = 0)
 * until it returns false. With `lineOfRecord`, instead counts lines (csv-parse's `info`, slower)
 * and returns the file line of record `lineOfRecord`.
 */
async function readCsv(file: string, name: string, onRecord: (rec: string[], k: number) => boolean, lineOfRecord?: number): Promise<number | undefined> {
  const { createReadStream } = await import('node:fs');
  const { parse } = await import('csv-parse');
  const stream = createReadStream(file);
  const parser = stream.pipe(parse({ columns: false, skip_empty_lines: true, trim: true, relax_column_count: true, info: lineOfRecord !== undefined }));
  let k = 0;
  try {
    for await (const r of parser) {
      if (lineOfRecord !== undefined) {
        if (k === lineOfRecord) return (r as { info: { lines: number } }).info.lines;
      } else if (!onRecord(r as string[], k)) return undefined;
      k++;
    }
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new Error(`${name}${err.lines ? `:${err.lines}` : ''}: not readable as CSV (${err.message})`);
  } finally {
    stream.destroy();
    parser.destroy();
  }
  return undefined;
}
