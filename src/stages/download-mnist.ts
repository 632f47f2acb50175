/**
 * `download-mnist`: MNIST train (60,000) and test (10,000) as table artifacts, downloaded from a
 * standard mirror (or copied from a mirror laid out like ../shared/datasets: mnist/*.gz),
 * verified against the pinned sha256 of the uncompressed IDX files.
 *
 * Tables: `image` FixedSizeList<uint8>[784] (row-major 28×28, 0–255) — or FixedSizeList<float32>
 * with values x/255 in [0,1] when `pixels: float32` — and `label` Int32 (0–9).
 * `featureMatrix` expands `image` into 784 features.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { defineStage } from '../sdk/stage.js';

const downloadMnistParamsSchema = {
  type: 'object',
  properties: {
    pixels: { enum: ['uint8', 'float32'], default: 'uint8', description: 'uint8 0–255, or float32 x/255 in [0,1]' },
    mirror: { type: 'string', default: '', description: 'directory or http(s) base URL laid out like ../shared/datasets (mnist/*.gz); empty: $PIPE_DATA_MIRROR, else `urls`' },
    urls: { type: 'array', items: { type: 'string' }, minItems: 1, default: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/'], description: 'base URLs tried in order (files directly under them)' },
    timeout: { type: 'number', exclusiveMinimum: 0, default: 60 },
    retries: { type: 'integer', minimum: 0, default: 3 },
    backoff: { type: 'number', minimum: 0, default: 1 },
  },
  additionalProperties: false,
} as const;

/** The params after defaults, derived from the schema (so the two cannot disagree). */
export type DownloadMnistParams = FromSchema<typeof downloadMnistParamsSchema>;

export default defineStage<DownloadMnistParams>({
  kind: 'download-mnist',
  version: '1',
  description: 'Download (or copy from a mirror), verify and parse MNIST into train/test tables',
  // Where the bytes come from and how patiently: the files are verified, so none of it can
  // change the result.
  nonResultParams: ['mirror', 'timeout', 'retries', 'backoff'],
  paramsSchema: downloadMnistParamsSchema,
  inputs: {},
  outputs: {
    train: { type: 'table', description: '60,000 training images and labels' },
    test: { type: 'table', description: '10,000 test images and labels' },
    info: { type: 'json', description: 'sources and sha256 of the files' },
  },
  async run(ctx) {
    const p = ctx.params;
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { fetchFile, progressEvery } = await import('../lib/download.js');
    const { MNIST_FILES, mirrorLocation, readMnistGz, resolveMirror, withOfflineHint, mnistTable } = await import('../lib/datasets.js');
    const { writeTable } = await import('../sdk/table.js');
    const mirror = resolveMirror(p.mirror);
    ctx.log.info(mirror ? `MNIST from mirror ${mirror}` : `MNIST from ${p.urls.join(' | ')}`);
    const kinds = { trainImages: 'images', trainLabels: 'labels', testImages: 'images', testLabels: 'labels' } as const;
    const parsed: Partial<Record<keyof typeof MNIST_FILES, Awaited<ReturnType<typeof readMnistGz>>>> = {};
    const files: unknown[] = [];
    const keys = Object.keys(MNIST_FILES) as (keyof typeof MNIST_FILES)[];
    for (const [i, key] of keys.entries()) {
      const f = MNIST_FILES[key];
      const sources = mirror ? [mirrorLocation(mirror, `mnist/${f.name}`)] : p.urls.map((u) => u.replace(/\/*$/, '/') + f.name);
      let lastErr: unknown;
      for (const src of sources) {
        try {
          const r = await fetchFile(src, join(ctx.tmpDir, f.name), {
            timeoutMs: p.timeout * 1000, retries: p.retries, backoffMs: p.backoff * 1000, signal: ctx.signal,
            log: (m) => ctx.log.warn(m),
            onProgress: progressEvery(1 << 20, (bytes, total) => ctx.progress({ done: i, total: keys.length, message: `${f.name}: ${bytes}${total ? `/${total}` : ''} bytes` })),
            validate: async (tmp) => { parsed[key] = await readMnistGz(await readFile(tmp), f.name, kinds[key], f.idxSha256); },
          });
          files.push({ name: f.name, source: src, gz_bytes: r.bytes, gz_sha256: r.sha256, idx_sha256: f.idxSha256, verified: 'sha256 of the uncompressed IDX' });
          lastErr = undefined;
          break;
        } catch (e) {
          if (ctx.signal.aborted) throw new Error('aborted');
          lastErr = e;
          if (sources.length > 1) ctx.log.warn(`${(e as Error).message}; trying the next URL`);
        }
      }
      if (lastErr) throw mirror ? new Error(`MNIST: could not get ${f.name} from the mirror ${mirror}: ${(lastErr as Error).message}`, { cause: lastErr }) : withOfflineHint(lastErr);
    }
    ctx.progress({ done: keys.length, total: keys.length, message: 'writing tables' });
    const train = mnistTable(parsed.trainImages!, parsed.trainLabels!, p.pixels, 'train');
    const test = mnistTable(parsed.testImages!, parsed.testLabels!, p.pixels, 'test');
    await writeTable(ctx.output('train').path, train);
    await writeTable(ctx.output('test').path, test);
    const counts = (t: typeof train) => {
      const c = new Array(10).fill(0) as number[];
      for (const v of t.getChild('label')!) c[v as number]!++;
      return c;
    };
    await ctx.output('info').writeJSON({ dataset: 'mnist', pixels: p.pixels, files, train_rows: train.numRows, test_rows: test.numRows, train_label_counts: counts(train), test_label_counts: counts(test) });
    return { metrics: { train_rows: train.numRows, test_rows: test.numRows } };
  },
});
