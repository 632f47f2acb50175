/**
 * `kind: python` / `kind: script` / `kind: command` through the real CLI on small real
 * pipelines: the manifest (params, seed, inputs with formats and matrix labels, gathered inputs
 * in order), the pipe_stage helper and the line protocol (metrics into `pipe runs` / `pipe diff`,
 * curves into the curves table, progress), output format checks failing the producing stage,
 * non-zero exits with the stderr tail, malformed protocol lines as warnings.
 */
import { havePython } from '../helpers/requires.js';
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipe, pipeWithEnv, project, write, summary } from '../engine/helpers.js';
import { readTable } from '../../src/sdk/table.js';
import { haveChromium, serveAndBrowse } from '../report/chromium.js';

const PY = '/usr/bin/python3';
const env = { PIPE_PYTHON: PY };
const run = (dir: string, ...args: string[]) => pipeWithEnv(dir, env, ...args);

const TRAIN_PY = `
import json, sys
import numpy as np
from pipe_stage import params, seed, inputs, output, metric, curve, progress, log, manifest, matrix

cols = inputs['train'].read()                     # npz: dict of 1-D arrays
n = len(next(iter(cols.values())))
lr = params['lr']
loss = 1.0
for epoch in range(1, params['epochs'] + 1):
    loss = loss * (1 - lr)
    curve(epoch=epoch, loss=loss, val_loss=loss + 0.01 * epoch)
    progress(epoch, params['epochs'], unit='epoch', loss=loss)
metric('final_loss', loss)
metric('rows', n)
metric('seed', seed)
log('trained on', n, 'rows')
with open(output('model'), 'w') as f:
    json.dump({'lr': lr, 'fold': matrix.get('fold'), 'columns': sorted(cols)}, f)
rows = [[float(i), float(i) * lr] for i in range(n)]
with open(output('preds'), 'w') as f:
    f.write('row,score\\n' + ''.join('%d,%r\\n' % (int(r[0]), r[1]) for r in rows))
`;

const SUMMARY_PY = `
import json
from pipe_stage import inputs, output, metric
items = inputs['models']
with open(output('order'), 'w') as f:
    json.dump([{'matrix': i.matrix, 'source': i.source, 'lr': i.read()['lr']} for i in items], f)
metric('n_models', len(items))
`;

const PIPELINE = `
name: py
seed: 11
params:
  lr: 0.1
metrics:
  final_loss: {goal: min}
  val_loss: {goal: min}
stages:
  data:
    kind: generate-synthetic
    params: {generator: study_success, n: 200}
  split:
    kind: split
    matrix: {fold: {range: 2}}
    inputs: {table: data.table}
    params: {method: kfold, k: 2, fold: '\${matrix.fold}'}
  train:
    kind: python
    matrix: {fold: {range: 2}}
    inputs: {train: split.train}
    params:
      script: scripts/train.py
      formats: {train: npz}
      outs: {model: json, preds: csv}
      params: {lr: '\${params.lr}', epochs: 4}
  summary:
    kind: python
    inputs: {models: 'train[*].model'}
    params:
      script: scripts/summary.py
      outs: {order: json}
`;

