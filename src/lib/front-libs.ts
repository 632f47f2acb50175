/**
 * The YAML parser and the graph library (src/lib/vendor-front.ts), loaded synchronously on first
 * use: from the bundle dist/lib/vendor-front.cjs in the build, from the packages themselves
 * when running from the sources (tsx, vitest).
 */
import { createRequire } from 'node:module';
import { builtPath, FROM_SOURCES } from './package-root.js';

export type FrontLibs = typeof import('./vendor-front.js');

const requireHere = createRequire(import.meta.url);
let libs: FrontLibs | undefined;

function fromPackages(): FrontLibs {
  const yaml = requireHere('yaml') as typeof import('yaml');
  return {
    LineCounter: yaml.LineCounter, parseDocument: yaml.parseDocument, isMap: yaml.isMap, isSeq: yaml.isSeq, isPair: yaml.isPair,
    isScalar: yaml.isScalar, visit: yaml.visit, parseYamlValue: yaml.parse,
    DirectedGraph: (requireHere('graphology') as typeof import('graphology')).DirectedGraph,
    topologicalSort: (requireHere('graphology-dag') as typeof import('graphology-dag')).topologicalSort,
  } as FrontLibs;
}

export function frontLibs(): FrontLibs {
  return (libs ??= FROM_SOURCES ? fromPackages() : (requireHere(builtPath('lib', 'vendor-front.cjs')) as FrontLibs));
}
