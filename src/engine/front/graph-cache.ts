/**
 * The expanded graph of a pipeline, kept between commands. load → validate → expand → graph is
 * a pure function of the pipeline file's bytes, the `--set` overrides and the code that reads
 * them (pipe's build, the kinds' schemas and ports). A no-op rerun or `pipe status` of a
 * 1,001-stage pipeline spent ≈ 0.15–0.2 s there; with this cache it reads one file.
 *
 * Where: `~/.cache/pipe/graphs/` ($XDG_CACHE_HOME; `PIPE_GRAPH_CACHE` names another directory,
 * `off` disables it), one file per (pipeline path, overrides), replaced when any part of the key
 * changes. The key (`GraphKey`) holds everything the front end reads:
 *  - the pipeline file's absolute path and its bytes; the overrides, in order;
 *  - pipe's build: path, size and mtime of every file under dist/ (a rebuild, an edited file,
 *    `npm update` of a bundled dependency through dist/lib/vendor.js) and of
 *    node_modules/.package-lock.json (the installed packages), and the Node version;
 *  - the project: its root and the path, size and mtime of every file under its `stages/`
 *    (a project kind added or edited — a kind's name may clash, or newly resolve).
 * Only graphs whose kinds are all pipe's own are kept (a project kind may import files anywhere
 * in the project). Running from the TypeScript sources (tsx, vitest) keeps nothing: there is no
 * build to key on. A cache file that cannot be read or does not match is ignored and replaced; a
 * directory that cannot be written costs only the speed. Errors are never cached (a pipeline
 * that fails to load is loaded afresh, and says where, every time).
 */
import { createHash } from 'node:crypto';
import { canonicalize8785 } from '../../lib/hash.js';
import { FROM_SOURCES } from '../../lib/package-root.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { StageKind } from '../../sdk/stage.js';
import { dependentsOf, type PipelineGraph, type PlannedStage } from './graph.js';
import type { ExpandedPipeline, StageInstance } from './expand.js';
import { displayPath, parseYamlText, type LoadedFile } from './load.js';
import { userCacheDir } from './compiled-schema.js';
import { kindOrigin, PIPE_PACKAGE_ROOT, projectKindsDir } from './registry.js';

const FORMAT = 2;
/** Files kept in the cache directory (one per pipeline path and overrides); the oldest go first. */
const KEEP = 200;
export const graphCacheStats = { hits: 0, stores: 0 };

export function graphCacheDir(): string | null {
  // running from the sources there is no build to key on (unless a directory is named)
  if (FROM_SOURCES && !process.env.PIPE_GRAPH_CACHE) return null;
  return userCacheDir('PIPE_GRAPH_CACHE', 'graphs');
}

/** What a cached graph depends on (compared whole; see the module comment). */
interface GraphKey {
  format: number;
  node: string;
  absPath: string;
  text: string;
  overrides: string[];
  build: string;
  project: string;
}

/** Files below `dir` as "path size mtime" lines (sorted), hashed. */
function treeStamp(dir: string, filter: (name: string) => boolean = () => true): string {
  const lines: string[] = [];
  // paths by concatenation, not join/relative: a build has ≈ 300 files, stamped by every command
  const walk = (d: string, rel: string) => {
    let ents;
    try { ents = readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      const p = `${d}/${e.name}`;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, r);
      else if (filter(e.name)) {
        try { const s = statSync(p); lines.push(`${r} ${s.size} ${s.mtimeMs}`); } catch { /* gone meanwhile */ }
      }
    }
  };
  walk(dir, '');
  lines.sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

let buildMemo: string | undefined;
function buildStamp(): string {
  if (buildMemo === undefined) {
    const lock = join(PIPE_PACKAGE_ROOT, 'node_modules', '.package-lock.json');
    let pkgs = 'none';
    try { const s = statSync(lock); pkgs = `${s.size} ${s.mtimeMs}`; } catch { /* not installed by npm */ }
    buildMemo = `${treeStamp(join(PIPE_PACKAGE_ROOT, 'dist'), (n) => n.endsWith('.js') || n.endsWith('.cjs') || n.endsWith('.mjs') || n.endsWith('.json'))} ${pkgs}`;
  }
  return buildMemo;
}

function keyOf(absPath: string, text: string, overrides: string[]): GraphKey {
  const dir = projectKindsDir();
  return {
    format: FORMAT, node: process.version, absPath, text, overrides: [...overrides], build: buildStamp(),
    project: `${dir} ${existsSync(dir) ? treeStamp(dir) : '-'}`,
  };
}

const fileOf = (dir: string, absPath: string, overrides: string[]) =>
  join(dir, `${createHash('sha256').update(JSON.stringify([absPath, overrides])).digest('hex').slice(0, 32)}.v8`);

