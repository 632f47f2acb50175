/**
 * The expanded-graph cache (src/engine/front/graph-cache.ts): a graph read back equals the one
 * built for every shipped pipeline (stages, params, seeds, bindings, edges, the document, source
 * locations); any change of the file, the overrides or the project's kinds is a miss; a damaged
 * file is a miss; and end to end, an edited pipeline never runs with the graph of before.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeWithEnv, project, repoRoot, summary } from './helpers.js';
import type { PipelineGraph } from '../../src/engine/front/graph.js';
import { canonicalize8785 } from '../../src/lib/hash.js';

/** Everything a graph carries, as plain data (kinds by name, the graph by its edges). */
function shape(g: PipelineGraph): unknown {
  const st = ({ paramsText: _, ...s }: PipelineGraph['order'][number]) => ({ ...s, kind: s.kind.kind });
  const { file, instances, ...rest } = g.pipeline;
  return {
    pipeline: { ...rest, disabled: [...rest.disabled], instances: instances.map((i) => ({ ...i, kind: i.kind.kind })), file: { file: file.file, absPath: file.absPath, text: file.text, data: file.data } },
    order: g.order.map(st),
    byId: [...g.byId.keys()],
    headline: g.headline,
    edges: [...g.dependents].flatMap(([from, to]) => to.map((t) => `${from}→${t}`)).sort(),
  };
}

async function freshModules() {
  const { loadGraph } = await import('../../src/engine/front/pipeline.js');
  const { graphCacheStats } = await import('../../src/engine/front/graph-cache.js');
  return { loadGraph, stats: graphCacheStats };
}

describe('expanded-graph cache', () => {
  it('a graph read back equals the graph built, for every shipped pipeline (and with overrides)', async () => {
    process.env.PIPE_GRAPH_CACHE = mkdtempSync(join(tmpdir(), 'pipe-graphs-'));
    try {
      const { loadGraph, stats } = await freshModules();
      const files = readdirSync(join(repoRoot, 'pipelines')).filter((f) => f.endsWith('.yaml'));
      expect(files.length).toBeGreaterThanOrEqual(10);
      for (const f of files) {
        const path = join(repoRoot, 'pipelines', f);
        for (const sets of [[], ['seed=5']]) {
          const hits = stats.hits;
          const built = await loadGraph(path, sets);
          expect(stats.hits, `${f} first load`).toBe(hits);
          const read = await loadGraph(path, sets);
          expect(stats.hits, `${f} second load is a hit`).toBe(hits + 1);
          expect(shape(read), f).toEqual(shape(built));
          // each stage read back carries its params' canonical text (the fingerprint takes it), and frozen params
          for (const s of read.order) {
            expect(s.paramsText, `${f} ${s.id}`).toBe(canonicalize8785(s.params));
            if (s.params && typeof s.params === 'object') expect(Object.isFrozen(s.params)).toBe(true);
          }
          // source locations (for errors) still come from the file
          expect(read.pipeline.file.locate(['stages'], { key: true })).toEqual(built.pipeline.file.locate(['stages'], { key: true }));
        }
      }
    } finally {
      delete process.env.PIPE_GRAPH_CACHE;
    }
  }, 120_000);

  it('a changed file, other overrides, a project kind added or a damaged cache file is a miss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pipe-graphs-'));
    process.env.PIPE_GRAPH_CACHE = dir;
    const proj = project({ 'p.yaml': 'name: gc\nparams: {n: 1}\nstages:\n  a:\n    kind: command\n    params: {cmd: "echo ${params.n} > ${outputs.out}", outs: {out: text}}\n' });
    const cwd = process.cwd();
    process.chdir(proj);
    const { useProject } = await import('../../src/engine/front/registry.js');
    useProject(proj);
    try {
      const { loadGraph, stats } = await freshModules();
      const p = join(proj, 'p.yaml');
      const load = async (sets: string[] = []) => { const h = stats.hits; const g = await loadGraph(p, sets); return { hit: stats.hits > h, g }; };
      expect((await load()).hit).toBe(false);
      expect((await load()).hit).toBe(true);
      // the file's bytes (even a comment: the graph is keyed on bytes, results on what they mean)
      writeFileSync(p, readFileSync(p, 'utf8').replace('n: 1', 'n: 2'));
      const changed = await load();
      expect(changed.hit).toBe(false);
      expect((changed.g.order[0]!.params as { cmd: string }).cmd).toBe('echo 2 > ${outputs.out}');
      expect((await load()).hit).toBe(true);
      // other overrides: their own entry
      const set = await load(['n=7']);
      expect(set.hit).toBe(false);
      expect((set.g.order[0]!.params as { cmd: string }).cmd).toBe('echo 7 > ${outputs.out}');
      expect((await load(['n=7'])).hit).toBe(true);
      expect((await load()).hit).toBe(true);
      // a file appears under the project's stages/
      mkdirSync(join(proj, 'stages'));
      writeFileSync(join(proj, 'stages', '_helper.ts'), 'export const x = 1;\n');
      expect((await load()).hit).toBe(false);
      expect((await load()).hit).toBe(true);
      // a damaged cache file
      for (const f of readdirSync(dir)) writeFileSync(join(dir, f), 'not a graph');
      expect((await load()).hit).toBe(false);
      expect((await load()).hit).toBe(true);
    } finally {
      process.chdir(cwd);
      useProject(cwd);
      delete process.env.PIPE_GRAPH_CACHE;
    }
  });

  it('end to end: an edited pipeline or a new --set never runs with the graph of before; a bad edit is an error every time', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'pipe-graphs-'));
    const env = { PIPE_GRAPH_CACHE: cache };
    const text = (n: number) => `name: e2e\nparams: {n: ${n}}\nstages:\n  a:\n    kind: command\n    params: {cmd: "echo \${params.n} > \${outputs.out}", outs: {out: text}}\n  b:\n    kind: command\n    inputs: {x: a.out}\n    params: {cmd: "cat \${inputs.x} > \${outputs.out}", outs: {out: text}}\n`;
    const dir = project({ 'p.yaml': text(1) });
    const out = () => readFileSync(join(dir, 'artifacts', 'e2e', 'b', 'out.txt'), 'utf8').trim();
    expect(summary(await pipeWithEnv(dir, env, 'run', 'p.yaml'))).toEqual({ ran: 2, cached: 0, failed: 0 });
    expect(readdirSync(cache).length).toBe(1);
    expect(summary(await pipeWithEnv(dir, env, 'run', 'p.yaml'))).toEqual({ ran: 0, cached: 2, failed: 0 });
    writeFileSync(join(dir, 'p.yaml'), text(2));
    expect(summary(await pipeWithEnv(dir, env, 'run', 'p.yaml'))).toEqual({ ran: 2, cached: 0, failed: 0 });
    expect(out()).toBe('2');
    expect(summary(await pipeWithEnv(dir, env, 'run', 'p.yaml', '--set', 'n=3'))).toEqual({ ran: 2, cached: 0, failed: 0 });
    expect(out()).toBe('3');
    expect(summary(await pipeWithEnv(dir, env, 'run', 'p.yaml'))).toEqual({ ran: 0, cached: 2, failed: 0 });
    expect(out()).toBe('2');
    writeFileSync(join(dir, 'p.yaml'), text(2).replace('kind: command', 'kind: comand'));
    for (let i = 0; i < 2; i++) {
      const r = await pipeWithEnv(dir, env, 'run', 'p.yaml');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/p\.yaml:\d+:\d+: .*comand/);
    }
  }, 120_000);
});
