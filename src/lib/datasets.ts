/**
 * The real datasets of pipe: where they come from (UCI archive, MNIST mirrors, or a local or
 * http mirror laid out like ../shared/datasets), how they are verified (pinned sha256 where
 * the original is known, structural checks for all) and how they are parsed into table
 * artifacts (src/lib/table.ts conventions).
 *
 * Every parse error names the file and the line (text files), sheet row (xlsx) or record
 * (IDX), e.g. `adult.test:1207: column 'age': 'x9' is not an integer`.
 */
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { DownloadError, fetchFile, isUrl, sha256Bytes, type FetchOptions } from './download.js';
import { fixedListVector, makeTable, numericVector, stringVector, type Table, type TableMeta } from '../sdk/table.js';

/* ------------------------------------------------------------------------------------------
 * Sources
 * ---------------------------------------------------------------------------------------- */

type Parsed = AdultRows | Table;

export interface SourceFile {
  /** File name (as in the UCI archive and in the mirror's dataset folder). */
  name: string;
  /** Pinned sha256 of the original file, where it is known. */
  sha256?: string;
  /** Not needed to build the table (documentation files). */
  optional?: boolean;
  /** Row count of the original file; a parsed file with another count is not the original. */
  rows?: number;
  /** Structural validation: parses the file (throws naming file and line). */
  parse?: (bytes: Uint8Array, name: string) => Parsed | Promise<Parsed>;
}

/** One UCI dataset, the one description of it: where it comes from, its files, how they become its table. */
export interface UciSource {
  id: number;
  title: string;
  url: string;
  /** Folder of the dataset in a mirror. */
  dir: string;
  files: SourceFile[];
  /** The table, from the parsed files (by name). */
  build(parsed: (name: string) => Parsed): Table;
}

const utf8 = (b: Uint8Array) => Buffer.from(b).toString('utf8');

/** The UCI archive (https://archive.ics.uci.edu/static/public/<id>/<name>.zip). */
export const UCI_SOURCES = {
  adult: {
    id: 2,
    title: 'Adult (Census Income)',
    url: 'https://archive.ics.uci.edu/static/public/2/adult.zip',
    dir: 'adult',
    files: [
      { name: 'adult.data', sha256: '5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d', rows: 32561, parse: (b, n) => parseAdultFile(utf8(b), n, { checkRows: true }) },
      { name: 'adult.test', sha256: 'a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05', rows: 16281, parse: (b, n) => parseAdultFile(utf8(b), n, { checkRows: true }) },
      { name: 'adult.names', sha256: 'c248284c0b5de30c9e1958d6cdd168a34a654758b620e68f46aefa83fc0a576a' },
    ],
    build: (get) => adultTable([get('adult.data') as AdultRows, get('adult.test') as AdultRows]),
  },
  magic: {
    id: 159,
    title: 'MAGIC Gamma Telescope',
    url: 'https://archive.ics.uci.edu/static/public/159/magic+gamma+telescope.zip',
    dir: 'magic',
    files: [{ name: 'magic04.data', rows: 19020, parse: (b, n) => parseMagic(utf8(b), n, { checkRows: true }) }, { name: 'magic04.names', optional: true }],
    build: (get) => get('magic04.data') as Table,
  },
  ccpp: {
    id: 294,
    title: 'Combined Cycle Power Plant',
    url: 'https://archive.ics.uci.edu/static/public/294/combined+cycle+power+plant.zip',
    dir: 'ccpp',
    files: [{ name: 'Folds5x2_pp.xlsx', rows: 9568, parse: (b, n) => parseCcppXlsx(b, n, { checkRows: true }) }, { name: 'Readme.txt', optional: true }],
    build: (get) => get('Folds5x2_pp.xlsx') as Table,
  },
} satisfies Record<string, UciSource>;

export type UciDataset = keyof typeof UCI_SOURCES;

/** The spec of a UCI dataset; an unknown name is an error naming the known ones. */
export function uciSource(name: string): UciSource {
  const s = (UCI_SOURCES as Record<string, UciSource>)[name];
  if (!s || !Object.hasOwn(UCI_SOURCES, name)) throw new Error(`unknown UCI dataset '${name}' (known: ${Object.keys(UCI_SOURCES).join(', ')})`);
  return s;
}

