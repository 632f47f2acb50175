/**
 * `download-uci`: a UCI dataset (Adult, MAGIC Gamma Telescope, Combined Cycle Power Plant) as a
 * table artifact, downloaded from the UCI archive or copied from a mirror, verified (pinned
 * sha256 for Adult, structure and row counts for all) before it is used.
 *
 *   adult:
 *     kind: download-uci
 *     params: { dataset: adult }        # mirror: ../shared/datasets  (or $PIPE_DATA_MIRROR)
 *
 * Outputs: `table` (raw typed columns, target as class index, '?' → null; meta target/task/
 * classes/features/dataset), `raw` (the verified original files), `info` (sources, sha256,
 * rows).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';
import { withTableLimits } from '../sdk/limits.js';

const downloadUciParamsSchema = {
  type: 'object',
  properties: {
    dataset: { enum: ['adult', 'magic', 'ccpp'], description: 'UCI Adult (id 2), MAGIC Gamma Telescope (159) or Combined Cycle Power Plant (294)' },
    mirror: { type: 'string', default: '', description: 'directory or http(s) base URL laid out like ../shared/datasets; empty: $PIPE_DATA_MIRROR, else the UCI archive' },
    url: { type: 'string', default: '', description: 'override of the UCI archive zip URL' },
    timeout: { type: 'number', exclusiveMinimum: 0, default: 60, description: 'seconds without progress before an attempt fails' },
    retries: { type: 'integer', minimum: 0, default: 3, description: 'extra attempts for transient failures' },
    backoff: { type: 'number', minimum: 0, default: 1, description: 'seconds before the first retry; doubles per retry' },
  },
  required: ['dataset'],
  additionalProperties: false,
} as const;

/** The params after defaults, derived from the schema (so the two cannot disagree). */
export type DownloadUciParams = FromSchema<typeof downloadUciParamsSchema>;

export default defineStage<DownloadUciParams>(withTableLimits({
  kind: 'download-uci',
  version: '1',
  description: 'Download (or copy from a mirror), verify and parse a UCI dataset: adult, magic or ccpp',
  // Where the bytes come from and how patiently: the files are verified, so none of it can
  // change the result.
  nonResultParams: ['mirror', 'timeout', 'retries', 'backoff'],
  paramsSchema: downloadUciParamsSchema,
  inputs: {},
  outputs: {
    table: { type: 'table', description: 'the dataset, parsed (Arrow IPC)' },
    raw: { type: 'dir', description: 'the verified original files' },
    info: { type: 'json', description: 'sources, sha256 and row counts' },
  },
  async run(ctx) {
    const p = ctx.params;
    const { fetchUci, parseUci, resolveMirror, UCI_SOURCES } = await import('../lib/datasets.js');
    const { writeTable, tableMeta } = await import('../sdk/table.js');
    const { progressEvery } = await import('../lib/download.js');
    const mirror = resolveMirror(p.mirror);
    ctx.log.info(mirror ? `${p.dataset}: from mirror ${mirror}` : `${p.dataset}: from ${p.url || UCI_SOURCES[p.dataset].url}`);
    const files = await fetchUci(p.dataset, {
      mirror, url: p.url || undefined, rawDir: ctx.output('raw').path, tmpDir: ctx.tmpDir,
      timeoutMs: p.timeout * 1000, retries: p.retries, backoffMs: p.backoff * 1000, signal: ctx.signal,
      log: (m) => ctx.log.warn(m),
      onProgress: progressEvery(1 << 20, (bytes, total) => ctx.progress({ done: bytes, total, message: 'downloading' })),
    });
    if (ctx.signal.aborted) throw new Error('aborted');
    ctx.progress({ message: 'parsing' });
    const table = await parseUci(p.dataset, files);
    await writeTable(ctx.output('table').path, table);
    const meta = tableMeta(table);
    const rows = table.numRows;
    let metrics: Record<string, number> = { rows, columns: table.numCols };
    if (meta.task === 'classification') {
      const counts = new Array(meta.classes!.length).fill(0) as number[];
      for (const v of table.getChild(meta.target!)!) counts[v as number]!++;
      metrics = { ...metrics, ...Object.fromEntries(counts.map((c, k) => [`class_${meta.classes![k]}`, c])) };
    }
    await ctx.output('info').writeJSON({
      dataset: p.dataset, uci_id: UCI_SOURCES[p.dataset].id, title: UCI_SOURCES[p.dataset].title,
      files: files.map((f) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256, verified: f.verified, source: f.source })),
      rows, columns: table.schema.fields.map((f) => ({ name: f.name, type: String(f.type) })), metrics,
    });
    return { metrics };
  },
}));