describe.skipIf(!havePython('numpy', 'python3-numpy', 'test/script/python-stage: kind: python end to end'))('kind: python end to end', () => {
  let dir: string;
  beforeAll(async () => {
    dir = project({ 'p.yaml': PIPELINE, 'scripts/train.py': TRAIN_PY, 'scripts/summary.py': SUMMARY_PY });
    const r = await run(dir, 'run', 'p.yaml', '--name', 'base');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(summary(r)).toEqual({ ran: 6, cached: 0, failed: 0 });
  }, 120_000);

  it('hands the script its params, seed, matrix and an npz input; converts its CSV output to Arrow', async () => {
    const model = JSON.parse(readFileSync(join(dir, 'artifacts/py/train[fold=1]/model.json'), 'utf8'));
    expect(model.lr).toBe(0.1);
    expect(model.fold).toBe(1);
    expect(model.columns).toEqual(['_row', 'attendance', 'breakfast', 'hours', 'passed', 'score', 'sleep']);
    const preds = await readTable(join(dir, 'artifacts/py/train[fold=1]/preds.arrow'));
    expect(preds.schema.fields.map((f) => f.name)).toEqual(['row', 'score']);
    expect(preds.numRows).toBeGreaterThan(50);
    expect(Number(preds.getChild('score')!.get(3))).toBeCloseTo(0.3, 12);
  });

  it('writes the protocol curve rows as the curves table', async () => {
    const t = await readTable(join(dir, 'artifacts/py/train[fold=0]/curves.arrow'));
    expect(t.schema.fields.map((f) => f.name)).toEqual(['epoch', 'loss', 'val_loss']);
    expect(Array.from(t.getChild('epoch')!.toArray() as Int32Array)).toEqual([1, 2, 3, 4]);
    expect(Number(t.getChild('loss')!.get(3))).toBeCloseTo(0.9 ** 4, 12);
  });

  it('gathered inputs arrive in the documented order with their matrix labels', () => {
    const order = JSON.parse(readFileSync(join(dir, 'artifacts/py/summary/order.json'), 'utf8'));
    expect(order).toEqual([
      { matrix: { fold: 0 }, source: 'train[fold=0].model', lr: 0.1 },
      { matrix: { fold: 1 }, source: 'train[fold=1].model', lr: 0.1 },
    ]);
  });

  it('metrics reach pipe show, pipe runs and pipe diff (with curves best/last and gates)', async () => {
    const show = await run(dir, 'show', 'train[fold=0]', '--json');
    expect(show.code, show.stderr).toBe(0);
    const s = JSON.parse(show.stdout);
    expect(s.metrics.final_loss).toBeCloseTo(0.9 ** 4, 12);
    expect(s.metrics.seed).toBe(11);
    const r2 = await run(dir, 'run', 'p.yaml', '--set', 'lr=0.2', '--name', 'fast');
    expect(r2.code, r2.stderr).toBe(0);
    expect(summary(r2)).toEqual({ ran: 3, cached: 3, failed: 0 });
    const runs = await run(dir, 'runs', '--json');
    const rows = JSON.parse(runs.stdout) as Record<string, unknown>[];
    expect(rows.length).toBe(2);
    expect(JSON.stringify(rows[1])).toContain('final_loss');
    const diff = await run(dir, 'diff', '--json');
    const d = JSON.parse(diff.stdout) as { rows: { key: string; values: unknown[] }[] };
    const keys = d.rows.map((r) => r.key);
    expect(keys).toContain('train.final_loss');
    expect(keys.some((k) => k.startsWith('train.val_loss.best'))).toBe(true);
    const fl = d.rows.find((r) => r.key === 'train.final_loss')!;
    expect(fl.values[0] as number).toBeCloseTo(0.9 ** 4, 10);
    expect(fl.values[1] as number).toBeCloseTo(0.8 ** 4, 10);
    const gate = await run(dir, 'diff', '--fail-if', 'final_loss < -0.1');
    expect(gate.code).toBe(1);
    expect(gate.stderr + gate.stdout).toContain('gate failed');
  }, 60_000);

  it('progress reaches the run events (--progress json) with unit, rate and time left; curves reach the compare page', async () => {
    const r = await run(dir, 'run', 'p.yaml', '--force', 'train', '--progress', 'json');
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const prog = events.filter((e) => e.event === 'progress' && String(e.id).startsWith('train['));
    expect(prog.length).toBeGreaterThan(0);
    expect(prog.every((e) => e.unit === 'epoch' && e.total === 4)).toBe(true);
    expect(prog.some((e) => typeof e.message === 'string' && /^loss 0\.\d+/.test(e.message as string))).toBe(true);
    const cmp = await run(dir, 'report', '--compare', 'base', 'fast', '-o', join(dir, 'cmp'));
    expect(cmp.code, cmp.stderr).toBe(0);
    const html = readFileSync(join(dir, 'cmp', 'compare-1-2.html'), 'utf8');
    expect(html).toMatch(/train · val_loss/);
  }, 60_000);

  it('the report draws the curves as an interactive chart, one line per instance (headless Chromium)', async () => {
    const rep = await run(dir, 'report', 'p.yaml');
    expect(rep.code, rep.stderr).toBe(0);
    const html = readFileSync(join(dir, 'artifacts/py/report/index.html'), 'utf8');
    const m = /<figure class="fig" id="(fig-\d+)" data-spec="[^"]+"><div class="chart">[^]*?<b>train · curves<\/b>/.exec(html);
    expect(m, 'a curves figure for train').not.toBeNull();
    if (!haveChromium) { expect(process.env.CI, 'Chromium is required on CI').not.toBe('true'); return; }
    const web = await serveAndBrowse(join(dir, 'artifacts/py'));
    try {
      const { page, errors, requests } = await web.open('/report/index.html');
      await page.waitForSelector('body[data-charts="done"]', { timeout: 30_000 });
      const lines = await page.$$eval(`#${m![1]} .chart svg.marks path[aria-roledescription="line mark"]`, (els) => els.length);
      expect(lines).toBe(2 * 2);   // 2 columns (loss, val_loss) × 2 folds
      expect(errors).toEqual([]);
      expect(requests.every((u) => u.startsWith(web.base))).toBe(true);
    } finally { await web.close(); }
  }, 90_000);

  it('a cached rerun runs nothing', async () => {
    const r = await run(dir, 'run', 'p.yaml', '--set', 'lr=0.2');
    expect(summary(r)).toEqual({ ran: 0, cached: 6, failed: 0 });
  }, 60_000);
});

describe('gathered inputs: the documented order', () => {
  it('the producer’s matrix keys in declaration order, values as listed, the last key fastest; a list of references in its order', async () => {
    const dir = project({
      'p.yaml': `
name: order
stages:
  gen:
    kind: command
    matrix: {b: [y, x], a: [2, 1]}
    params: {cmd: 'echo \${matrix.b}\${matrix.a} > \${outputs.o}', outs: {o: text}}
  one:
    kind: command
    params: {cmd: 'echo solo > \${outputs.o}', outs: {o: text}}
  all:
    kind: python
    inputs: {xs: ['gen[*].o', 'one.o'], first: 'gen[b=x,a=1].o'}
    params: {script: s.py, outs: {order: json}}
`,
      's.py': "import json\nfrom pipe_stage import inputs, output\njson.dump({'xs': [[i.matrix, i.source, i.read().strip()] for i in inputs['xs']], 'first': [[i.matrix, i.read().strip()] for i in inputs['first']]}, open(output('order'), 'w'))\n",
    });
    const r = await run(dir, 'run', 'p.yaml');
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(readFileSync(join(dir, 'artifacts/order/all/order.json'), 'utf8'));
    expect(o.xs).toEqual([
      [{ b: 'y', a: 2 }, 'gen[b=y,a=2].o', 'y2'], [{ b: 'y', a: 1 }, 'gen[b=y,a=1].o', 'y1'],
      [{ b: 'x', a: 2 }, 'gen[b=x,a=2].o', 'x2'], [{ b: 'x', a: 1 }, 'gen[b=x,a=1].o', 'x1'],
      [{}, 'one.o', 'solo'],
    ]);
    expect(o.first).toEqual([[{ b: 'x', a: 1 }, 'x1']]);   // a selector gathers (a list), even of one instance
  }, 60_000);
});
