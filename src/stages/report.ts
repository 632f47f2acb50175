/**
 * `report`: an HTML page (and a Markdown report) built from the artifacts wired into it.
 *
 *   summary:
 *     kind: report
 *     inputs:
 *       items: [loss_plot.spec, loss_plot.png, landscape.png, convergence.gif, train[*].metrics, data.table]
 *     params: { title: ActMix on Adult }
 *
 * A stage cannot see the DAG, so this page shows only what it is given, grouped by the stage
 * that produced it: figures (a vega-lite spec is drawn interactively with the same stage's PNG
 * as fallback; PNG/GIF/SVG shown as images), table previews, JSON and text. The whole-pipeline
 * page with the DAG is `pipe report`. Artifact types are told apart by content.
 *
 * Outputs: `html` (one self-contained file) and `markdown` (a directory with REPORT.md, its
 * figures/ and the same index.html).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';

const reportParamsSchema = {
  type: 'object',
  properties: {
    title: { type: 'string', default: 'Report' },
    max_rows: { type: 'integer', minimum: 1, maximum: 500, default: 12, description: 'rows shown per table' },
  },
  additionalProperties: false,
} as const;

/** The params after defaults, derived from the schema (so the two cannot disagree). */
type ReportParams = FromSchema<typeof reportParamsSchema>;

export default defineStage<ReportParams>({
  kind: 'report',
  version: '1',
  description: 'Self-contained HTML (+ Markdown) page of the figures, tables and JSON given as inputs',
  paramsSchema: reportParamsSchema,
  inputs: {
    items: { type: 'any', multiple: true, description: 'figures (spec/png/svg/gif), tables, JSON, text' },
  },
  outputs: {
    html: { type: 'html' },
    markdown: { type: 'dir', description: 'REPORT.md with figures/ (and index.html)' },
  },
  async run(ctx) {
    const { open, copyFile } = await import('node:fs/promises');
    const { writeReport } = await import('../lib/report/html.js');
    const sniff = async (path: string): Promise<string> => {
      const fh = await open(path, 'r');
      const head = Buffer.alloc(512);
      let n = 0;
      try { n = (await fh.read(head, 0, 512, 0)).bytesRead; } catch { return 'dir'; } finally { await fh.close(); }
      const b = head.subarray(0, n);
      if (b.readUInt32BE(0) === 0x89504e47) return 'png';
      if (b.subarray(0, 3).toString('latin1') === 'GIF') return 'gif';
      if (b.subarray(0, 6).toString('latin1') === 'ARROW1') return 'table';
      const text = b.toString('utf8').trimStart();
      if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg'))) return 'svg';
      if (/^<!doctype html|^<html/i.test(text)) return 'html';
      if (text.startsWith('{') || text.startsWith('[')) return 'json';
      return 'text';
    };
    const stages = new Map<string, { id: string; base: string; kind: string; state: 'fresh'; reasons: string[]; params: unknown; matrix: Record<string, string | number | boolean>; deps: string[]; metrics?: Record<string, unknown>; outputs: { name: string; type: string; path: string; hash: string }[] }>();
    for (const h of ctx.inputs('items')) {
      let s = stages.get(h.from);
      if (!s) {
        s = { id: h.from, base: h.from.replace(/\[.*$/, ''), kind: '', state: 'fresh', reasons: [], params: {}, matrix: h.matrix, deps: [], outputs: [] };
        stages.set(h.from, s);
      }
      let type: string;
      try { type = await sniff(h.path); } catch { type = 'dir'; }
      s.outputs.push({ name: h.output, type, path: h.path, hash: h.hash });
      if (type === 'json') {
        // a flat object of scalars (a metrics file) joins the results table
        try {
          const v = JSON.parse(await h.readText()) as unknown;
          if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length <= 60 && Object.values(v).every((x) => x === null || ['number', 'string', 'boolean'].includes(typeof x))) {
            s.metrics = { ...s.metrics, ...(v as Record<string, unknown>) };
          }
        } catch { /* shown as text */ }
      }
    }
    const dir = ctx.output('markdown').path;
    const r = await writeReport(
      { pipeline: { name: ctx.params.title, file: '', params: {} }, generatedAt: '', stages: [...stages.values()] },
      dir,
      { title: ctx.params.title, dag: false, links: false, maxRows: ctx.params.max_rows },
    );
    await copyFile(r.html, ctx.output('html').path);
    return { metrics: { items: ctx.inputs('items').length, sources: stages.size } };
  },
});
