/**
 * The real HTTP download path of download-uci / download-mnist against a loopback server
 * serving the verified original files (from the mirror) and zips built from them: success,
 * 404, truncated body, wrong checksum, stalled server, retries, offline hint, atomic writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir, readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { runStageDirect } from '../../src/engine/exec/context.js';
import downloadUci from '../../src/stages/download-uci.js';
import downloadMnist from '../../src/stages/download-mnist.js';
import { fetchFile } from '../../src/lib/download.js';
import { readTable, tableMeta } from '../../src/sdk/table.js';
import { MIRROR, Loopback, tmp, useScratchTmp } from './helpers.js';

useScratchTmp();

const fast = { timeout: 5, retries: 0, backoff: 0.01 };
let srv: Loopback;
let savedEnv: string | undefined;
const files: Record<string, Buffer> = {};
const MNIST = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

beforeAll(async () => {
  savedEnv = process.env.PIPE_DATA_MIRROR;
  delete process.env.PIPE_DATA_MIRROR; // these tests choose their source explicitly
  for (const rel of ['adult/adult.data', 'adult/adult.test', 'adult/adult.names', 'magic/magic04.data', 'magic/magic04.names', 'ccpp/Folds5x2_pp.xlsx', 'ccpp/Readme.txt', ...MNIST.map((m) => `mnist/${m}`)]) {
    files[rel] = await readFile(join(MIRROR, rel));
  }
  srv = await new Loopback().start();
  for (const [rel, data] of Object.entries(files)) srv.file(`/mirror/${rel}`, data);
  for (const m of MNIST) srv.file(`/mnist-upstream/${m}`, files[`mnist/${m}`]!);
  // the archive layouts: flat (adult, magic) and a folder inside a nested zip (ccpp)
  const adultZip = zipSync({ 'Index': new TextEncoder().encode('index'), 'adult.data': files['adult/adult.data']!, 'adult.test': files['adult/adult.test']!, 'adult.names': files['adult/adult.names']! });
  srv.file('/static/public/2/adult.zip', adultZip);
  srv.file('/static/public/159/magic+gamma+telescope.zip', zipSync({ 'magic04.data': files['magic/magic04.data']!, 'magic04.names': files['magic/magic04.names']! }));
  const inner = zipSync({ 'CCPP/': {}, 'CCPP/Folds5x2_pp.xlsx': files['ccpp/Folds5x2_pp.xlsx']!, 'CCPP/Readme.txt': files['ccpp/Readme.txt']! });
  srv.file('/static/public/294/combined+cycle+power+plant.zip', zipSync({ 'CCPP.zip': inner }));
  // failure modes
  const corrupt = Buffer.from(files['adult/adult.data']!);
  corrupt[100] = corrupt[100]! ^ 1;
  srv.file('/bad/adult.zip', zipSync({ 'adult.data': corrupt, 'adult.test': files['adult/adult.test']!, 'adult.names': files['adult/adult.names']! }));
  srv.file('/bad/adult/adult.data', corrupt);
  srv.file('/nozip/adult.zip', new TextEncoder().encode('<html>this is not a zip</html>'));
  srv.truncated('/trunc/adult.zip', adultZip);
  srv.stalled('/stall/adult.zip', adultZip);
  const badMagic = Buffer.from(files['magic/magic04.data']!.toString('utf8').replace('31.6036,', '31.6O36,'));
  srv.file('/badmagic/magic/magic04.data', badMagic);
  let flaky = 0;
  const magicZip = zipSync({ 'magic04.data': files['magic/magic04.data']! });
  srv.routes.set('/flaky/magic.zip', (_req, res) => {
    if (flaky++ === 0) { res.writeHead(503); res.end('busy'); return; }
    res.writeHead(200, { 'content-length': String(magicZip.byteLength) });
    res.end(magicZip);
  });
}, 60_000);

afterAll(async () => {
  await srv?.stop();
  if (savedEnv !== undefined) process.env.PIPE_DATA_MIRROR = savedEnv;
});

describe('download-uci over HTTP (loopback)', () => {
  it('downloads the Adult zip, verifies the pinned sha256 of its 3 files and parses 48,842 rows', async () => {
    const r = await runStageDirect(downloadUci, { params: { dataset: 'adult', url: `${srv.base}/static/public/2/adult.zip`, ...fast } });
    const t = await readTable(r.outputs.table!);
    expect(t.numRows).toBe(48842);
    expect((await readdir(r.outputs.raw!)).sort()).toEqual(['adult.data', 'adult.names', 'adult.test']);
    const info = JSON.parse(await readFile(r.outputs.info!, 'utf8'));
    expect(info.files.map((f: { verified: string }) => f.verified)).toEqual(['sha256', 'sha256', 'sha256']);
    expect((await readFile(join(r.outputs.raw!, 'adult.test'))).equals(files['adult/adult.test']!)).toBe(true);
    expect(srv.count('/static/public/2/adult.zip')).toBe(1);
    expect(r.progress.some((p) => p.message === 'downloading' && p.done === p.total && p.total! > 0)).toBe(true);
    expect(r.progress.at(-1)?.message).toBe('parsing');
  });

  it('downloads the MAGIC zip (19,020 rows) and the CCPP zip with the xlsx in a nested zip (9,568 rows)', async () => {
    const m = await runStageDirect(downloadUci, { params: { dataset: 'magic', url: `${srv.base}/static/public/159/magic+gamma+telescope.zip`, ...fast } });
    expect((await readTable(m.outputs.table!)).numRows).toBe(19020);
    const c = await runStageDirect(downloadUci, { params: { dataset: 'ccpp', url: `${srv.base}/static/public/294/combined+cycle+power+plant.zip`, ...fast } });
    const t = await readTable(c.outputs.table!);
    expect(t.numRows).toBe(9568);
    expect(tableMeta(t).task).toBe('regression');
    expect((await readdir(c.outputs.raw!)).sort()).toEqual(['Folds5x2_pp.xlsx', 'Readme.txt']);
  });

  it('uses an http mirror (param, and $PIPE_DATA_MIRROR) with the ../shared/datasets layout', async () => {
    const r = await runStageDirect(downloadUci, { params: { dataset: 'adult', mirror: `${srv.base}/mirror`, ...fast } });
    expect((await readTable(r.outputs.table!)).numRows).toBe(48842);
    const info = JSON.parse(await readFile(r.outputs.info!, 'utf8'));
    expect(info.files[0].source).toBe(`${srv.base}/mirror/adult/adult.data`);
    process.env.PIPE_DATA_MIRROR = `${srv.base}/mirror/`;
    try {
      const before = srv.count('/mirror/magic/magic04.data');
      const m = await runStageDirect(downloadUci, { params: { dataset: 'magic', ...fast } });
      expect((await readTable(m.outputs.table!)).numRows).toBe(19020);
      expect(srv.count('/mirror/magic/magic04.data')).toBe(before + 1);
    } finally {
      delete process.env.PIPE_DATA_MIRROR;
    }
  });

  it('404: fails at once (no retry) with the status, URL and the offline/mirror hint', async () => {
    const url = `${srv.base}/static/public/2/missing.zip`;
    await expect(runStageDirect(downloadUci, { params: { dataset: 'adult', url, timeout: 5, retries: 3, backoff: 0.01 } }))
      .rejects.toThrow(/HTTP 404.*missing\.zip|missing\.zip.*HTTP 404/);
    expect(srv.count('/static/public/2/missing.zip')).toBe(1);
    await expect(runStageDirect(downloadUci, { params: { dataset: 'adult', url, ...fast } })).rejects.toThrow(/PIPE_DATA_MIRROR/);
  });

  it('truncated body: retried with backoff, then a clear error; no partial file is left', async () => {
    const dir = await tmp();
    const logs: string[] = [];
    await expect(fetchFile(`${srv.base}/trunc/adult.zip`, join(dir, 'adult.zip'), { retries: 2, backoffMs: 10, timeoutMs: 5000, log: (m) => logs.push(m) }))
      .rejects.toThrow(/truncated.*gave up after 3 attempts/s);
    expect(srv.count('/trunc/adult.zip')).toBe(3);
    expect(logs.filter((l) => /retrying in (10|20) ms/.test(l))).toHaveLength(2);
    expect(await readdir(dir)).toEqual([]);
    await expect(runStageDirect(downloadUci, { params: { dataset: 'adult', url: `${srv.base}/trunc/adult.zip`, ...fast } })).rejects.toThrow(/truncated/);
  });

  it('wrong checksum: the file is rejected naming it and both hashes; nothing is written', async () => {
    const r = runStageDirect(downloadUci, { params: { dataset: 'adult', url: `${srv.base}/bad/adult.zip`, ...fast } });
    await expect(r).rejects.toThrow(/adult\.data: sha256 mismatch: expected 5b00264637dbfec3.*got [0-9a-f]{64}/);
    const outDir = await tmp();
    await expect(runStageDirect(downloadUci, { outDir, params: { dataset: 'adult', mirror: `${srv.base}/bad`, ...fast } }))
      .rejects.toThrow(/sha256 mismatch for adult\.data: expected 5b00264637dbfec3/);
    expect(existsSync(join(outDir, 'raw', 'adult.data'))).toBe(false);
    expect(await readdir(join(outDir, 'raw'))).toEqual([]);
  });

  it('a non-zip body is rejected as not a readable zip archive', async () => {
    await expect(runStageDirect(downloadUci, { params: { dataset: 'adult', url: `${srv.base}/nozip/adult.zip`, ...fast } }))
      .rejects.toThrow(/adult\.zip: not a readable zip archive/);
  });

  it('structural validation: a malformed mirror file is rejected naming file and line and never lands', async () => {
    const outDir = await tmp();
    await expect(runStageDirect(downloadUci, { outDir, params: { dataset: 'magic', mirror: `${srv.base}/badmagic`, ...fast } }))
      .rejects.toThrow(/magic04\.data:2: column 'fLength': '31\.6O36' is not a number/);
    expect(existsSync(join(outDir, 'raw', 'magic04.data'))).toBe(false);
  });

  it('stalled server: the idle timeout fires, the attempt is retried, then a timeout error', async () => {
    const dir = await tmp();
    await expect(fetchFile(`${srv.base}/stall/adult.zip`, join(dir, 'adult.zip'), { retries: 1, backoffMs: 10, timeoutMs: 300 }))
      .rejects.toThrow(/stalled: no data for 300 ms after 100 bytes of \d+ \(timeout\)/);
    expect(srv.count('/stall/adult.zip')).toBe(2);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a transient 503 is retried and the download then succeeds', async () => {
    const r = await runStageDirect(downloadUci, { params: { dataset: 'magic', url: `${srv.base}/flaky/magic.zip`, timeout: 5, retries: 2, backoff: 0.01 } });
    expect((await readTable(r.outputs.table!)).numRows).toBe(19020);
    expect(srv.count('/flaky/magic.zip')).toBe(2);
    expect(r.logs.some((l) => /HTTP 503.*retrying/.test(l))).toBe(true);
  });

  it('abort: a stalled download stops when the signal fires', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    await expect(runStageDirect(downloadUci, { signal: ac.signal, params: { dataset: 'adult', url: `${srv.base}/stall/adult.zip`, timeout: 30, retries: 0 } }))
      .rejects.toThrow(/aborted/);
  });

  it('offline without a mirror: the error says how to set one', async () => {
    await expect(runStageDirect(downloadUci, { params: { dataset: 'magic', url: 'http://127.0.0.1:1/159/magic.zip', ...fast } }))
      .rejects.toThrow(/request failed.*set the stage param `mirror:` or the environment variable PIPE_DATA_MIRROR/s);
    await expect(runStageDirect(downloadMnist, { params: { urls: ['http://127.0.0.1:1/mnist/'], ...fast } }))
      .rejects.toThrow(/PIPE_DATA_MIRROR/);
  });

  it('a mirror directory without the file: a clear error naming the file', async () => {
    const empty = await tmp();
    await mkdir(join(empty, 'adult'));
    await expect(runStageDirect(downloadUci, { params: { dataset: 'adult', mirror: empty, ...fast } }))
      .rejects.toThrow(/could not get adult\.data from the mirror .*adult\/adult\.data: no such file in the mirror directory/);
  });
});

describe('download-mnist over HTTP (loopback)', () => {
  it('downloads the 4 gz files from base URLs (first one failing over to the second), verifying the IDX sha256', async () => {
    const r = await runStageDirect(downloadMnist, { params: { urls: [`${srv.base}/nowhere/`, `${srv.base}/mnist-upstream/`], pixels: 'float32', ...fast } });
    expect((await readTable(r.outputs.train!)).numRows).toBe(60000);
    expect(String((await readTable(r.outputs.test!)).getChild('image')!.type)).toBe('FixedSizeList[784]<Float32>');
    expect((await readTable(r.outputs.test!)).numRows).toBe(10000);
    const info = JSON.parse(await readFile(r.outputs.info!, 'utf8'));
    expect(info.files.map((f: { source: string }) => f.source)).toEqual(MNIST.map((m) => `${srv.base}/mnist-upstream/${m}`));
    expect(r.logs.some((l) => /HTTP 404.*trying the next URL/.test(l))).toBe(true);
  });

  it('an MNIST file whose IDX content differs from the pinned sha256 is rejected', async () => {
    const { gzipSync, gunzipSync } = await import('fflate');
    const idx = gunzipSync(files['mnist/t10k-labels-idx1-ubyte.gz']!);
    idx[20] = (idx[20]! + 1) % 10;
    for (const m of MNIST) srv.file(`/mnist-bad/mnist/${m}`, files[`mnist/${m}`]!);
    srv.file('/mnist-bad/mnist/t10k-labels-idx1-ubyte.gz', gzipSync(idx));
    await expect(runStageDirect(downloadMnist, { params: { mirror: `${srv.base}/mnist-bad`, ...fast } }))
      .rejects.toThrow(/t10k-labels-idx1-ubyte\.gz: sha256 mismatch of the uncompressed IDX: expected ff7bcfd4/);
  });
});

describe('dataset specs', () => {
  it('one spec per UCI dataset: the kind offers exactly those, an unknown name is an error (never another dataset)', async () => {
    const { UCI_SOURCES, uciSource, parseUci } = await import('../../src/lib/datasets.js');
    const schema = downloadUci.paramsSchema as { properties: { dataset: { enum: string[] } } };
    expect(schema.properties.dataset.enum).toEqual(Object.keys(UCI_SOURCES));
    expect(uciSource('magic').id).toBe(159);
    expect(() => uciSource('higgs')).toThrow("unknown UCI dataset 'higgs' (known: adult, magic, ccpp)");
    expect(() => uciSource('toString')).toThrow(/unknown UCI dataset/);
    await expect(parseUci('iris' as never, [])).rejects.toThrow("unknown UCI dataset 'iris'");
  });
});
