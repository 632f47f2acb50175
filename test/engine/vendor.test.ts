/**
 * Start-up: the coordinator's third-party JavaScript is one bundled file in the build
 * (scripts/bundle-vendor.mjs), with the same exports as src/lib/vendor.ts; only the command
 * being run has its module loaded (src/cli.ts).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pipeBin, repoRoot } from './helpers.js';
import { spawnSync } from 'node:child_process';

describe('start-up', () => {
  it('dist/lib/vendor.js is a bundle (no import of the packages it carries) exporting what src/lib/vendor.ts does', async () => {
    const file = join(repoRoot, 'dist', 'lib', 'vendor.js');
    const text = readFileSync(file, 'utf8');
    for (const pkg of ['commander', 'fastest-levenshtein', 'canonicalize']) {
      expect(text, pkg).not.toMatch(new RegExp(`(from|import\\(|require\\()\\s*["']${pkg}["']`));
    }
    // the front end's libraries are not in it: a graph-cache hit never loads them
    for (const pkg of ['yaml', 'graphology']) expect(text, pkg).not.toContain(`node_modules/${pkg}/`);
    const bundled = await import(pathToFileURL(file).href);
    const source = await import('../../src/lib/vendor.js');
    expect(Object.keys(bundled).sort()).toEqual(Object.keys(source).sort());
    expect(bundled.canonicalize({ b: 1, a: [1e21, 0.1] })).toBe(source.canonicalize({ b: 1, a: [1e21, 0.1] }));
    expect(bundled.distance('kitten', 'sitting')).toBe(3);
  });

  it('dist/lib/vendor-front.cjs carries yaml and graphology, exporting what src/lib/vendor-front.ts does, and frontLibs() gives the same from the sources', async () => {
    const file = join(repoRoot, 'dist', 'lib', 'vendor-front.cjs');
    const text = readFileSync(file, 'utf8');
    for (const pkg of ['yaml', 'graphology', 'graphology-dag']) expect(text, pkg).not.toMatch(new RegExp(`require\\(\\s*["']${pkg}["']\\)`));
    const bundled = createRequire(import.meta.url)(file);
    const source = await import('../../src/lib/vendor-front.js');
    const { frontLibs } = await import('../../src/lib/front-libs.js');
    const fromSources = frontLibs();
    const keys = Object.keys(source).sort();
    expect(Object.keys(bundled).filter((k) => k !== '__esModule').sort()).toEqual(keys);
    expect(Object.keys(fromSources).sort()).toEqual(keys);
    for (const lib of [bundled, fromSources]) {
      // the same package code: a YAML document with line counting, a DAG order, a YAML scalar
      const doc = lib.parseDocument('a: 1\nb: [2, 3]\n', { lineCounter: new lib.LineCounter() });
      expect(doc.toJS()).toEqual({ a: 1, b: [2, 3] });
      const g = new lib.DirectedGraph();
      g.addNode('b'); g.addNode('a'); g.addEdge('a', 'b');
      expect(lib.topologicalSort(g)).toEqual(['a', 'b']);
      expect(lib.parseYamlValue('[1, x]')).toEqual([1, 'x']);
    }
  });

  it('bin/pipe.js starts the coordinator\'s bundle while the files it was built from are unchanged (by content when only their mtime moved), else dist/cli.js', async () => {
    const { coordinatorEntry } = await import('../../bin/entry.mjs');
    const real = coordinatorEntry(pathToFileURL(join(repoRoot, 'dist') + '/'));
    expect(real.bundled).toBe(true); // npm test builds first: the bundle is current
    expect(real.url.pathname).toMatch(/\/dist\/bundle\/cli\.js$/);
    expect(existsSync(fileURLToPath(real.url))).toBe(true);

    const dist = mkdtempSync(join(tmpdir(), 'pipe-entry-'));
    try {
      const url = pathToFileURL(dist + '/');
      mkdirSync(join(dist, 'bundle'));
      writeFileSync(join(dist, 'a.js'), 'export const a = 1;\n');
      const stamp = () => {
        const st = statSync(join(dist, 'a.js'));
        const sha = createHash('sha256').update(readFileSync(join(dist, 'a.js'))).digest('hex');
        writeFileSync(join(dist, 'bundle', 'inputs.json'), JSON.stringify({ inputs: [['a.js', st.size, st.mtimeMs, sha]] }));
      };
      expect(coordinatorEntry(url).bundled).toBe(false); // no bundle yet
      stamp();
      expect(coordinatorEntry(url)).toEqual({ url: new URL('bundle/cli.js', url), bundled: true });
      utimesSync(join(dist, 'a.js'), new Date(499162500000), new Date(499162500000)); // npm pack's mtime
      expect(coordinatorEntry(url).bundled).toBe(true); // same bytes
      writeFileSync(join(dist, 'a.js'), 'export const a = 2;\n'); // same size, other code
      expect(coordinatorEntry(url)).toEqual({ url: new URL('cli.js', url), bundled: false });
      stamp();
      writeFileSync(join(dist, 'a.js'), 'export const a = 22;\n');
      expect(coordinatorEntry(url).bundled).toBe(false);
      stamp();
      rmSync(join(dist, 'a.js'));
      expect(coordinatorEntry(url).bundled).toBe(false);
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });

  it('a package file the bundle carries is checked where Node resolves the package from dist/ (also hoisted, as npm installs it)', async () => {
    const { coordinatorEntry } = await import('../../bin/entry.mjs');
    const inputs = (JSON.parse(readFileSync(join(repoRoot, 'dist', 'bundle', 'inputs.json'), 'utf8')) as { inputs: [string][] }).inputs.map((i) => i[0]);
    expect(inputs).toContain('pkg:better-sqlite3/lib/database.js'); // better-sqlite3's JavaScript is bundled
    expect(inputs.filter((p) => p.startsWith('../'))).toEqual([]);
    const top = mkdtempSync(join(tmpdir(), 'pipe-entry-pkg-'));
    try {
      // <top>/node_modules/pipe/dist (the package) and <top>/node_modules/fake (hoisted beside it)
      const dist = join(top, 'node_modules', 'pipe', 'dist');
      const pkg = join(top, 'node_modules', 'fake');
      mkdirSync(join(dist, 'bundle'), { recursive: true });
      mkdirSync(join(pkg, 'lib'), { recursive: true });
      writeFileSync(join(pkg, 'package.json'), '{"name":"fake","version":"1.0.0"}');
      writeFileSync(join(pkg, 'lib', 'x.js'), 'module.exports = 1;\n');
      const st = statSync(join(pkg, 'lib', 'x.js'));
      const sha = createHash('sha256').update(readFileSync(join(pkg, 'lib', 'x.js'))).digest('hex');
      writeFileSync(join(dist, 'bundle', 'inputs.json'), JSON.stringify({ inputs: [['pkg:fake/lib/x.js', st.size, st.mtimeMs, sha]] }));
      const url = pathToFileURL(dist + '/');
      expect(coordinatorEntry(url).bundled).toBe(true);
      writeFileSync(join(pkg, 'lib', 'x.js'), 'module.exports = 22;\n'); // another version installed since
      expect(coordinatorEntry(url).bundled).toBe(false);
      rmSync(pkg, { recursive: true }); // the package is gone
      expect(coordinatorEntry(url).bundled).toBe(false);
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });

  it('pipe --version (and -V) prints the package\'s version and exits 0', () => {
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) {
      const r = spawnSync(process.execPath, [pipeBin, flag], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('the coordinator starts with tier-up later and the young generation at its first size, and gets V8\'s defaults back a second in', () => {
    // a child process churns short-lived objects and reports the young generation's size
    const child = (tuning: string) => spawnSync(process.execPath, ['--input-type=module', '-e', `
      import v8 from 'node:v8';
      import { tuneStart } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'bin', 'entry.mjs')).href)};
      const applied = tuneStart(v8.setFlagsFromString, { after: 300 });
      const churn = () => { let keep = []; for (let i = 0; i < 300000; i++) { keep.push({ a: i, b: 'x' + i }); if (keep.length > 50000) keep = []; }
        return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size; };
      const first = churn();
      setTimeout(() => console.log(JSON.stringify({ applied, first, later: churn() })), 500);
    `], { encoding: 'utf8', env: { ...process.env, PIPE_V8_TUNING: tuning } });
    const MiB = 1 << 20;
    const on = JSON.parse(child('').stdout) as { applied: boolean; first: number; later: number };
    expect(on.applied).toBe(true);
    expect(on.first).toBeLessThanOrEqual(4 * MiB); // kept at its first size
    expect(on.later).toBeGreaterThan(4 * MiB); // defaults back: it grows again
    const off = JSON.parse(child('0').stdout) as { applied: boolean; first: number };
    expect(off.applied).toBe(false);
    expect(off.first).toBeGreaterThan(4 * MiB); // V8's default growth, as without the tuning
    // only on the V8 it was measured on (whose defaults are the ones restored)
    const set: string[] = [];
    return import('../../bin/entry.mjs').then(({ tuneStart, START_FLAGS }) => {
      expect(tuneStart((f: string) => set.push(f), { v8Version: '12.4.254', env: {} })).toBe(false);
      expect(set).toEqual([]);
      expect(tuneStart((f: string) => set.push(f), { v8Version: '11.3.244', env: {}, after: 0 })).toBe(true);
      expect(set).toEqual(START_FLAGS);
    });
  });

  it('the command name is found after the program options', async () => {
    const { commandName } = await import('../../src/cli/argv.js');
    expect(commandName(['run', 'p.yaml'])).toBe('run');
    expect(commandName(['--root', 'x', 'status'])).toBe('status');
    expect(commandName(['--root=x', 'gc'])).toBe('gc');
    expect(commandName(['--help'])).toBeUndefined();
  });
});