interface Entry {
  key: GraphKey;
  data: unknown;
  /** The instances are the stages of `order` (without bindings and deps), listed by position there. */
  pipeline: Omit<ExpandedPipeline, 'file' | 'instances'> & { instanceOrder: number[] };
  order: (Omit<PlannedStage, 'kind'> & { kind: string })[];
  headline: PipelineGraph['headline'];
}

/** A loaded file whose YAML is parsed (for source locations of errors) only when one is asked for. */
function lazyFile(absPath: string, text: string, data: unknown): LoadedFile {
  let parsed: LoadedFile | undefined;
  const file = displayPath(absPath);
  return { file, absPath, text, data, locate: (path, opts) => (parsed ??= parseYamlText(text, file, absPath)).locate(path, opts) };
}

/**
 * The cached graph of this pipeline text and overrides, when the cache holds one with the same
 * key; `load(kinds)` imports the kinds it names. Undefined on any miss.
 */
export async function cachedGraph(absPath: string, text: string, overrides: string[], load: (names: string[]) => Promise<Map<string, StageKind>>): Promise<PipelineGraph | undefined> {
  const dir = graphCacheDir();
  if (!dir) return undefined;
  let entry: Entry;
  const path = fileOf(dir, absPath, overrides);
  try {
    entry = deserialize(readFileSync(path)) as Entry;
  } catch {
    return undefined;
  }
  if (!entry || typeof entry !== 'object' || JSON.stringify(entry.key) !== JSON.stringify(keyOf(absPath, text, overrides))) return undefined;
  const names = [...new Set(entry.order.map((s) => s.kind))];
  const kinds = await load(names);
  if (names.some((n) => kindOrigin(kinds.get(n)!)?.source !== 'builtin')) return undefined;
  const relink = <T extends { kind: string }>(s: T) => Object.assign(s, { kind: kinds.get(s.kind)! }) as unknown as PlannedStage;
  const order = entry.order.map(relink);
  // paramsText stands for params in the fingerprint: they must not change after this
  for (const st of order) if (st.params && typeof st.params === 'object') Object.freeze(st.params);
  const { instanceOrder, ...rest } = entry.pipeline;
  const pipeline = { ...rest, file: lazyFile(absPath, text, entry.data) } as ExpandedPipeline;
  // only the graph step reads the instances, which a hit skips: made when asked for
  let instances: StageInstance[] | undefined;
  Object.defineProperty(pipeline, 'instances', {
    enumerable: true,
    configurable: true,
    get: () => (instances ??= instanceOrder.map((i) => { const { bindings: _b, deps: _d, paramsText: _p, ...inst } = order[i]!; return inst; })),
  });
  graphCacheStats.hits++;
  try { const now = new Date(); utimesSync(path, now, now); } catch { /* only its place in the pruning order */ }
  // byId in the instances' order, as the graph step makes it
  const byId = new Map(instanceOrder.map((i) => [order[i]!.id, order[i]!]));
  return { pipeline, dependents: dependentsOf(order), order, byId, headline: entry.headline };
}

/** Keeps a freshly built graph for the next command (only when every kind is pipe's own). */
export function storeGraph(g: PipelineGraph, text: string, overrides: string[]): void {
  const dir = graphCacheDir();
  if (!dir) return;
  if (g.order.some((s) => kindOrigin(s.kind)?.source !== 'builtin')) return;
  const strip = <T extends { kind: StageKind }>(s: T) => ({ ...s, kind: s.kind.kind });
  const { file, instances, ...rest } = g.pipeline;
  const position = new Map(g.order.map((s, i) => [s.id, i]));
  const entry: Entry = {
    key: keyOf(file.absPath, text, overrides),
    data: file.data,
    pipeline: { ...rest, instanceOrder: instances.map((i) => position.get(i.id)!) },
    order: g.order.map((s) => ({ ...strip(s), paramsText: paramsText(s.params) })),
    headline: g.headline,
  };
  const path = fileOf(dir, file.absPath, overrides);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, serialize(entry));
    renameSync(tmp, path);
    graphCacheStats.stores++;
    prune(dir);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/** The canonical text of a stage's params (undefined for values RFC 8785 cannot write). */
function paramsText(params: unknown): string | undefined {
  try { return canonicalize8785(params); } catch { return undefined; }
}

/** Keeps the KEEP most recently written graphs (pipelines of throwaway directories come and go). */
function prune(dir: string): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.v8'));
  if (files.length <= KEEP) return;
  const aged = files.map((f) => { try { return { f, t: statSync(join(dir, f)).mtimeMs }; } catch { return { f, t: 0 }; } }).sort((a, b) => b.t - a.t);
  for (const { f } of aged.slice(KEEP)) rmSync(join(dir, f), { force: true });
}
