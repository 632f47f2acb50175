/**
 * Start-up: the coordinator's third-party JavaScript is one bundled file in the build
 * (scripts/bundle-vendor.mjs), with the same exports as src/lib/vendor.ts; only the command
 * being run has its module loaded (src/cli.ts).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './helpers.js';

describe('start-up', () => {
  it('dist/lib/vendor.js is a bundle (no import of the packages it carries) exporting what src/lib/vendor.ts does', async () => {
    const file = join(repoRoot, 'dist', 'lib', 'vendor.js');
    const text = readFileSync(file, 'utf8');
    for (const pkg of ['commander', 'yaml', 'graphology', 'graphology-dag', 'fastest-levenshtein', 'canonicalize']) {
      expect(text, pkg).not.toMatch(new RegExp(`(from|import\\(|require\\()\\s*["']${pkg}["']`));
    }
    const bundled = await import(pathToFileURL(file).href);
    const source = await import('../../src/lib/vendor.js');
    expect(Object.keys(bundled).sort()).toEqual(Object.keys(source).sort());
    // the same package code: a YAML document with line counting, a DAG order, canonical JSON
    const doc = bundled.parseDocument('a: 1\nb: [2, 3]\n');
    expect(doc.toJS()).toEqual({ a: 1, b: [2, 3] });
    const g = new bundled.DirectedGraph();
    g.addNode('b'); g.addNode('a'); g.addEdge('a', 'b');
    expect(bundled.topologicalSort(g)).toEqual(['a', 'b']);
    expect(bundled.canonicalize({ b: 1, a: [1e21, 0.1] })).toBe(source.canonicalize({ b: 1, a: [1e21, 0.1] }));
  });

  it('the command name is found after the program options', async () => {
    const { commandName } = await import('../../src/cli/argv.js');
    expect(commandName(['run', 'p.yaml'])).toBe('run');
    expect(commandName(['--root', 'x', 'status'])).toBe('status');
    expect(commandName(['--root=x', 'gc'])).toBe('gc');
    expect(commandName(['--help'])).toBeUndefined();
  });
});