/**
 * MNIST: the gz files as served by the usual mirrors (LeCun's site no longer serves them
 * freely). The pinned sha256 is that of the *uncompressed* IDX file (the gz wrappers differ
 * between mirrors; the IDX bytes are LeCun's).
 */
export const MNIST_URLS = [
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
  'https://storage.googleapis.com/cvdf-datasets/mnist/',
];
export const MNIST_FILES = {
  trainImages: { name: 'train-images-idx3-ubyte.gz', rows: 60000, idxSha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db' },
  trainLabels: { name: 'train-labels-idx1-ubyte.gz', rows: 60000, idxSha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5' },
  testImages: { name: 't10k-images-idx3-ubyte.gz', rows: 10000, idxSha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7' },
  testLabels: { name: 't10k-labels-idx1-ubyte.gz', rows: 10000, idxSha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2' },
} as const;

/** Row count of an original source file (UCI or MNIST), from the dataset specs. */
function expectedRows(file: string): number | undefined {
  for (const src of Object.values(UCI_SOURCES) as UciSource[]) for (const f of src.files) if (f.name === file) return f.rows;
  for (const f of Object.values(MNIST_FILES)) if (f.name === file) return f.rows;
  return undefined;
}

export const MIRROR_LAYOUT = 'adult/adult.data, adult/adult.test, adult/adult.names, magic/magic04.data, ccpp/Folds5x2_pp.xlsx, mnist/train-images-idx3-ubyte.gz, …';

/** The mirror to use: the `mirror` param, else $PIPE_DATA_MIRROR, else none (upstream). */
export function resolveMirror(param?: string | null): string | null {
  const m = (param ?? '').trim() || (process.env.PIPE_DATA_MIRROR ?? '').trim();
  if (!m) return null;
  return isUrl(m) ? m.replace(/\/*$/, '/') : resolve(m);
}

/** Location of `rel` (e.g. `adult/adult.data`) in a mirror directory or under a mirror URL. */
export function mirrorLocation(mirror: string, rel: string): string {
  return isUrl(mirror) ? new URL(rel.split('/').map(encodeURIComponent).join('/'), mirror).href : join(mirror, rel);
}

export function offlineHint(): string {
  return 'If this machine has no internet access, use a mirror: set the stage param `mirror:` or the ' +
    'environment variable PIPE_DATA_MIRROR to a directory or http(s) base URL with the same layout as ' +
    `../shared/datasets (${MIRROR_LAYOUT}), e.g. PIPE_DATA_MIRROR=../shared/datasets.`;
}

/** Adds the offline/mirror hint to a failed upstream download. */
export function withOfflineHint(e: unknown): Error {
  const err = e as Error;
  if (err.message === 'aborted') return err;
  const out = new DownloadError(`${err.message}. ${offlineHint()}`, (e as DownloadError).source ?? '', false, (e as DownloadError).status, { cause: e });
  return out;
}

/* ------------------------------------------------------------------------------------------
 * Fetching UCI datasets (archive zip upstream, or single files from a mirror)
 * ---------------------------------------------------------------------------------------- */

export interface UciFetchOptions extends FetchOptions {
  /** Mirror dir or URL (already resolved), or null for the UCI archive. */
  mirror: string | null;
  /** Override of the archive URL (default: the UCI URL). */
  url?: string;
  /** Directory receiving the verified original files. */
  rawDir: string;
  /** Scratch directory (for the zip). */
  tmpDir: string;
}

export interface FetchedFile {
  name: string;
  path: string;
  sha256: string;
  bytes: number;
  source: string;
  verified: 'sha256' | 'structure';
  /** The parse done during validation, reused by `parseUci`. */
  parsed?: AdultRows | Table;
}

/** Structural validation of one source file (parses it; throws naming file and line). */
export async function validateUciFile(dataset: UciDataset, name: string, bytes: Uint8Array): Promise<AdultRows | Table | undefined> {
  await loadCsv();
  return uciSource(dataset).files.find((f) => f.name === name)?.parse?.(bytes, name);
}

/** Finds the entries of a zip (recursing into nested zips) by base name. */
async function unzipFind(zip: Uint8Array, names: string[], zipName: string): Promise<Map<string, Uint8Array>> {
  const { unzipSync } = await import('fflate');
  const found = new Map<string, Uint8Array>();
  const visit = (buf: Uint8Array, label: string, depth: number) => {
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(buf);
    } catch (e) {
      throw new Error(`${label}: not a readable zip archive (${(e as Error).message})`);
    }
    const nested: [string, Uint8Array][] = [];
    for (const [path, data] of Object.entries(entries)) {
      if (path.endsWith('/') || path.startsWith('__MACOSX/')) continue;
      const base = path.split('/').pop()!;
      if (names.includes(base) && !found.has(base)) found.set(base, data);
      else if (/\.zip$/i.test(base) && depth < 2) nested.push([path, data]);
    }
    for (const [path, data] of nested) visit(data, `${label}!${path}`, depth + 1);
  };
  visit(zip, zipName, 0);
  return found;
}

/** Writes bytes to `dest` atomically (temp file + rename). */
async function writeAtomic(dest: string, data: Uint8Array): Promise<void> {
  const { writeFile, rename } = await import('node:fs/promises');
  const tmp = join(resolve(dest, '..'), `.${basename(dest)}.part-${process.pid}`);
  await writeFile(tmp, data);
  await rename(tmp, dest);
}

/** Downloads (or copies from the mirror) and verifies the files of a UCI dataset. */
export async function fetchUci(dataset: UciDataset, opts: UciFetchOptions): Promise<FetchedFile[]> {
  const src = uciSource(dataset);
  const out: FetchedFile[] = [];
  if (opts.mirror) {
    for (const f of src.files) {
      const from = mirrorLocation(opts.mirror, `${src.dir}/${f.name}`);
      try {
        let parsed: AdultRows | Table | undefined;
        const r = await fetchFile(from, join(opts.rawDir, f.name), {
          ...opts, sha256: f.sha256,
          validate: async (tmp) => { parsed = await validateUciFile(dataset, f.name, await readFile(tmp)); },
        });
        out.push({ name: f.name, path: r.path, sha256: r.sha256, bytes: r.bytes, source: from, verified: f.sha256 ? 'sha256' : 'structure', parsed });
      } catch (e) {
        const notThere = e instanceof DownloadError && (e.status === 404 || e.message.includes('no such file'));
        if (f.optional && notThere) {
          opts.log?.(`optional file ${f.name} not in the mirror (${from}); skipped`);
          continue;
        }
        throw new Error(`${dataset}: could not get ${f.name} from the mirror ${opts.mirror}: ${(e as Error).message}`, { cause: e });
      }
    }
    return out;
  }
  const url = opts.url ?? src.url;
  const zipPath = join(opts.tmpDir, `${dataset}.zip`);
  let found = new Map<string, Uint8Array>();
  try {
    await fetchFile(url, zipPath, {
      ...opts,
      validate: async (tmp) => {
        found = await unzipFind(await readFile(tmp), src.files.map((f) => f.name), basename(url));
        const missing = src.files.filter((f) => !f.optional && !found.has(f.name)).map((f) => f.name);
        if (missing.length) throw new Error(`archive ${basename(url)} lacks ${missing.join(', ')}`);
      },
    });
  } catch (e) {
    throw withOfflineHint(e);
  }
  for (const f of src.files) {
    const data = found.get(f.name);
    if (!data) continue; // optional and absent
    const sha = sha256Bytes(data);
    if (f.sha256 && sha !== f.sha256) {
      throw new Error(`${basename(url)}!${f.name}: sha256 mismatch: expected ${f.sha256}, got ${sha} — not the original file`);
    }
    const parsed = await validateUciFile(dataset, f.name, data).catch((e) => { throw new Error(`${basename(url)}!${(e as Error).message}`); });
    const dest = join(opts.rawDir, f.name);
    await writeAtomic(dest, data);
    out.push({ name: f.name, path: dest, sha256: sha, bytes: data.byteLength, source: `${url}!${f.name}`, verified: f.sha256 ? 'sha256' : 'structure', parsed });
  }
  return out;
}

/* ------------------------------------------------------------------------------------------
 * Text parsing helpers
 * ---------------------------------------------------------------------------------------- */

const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INT_RE = /^[+-]?\d+$/;

interface Rec { record: string[]; info: { lines: number } }

/** csv-parse/sync, loaded on first use (kind modules must stay cheap to import). */
let csvParseSync: ((text: string, opts: object) => unknown) | null = null;
export async function loadCsv(): Promise<void> {
  csvParseSync ??= (await import('csv-parse/sync')).parse as never;
}
function csvRecordsSync(text: string, file: string, fromLine = 1): Rec[] {
  if (!csvParseSync) throw new Error('internal: call loadCsv() before parsing');
  try {
    return csvParseSync(text, { trim: true, skip_empty_lines: true, relax_column_count: true, info: true, quote: false, from_line: fromLine }) as Rec[];
  } catch (e) {
    const lines = (e as { lines?: number }).lines;
    throw new Error(`${file}${lines ? `:${lines}` : ''}: ${(e as Error).message}`);
  }
}

function checkRows(file: string, got: number, what = 'rows'): void {
  const want = expectedRows(file);
  if (want !== undefined && got !== want) {
    throw new Error(`${file}: ${got} ${what}, but the original has ${want} — not the original file (truncated or altered?)`);
  }
}

/* ------------------------------------------------------------------------------------------
 * Adult
 * ---------------------------------------------------------------------------------------- */

export const ADULT_COLUMNS: [string, 'int' | 'cat'][] = [
  ['age', 'int'], ['workclass', 'cat'], ['fnlwgt', 'int'], ['education', 'cat'], ['education-num', 'int'],
  ['marital-status', 'cat'], ['occupation', 'cat'], ['relationship', 'cat'], ['race', 'cat'], ['sex', 'cat'],
  ['capital-gain', 'int'], ['capital-loss', 'int'], ['hours-per-week', 'int'], ['native-country', 'cat'],
];
export const ADULT_CLASSES = ['<=50K', '>50K'];

export interface AdultRows {
  file: string;
  /** Per column: numbers (NaN = missing) or strings (null = missing). */
  ints: Map<string, Float64Array>;
  cats: Map<string, (string | null)[]>;
  label: Int32Array;
  n: number;
}

/**
 * Parses adult.data or adult.test: 15 comma-separated fields; '?' = missing; labels
 * '<=50K'/'>50K' (a trailing '.' — as in adult.test — is stripped); adult.test's first line
 * ('|1x3 Cross validator') is skipped.
 */
export function parseAdultFile(text: string, file: string, opts: { checkRows?: boolean } = {}): AdultRows {
  const firstLine = text.slice(0, text.indexOf('\n') >>> 0);
  const skipFirst = firstLine.trimStart().startsWith('|');
  const recs = csvRecordsSync(text, file, skipFirst ? 2 : 1);
  const n = recs.length;
  const ints = new Map<string, Float64Array>();
  const cats = new Map<string, (string | null)[]>();
  for (const [name, t] of ADULT_COLUMNS) {
    if (t === 'int') ints.set(name, new Float64Array(n));
    else cats.set(name, new Array(n));
  }
  const label = new Int32Array(n);
  const width = ADULT_COLUMNS.length + 1;
  for (let i = 0; i < n; i++) {
    const { record, info } = recs[i]!;
    const line = info.lines;
    if (record.length !== width) throw new Error(`${file}:${line}: ragged row: ${record.length} fields, expected ${width}`);
    ADULT_COLUMNS.forEach(([name, t], j) => {
      const s = record[j]!;
      if (t === 'int') {
        if (s === '?') ints.get(name)![i] = NaN;
        else if (INT_RE.test(s)) ints.get(name)![i] = Number(s);
        else throw new Error(`${file}:${line}: column '${name}': '${s}' is not an integer`);
      } else {
        if (s === '') throw new Error(`${file}:${line}: column '${name}' is empty`);
        cats.get(name)![i] = s === '?' ? null : s;
      }
    });
    const lab = record[width - 1]!.replace(/\.$/, '');
    const k = ADULT_CLASSES.indexOf(lab);
    if (k < 0) throw new Error(`${file}:${line}: label '${record[width - 1]}' is not one of ${ADULT_CLASSES.join(', ')}`);
    label[i] = k;
  }
  if (opts.checkRows) checkRows(file, n);
  return { file, ints, cats, label, n };
}

/** Adult table: adult.data rows, then adult.test rows; raw typed columns, '?' as null. */
export function adultTable(parts: AdultRows[]): Table {
  const n = parts.reduce((a, p) => a + p.n, 0);
  const cols: Record<string, ReturnType<typeof numericVector>> = {};
  for (const [name, t] of ADULT_COLUMNS) {
    if (t === 'int') {
      const v = new Float64Array(n);
      let at = 0;
      for (const p of parts) { v.set(p.ints.get(name)!, at); at += p.n; }
      const valid = new Uint8Array(n);
      let missing = 0;
      for (let i = 0; i < n; i++) { valid[i] = Number.isNaN(v[i]!) ? 0 : 1; if (!valid[i]) { missing++; v[i] = 0; } }
      cols[name] = numericVector('int32', v, missing ? valid : null);
    } else {
      cols[name] = stringVector(parts.flatMap((p) => p.cats.get(name)!));
    }
  }
  const label = new Int32Array(n);
  let at = 0;
  for (const p of parts) { label.set(p.label, at); at += p.n; }
  cols.income = numericVector('int32', label);
  const meta: TableMeta = {
    dataset: 'adult', target: 'income', task: 'classification', classes: ADULT_CLASSES,
    features: ADULT_COLUMNS.map(([c]) => c),
    categorical: ADULT_COLUMNS.filter(([, t]) => t === 'cat').map(([c]) => c),
    parts: Object.fromEntries(parts.map((p) => [p.file, p.n])),
    source: `UCI Machine Learning Repository, id ${UCI_SOURCES.adult.id} (CC BY 4.0)`,
  };
  return makeTable(cols, meta);
}

/* ------------------------------------------------------------------------------------------
 * MAGIC
 * ---------------------------------------------------------------------------------------- */

export const MAGIC_COLUMNS = ['fLength', 'fWidth', 'fSize', 'fConc', 'fConc1', 'fAsym', 'fM3Long', 'fM3Trans', 'fAlpha', 'fDist'];
export const MAGIC_CLASSES = ['g', 'h'];

/** Parses magic04.data: 10 floats and a class 'g' (gamma, 0) or 'h' (hadron, 1) per line. */
export function parseMagic(text: string, file: string, opts: { checkRows?: boolean } = {}): Table {
  const recs = csvRecordsSync(text, file);
  const n = recs.length;
  const cols = MAGIC_COLUMNS.map(() => new Float64Array(n));
  const label = new Int32Array(n);
  const width = MAGIC_COLUMNS.length + 1;
  for (let i = 0; i < n; i++) {
    const { record, info } = recs[i]!;
    if (record.length !== width) throw new Error(`${file}:${info.lines}: ragged row: ${record.length} fields, expected ${width}`);
    for (let j = 0; j < MAGIC_COLUMNS.length; j++) {
      const s = record[j]!;
      if (!FLOAT_RE.test(s)) throw new Error(`${file}:${info.lines}: column '${MAGIC_COLUMNS[j]}': '${s}' is not a number`);
      cols[j]![i] = Number(s);
    }
    const k = MAGIC_CLASSES.indexOf(record[width - 1]!);
    if (k < 0) throw new Error(`${file}:${info.lines}: class '${record[width - 1]}' is not 'g' or 'h'`);
    label[i] = k;
  }
  if (opts.checkRows) checkRows(file, n);
  const columns = Object.fromEntries(MAGIC_COLUMNS.map((c, j) => [c, numericVector('float64', cols[j]!)]));
  columns.class = numericVector('int32', label);
  return makeTable(columns, {
    dataset: 'magic', target: 'class', task: 'classification', classes: MAGIC_CLASSES, features: MAGIC_COLUMNS,
    source: `UCI Machine Learning Repository, id ${UCI_SOURCES.magic.id} (CC BY 4.0)`,
  });
}

/* ------------------------------------------------------------------------------------------
 * CCPP (xlsx via exceljs)
 * ---------------------------------------------------------------------------------------- */

export const CCPP_COLUMNS = ['AT', 'V', 'AP', 'RH', 'PE'];

function cellNumber(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'result' in v && typeof (v as { result: unknown }).result === 'number') return (v as { result: number }).result;
  if (typeof v === 'string' && FLOAT_RE.test(v.trim())) return Number(v.trim());
  return null;
}

/**
 * Parses Folds5x2_pp.xlsx: the first sheet ('Sheet1'), header AT V AP RH PE, 9568 numeric
 * rows. (The other four sheets are shuffles of the same rows.)
 */
export async function parseCcppXlsx(bytes: Uint8Array, file: string, opts: { checkRows?: boolean; sheet?: string } = {}): Promise<Table> {
  const ExcelJS = (await import('exceljs')).default;
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(Buffer.from(bytes) as never);
  } catch (e) {
    throw new Error(`${file}: not a readable xlsx workbook (${(e as Error).message})`);
  }
  const ws = opts.sheet ? wb.getWorksheet(opts.sheet) : (wb.getWorksheet('Sheet1') ?? wb.worksheets[0]);
  if (!ws) throw new Error(`${file}: no worksheet ${opts.sheet ? `'${opts.sheet}'` : ''} in the workbook`);
  const header = (ws.getRow(1).values as unknown[]).slice(1).map((v) => String(v ?? '').trim());
  if (header.length !== CCPP_COLUMNS.length || header.some((h, j) => h !== CCPP_COLUMNS[j])) {
    throw new Error(`${file}: sheet '${ws.name}' row 1: header is [${header.join(', ')}], expected [${CCPP_COLUMNS.join(', ')}]`);
  }
  const vals: number[][] = CCPP_COLUMNS.map(() => []);
  const last = ws.rowCount;
  for (let r = 2; r <= last; r++) {
    const row = ws.getRow(r);
    const cells = (row.values as unknown[]).slice(1);
    if (cells.every((c) => c === null || c === undefined || c === '')) continue; // trailing empty rows
    if (cells.length !== CCPP_COLUMNS.length) throw new Error(`${file}: sheet '${ws.name}' row ${r}: ragged row: ${cells.length} cells, expected ${CCPP_COLUMNS.length}`);
    for (let j = 0; j < CCPP_COLUMNS.length; j++) {
      const x = cellNumber(cells[j]);
      if (x === null || !Number.isFinite(x)) throw new Error(`${file}: sheet '${ws.name}' row ${r}: column '${CCPP_COLUMNS[j]}': ${JSON.stringify(cells[j] ?? null)} is not a number`);
      vals[j]!.push(x);
    }
  }
  if (opts.checkRows) checkRows(file, vals[0]!.length);
  const columns = Object.fromEntries(CCPP_COLUMNS.map((c, j) => [c, numericVector('float64', vals[j]!)]));
  return makeTable(columns, {
    dataset: 'ccpp', target: 'PE', task: 'regression', features: CCPP_COLUMNS.slice(0, 4),
    source: `UCI Machine Learning Repository, id ${UCI_SOURCES.ccpp.id} (CC BY 4.0)`,
  });
}

/** Parses the verified raw files of a UCI dataset into its table. */
export async function parseUci(dataset: UciDataset, files: { name: string; path: string; parsed?: AdultRows | Table }[]): Promise<Table> {
  const src = uciSource(dataset);
  await loadCsv();
  const parsed = new Map<string, Parsed>();
  for (const spec of src.files) {
    if (spec.optional || !spec.parse) continue;
    const f = files.find((x) => x.name === spec.name);
    if (!f) throw new Error(`${dataset}: file ${spec.name} missing`);
    parsed.set(spec.name, f.parsed ?? await spec.parse(await readFile(f.path), spec.name));
  }
  return src.build((name) => parsed.get(name)!);
}

/* ------------------------------------------------------------------------------------------
 * MNIST (IDX)
 * ---------------------------------------------------------------------------------------- */

export interface Idx {
  count: number;
  /** [rows, cols] for images, [] for labels. */
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses an uncompressed IDX file of unsigned bytes: magic 0x00000803 (images, n×rows×cols)
 * or 0x00000801 (labels, n).
 */
export function parseIdx(buf: Uint8Array, file: string, kind: 'images' | 'labels'): Idx {
  const want = kind === 'images' ? 0x803 : 0x801;
  const ndim = kind === 'images' ? 3 : 1;
  const headerLen = 4 + 4 * ndim;
  if (buf.byteLength < headerLen) throw new Error(`${file}: ${buf.byteLength} bytes, too short for an IDX header (${headerLen} bytes)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, false);
  if (magic !== want) {
    throw new Error(`${file}: wrong magic number 0x${magic.toString(16).padStart(8, '0')}, expected 0x${want.toString(16).padStart(8, '0')} (IDX ${kind === 'images' ? '3-d ubyte images' : '1-d ubyte labels'})`);
  }
  const dims: number[] = [];
  for (let k = 0; k < ndim; k++) dims.push(dv.getUint32(4 + 4 * k, false));
  const count = dims[0]!;
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  const expected = headerLen + count * per;
  if (buf.byteLength < expected) {
    const complete = Math.floor((buf.byteLength - headerLen) / per);
    throw new Error(`${file}: truncated: header says ${count} ${kind}${per > 1 ? ` of ${dims.slice(1).join('×')}` : ''} (${expected} bytes), file has ${buf.byteLength} bytes; record ${complete} is incomplete`);
  }
  if (buf.byteLength > expected) throw new Error(`${file}: ${buf.byteLength - expected} trailing bytes after the ${count} records the header announces`);
  const data = buf.subarray(headerLen, expected);
  if (kind === 'labels') {
    for (let i = 0; i < count; i++) if (data[i]! > 9) throw new Error(`${file}: record ${i}: label ${data[i]} is not a digit 0–9`);
  }
  return { count, dims: dims.slice(1), data };
}

/** gunzips (fflate) and parses an MNIST gz file, verifying the pinned IDX sha256 when given. */
export async function readMnistGz(gz: Uint8Array, file: string, kind: 'images' | 'labels', idxSha256?: string): Promise<Idx> {
  const { gunzipSync } = await import('fflate');
  let raw: Uint8Array;
  try {
    raw = gunzipSync(gz);
  } catch (e) {
    throw new Error(`${file}: not a valid gzip file (${(e as Error).message})`);
  }
  if (idxSha256) {
    const sha = sha256Bytes(raw);
    if (sha !== idxSha256) throw new DownloadError(`${file}: sha256 mismatch of the uncompressed IDX: expected ${idxSha256}, got ${sha} — not the original MNIST file`, file, true);
  }
  const idx = parseIdx(raw, file, kind);
  checkRows(file, idx.count, kind);
  return idx;
}

/** An MNIST table: `image` FixedSizeList<uint8|float32>[784] (row-major 28×28), `label` Int32. */
export function mnistTable(images: Idx, labels: Idx, pixels: 'uint8' | 'float32', part: string): Table {
  if (images.count !== labels.count) throw new Error(`MNIST ${part}: ${images.count} images but ${labels.count} labels`);
  const w = images.dims.reduce((a, b) => a * b, 1);
  let values: Uint8Array | Float32Array;
  if (pixels === 'uint8') values = new Uint8Array(images.data);
  else {
    values = new Float32Array(images.data.length);
    for (let i = 0; i < values.length; i++) values[i] = images.data[i]! / 255;
  }
  const label = new Int32Array(labels.count);
  for (let i = 0; i < labels.count; i++) label[i] = labels.data[i]!;
  return makeTable({ image: fixedListVector(values, w), label: numericVector('int32', label) }, {
    dataset: 'mnist', target: 'label', task: 'classification', classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    features: ['image'], image_shape: images.dims, pixels: pixels === 'uint8' ? 'uint8 0-255' : 'float32 in [0,1] (x/255)', part,
    source: 'MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0)',
  });
}
