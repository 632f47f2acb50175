/**
 * The third-party JavaScript only the front end needs — the YAML parser and the graph library —
 * used when a pipeline is parsed and its graph built, which a graph-cache hit skips
 * (src/engine/front/graph-cache.ts). Kept out of src/lib/vendor.ts so a no-op rerun or `pipe
 * status` does not load and compile it (≈ 25 ms). In the build it is one CommonJS bundle,
 * dist/lib/vendor-front.cjs (scripts/bundle-vendor.mjs), required on first use through
 * `frontLibs()` (src/lib/front-libs.ts); callers import only its types from here.
 */
export { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar, visit, parse as parseYamlValue, type Document, type Node } from 'yaml';
export { DirectedGraph } from 'graphology';
export { topologicalSort } from 'graphology-dag';
