/**
 * Step 1 — load: read a pipeline YAML file, keeping source positions so every later error can
 * point at `file:line:col`.
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Document, Node } from '../../lib/vendor-front.js';
import { frontLibs } from '../../lib/front-libs.js';
import { PipeError, PipeErrors, type SourceLoc } from '../errors.js';

export type DocPath = (string | number)[];

export interface LoadedFile {
  /** Path as the user should see it (relative to cwd when inside it). */
  file: string;
  absPath: string;
  text: string;
  data: unknown;
  /** Source location of the value at `path` (or of its key with `key: true`); falls back to the nearest ancestor. */
  locate(path: DocPath, opts?: { key?: boolean }): SourceLoc;
}

export function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') ? rel : abs;
}

/** The text of a pipeline file, with its absolute path; a file that cannot be read is a PipeError naming it. */
export function readPipelineText(path: string): { absPath: string; text: string } {
  const absPath = resolve(path);
  try {
    return { absPath, text: readFileSync(absPath, 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const file = displayPath(absPath);
    throw new PipeError(code === 'ENOENT' ? `pipeline file not found: ${file}` : `cannot read ${file}: ${(e as Error).message}`);
  }
}

export function loadPipelineFile(path: string): LoadedFile {
  const { absPath, text } = readPipelineText(path);
  return parseYamlText(text, displayPath(absPath), absPath);
}

export function parseYamlText(text: string, file: string, absPath = file): LoadedFile {
  const { LineCounter, parseDocument, visit } = frontLibs();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, merge: true });
  const at = (offset: number): SourceLoc => {
    const p = lc.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  if (doc.errors.length) {
    throw new PipeErrors(doc.errors.slice(0, 3).map((e) => new PipeError(`YAML syntax error: ${e.message.split('\n')[0]}${yamlHint(text, e.pos[0])}`, at(e.pos[0]))));
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  } catch (e) {
    // an alias without its anchor (`n: *b`), or an alias bomb: located, never a stack trace
    const errors: PipeError[] = [];
    visit(doc, {
      Alias(_, node) {
        if (node.resolve(doc) === undefined) errors.push(new PipeError(`YAML: alias *${node.source} has no anchor &${node.source} before it`, at(node.range?.[0] ?? 0)));
      },
    });
    throw errors.length ? new PipeErrors(errors) : new PipeError(`YAML: ${(e as Error).message.split('\n')[0]}`, at(0));
  }
  const locate = (path: DocPath, opts: { key?: boolean } = {}): SourceLoc => locateIn(doc, path, opts.key ?? false, at);
  return { file, absPath, text, data, locate };
}

function locateIn(doc: Document, path: DocPath, key: boolean, at: (o: number) => SourceLoc): SourceLoc {
  const { isMap, isPair, isScalar, isSeq } = frontLibs();
  let node: Node | null | undefined = doc.contents as Node | null;
  let keyNode: Node | null = null;
  let best: Node | null = node;
  for (const seg of path) {
    keyNode = null;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? String(p.key.value) === String(seg) : false));
      if (!pair) break;
      keyNode = pair.key as Node;
      node = pair.value as Node | null;
      best = node ?? keyNode;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      node = item;
      best = node;
    } else break;
    if (!node) break;
  }
  const target = key && keyNode ? keyNode : best;
  const offset = target?.range?.[0] ?? 0;
  return at(offset);
}

/**
 * A hint for the YAML error at `pos`: an unquoted `${…}` inside a flow map or list (`{a: ${x}}`)
 * reads as the start of a nested flow map; quoting it fixes it.
 */
export function yamlHint(text: string, pos: number): string {
  const lineStart = text.lastIndexOf('\n', pos - 1) + 1;
  const lineEnd = text.indexOf('\n', pos);
  const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  const col = pos - lineStart;
  // the `${` at or just before the error, outside quotes
  const at = line.lastIndexOf('${', col + 1);
  if (at < 0 || /['"]$/.test(line.slice(0, at).trimEnd()) || !/[{[]/.test(line.slice(0, at))) return '';
  const end = line.indexOf('}', at);
  const expr = end > at ? line.slice(at, end + 1) : '${…}';
  return ` — an unquoted ${expr} inside a flow map or list ({…} / […]) starts a nested map; quote it: '${expr}'`;
}
