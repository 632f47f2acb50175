/**
 * `pipe init [dir]`: a new project that works on the first try — package.json (an ES module
 * package depending on pipe), a pipeline using built-in kinds, a project TypeScript kind
 * (stages/clip.ts) and a Python script stage (scripts/fit.py, standard library only), a README
 * and a .gitignore. Existing files are never overwritten.
 */
import type { Command } from '../lib/vendor.js';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pipeVersion } from '../lib/package-root.js';
import { PipeError } from '../engine/errors.js';
import { out, type Cli } from './common.js';

export const PIPELINE = `# pipe run pipelines/example.yaml        (then: pipe runs, pipe diff, pipe report pipelines/example.yaml)
name: example
seed: 1
params:
  rows: 600
  folds: 3
  clip: 3.0
  lr: 0.5
  epochs: 30
metrics:
  test_accuracy: {goal: max}
  loss: {goal: min}
stages:
  data:                                   # a built-in kind: a seeded synthetic dataset
    kind: generate-synthetic
    params: {generator: study_success, n: '\${params.rows}'}
  split:                                  # built-in: one k-fold split per fold
    kind: split
    matrix: {fold: {range: '\${params.folds}'}}
    inputs: {table: data.table}
    params: {method: stratified-kfold, k: '\${params.folds}', fold: '\${matrix.fold}'}
  prep:                                   # built-in: standardize with the training fold's statistics
    kind: standardize
    matrix: {fold: {range: '\${params.folds}'}}
    inputs: {train: split.train, val: split.val, test: split.test}
  clip:                                   # your TypeScript kind: stages/clip.ts
    kind: clip
    matrix: {fold: {range: '\${params.folds}'}}
    inputs: {train: prep.train, test: prep.test}
    params: {limit: '\${params.clip}'}
  fit:                                    # your Python script: scripts/fit.py
    kind: python
    matrix: {fold: {range: '\${params.folds}'}}
    seed: {derive: [fold]}
    inputs: {train: clip.train, test: clip.test}
    params:
      script: scripts/fit.py
      formats: {train: csv, test: csv}    # the script reads CSV; pipe converts its Arrow tables
      outs: {predictions: csv}            # checked and stored as an Arrow table
      params: {lr: '\${params.lr}', epochs: '\${params.epochs}'}
  summary:                                # your Python script again, over every fold
    kind: python
    inputs: {predictions: 'fit[*].predictions'}
    params:
      script: scripts/summary.py
      formats: {predictions: csv}
      outs: {table: json}
`;

export const CLIP_KIND = `/**
 * A project stage kind: clips every feature column of the training and test tables to
 * [-limit, limit]. pipelines/*.yaml use it as \`kind: clip\`; pipe loads this file without a
 * build step, and its code (with what it imports relatively) is part of the stages' fingerprint.
 */
import { defineStage, featureNames, numericColumn, numericVector, readTable, withColumn, writeTable } from 'pipe-ml';

export default defineStage<{ limit: number }>({
  kind: 'clip',
  version: '1',
  description: 'clip feature columns to [-limit, limit]',
  paramsSchema: {
    type: 'object',
    properties: { limit: { type: 'number', exclusiveMinimum: 0, default: 3 } },
    additionalProperties: false,
  },
  inputs: { train: { type: 'table' }, test: { type: 'table' } },
  outputs: { train: { type: 'table' }, test: { type: 'table' } },
  async run(ctx) {
    let clipped = 0;
    for (const part of ['train', 'test'] as const) {
      let t = await readTable(ctx.input(part).path);
      for (const f of featureNames(t)) {
        const { values } = numericColumn(t, f);
        const out = values.map((v) => {
          const c = Math.max(-ctx.params.limit, Math.min(ctx.params.limit, v));
          if (c !== v) clipped++;
          return c;
        });
        t = withColumn(t, f, numericVector('float32', out));
      }
      await writeTable(ctx.output(part).path, t);
    }
    ctx.log.info(\`clipped \${clipped} values\`);
    return { metrics: { clipped } };
  },
});
`;

export const FIT_PY = `"""Logistic regression by gradient descent, in plain Python (no NumPy needed).

pipe hands this script its inputs, params and outputs (pipe_stage reads the manifest) and
collects what it reports: metric() → pipe runs / pipe diff, curve() → the curves table,
progress() → the live display and its ETA.
"""
import csv
import math
import random

from pipe_stage import inputs, metric, curve, progress, output, params, seed

train = inputs['train'].read()      # a list of rows (dicts), read from CSV
test = inputs['test'].read()
meta = inputs['train'].meta                 # the dataset conventions travel with the table
target, features = meta['target'], meta['features']

random.seed(seed)
w = [random.gauss(0, 0.01) for _ in features]
b = 0.0


def predict(row):
    z = b + sum(wi * row[f] for wi, f in zip(w, features))
    return 1 / (1 + math.exp(-max(-30, min(30, z))))


def log_loss(rows):
    eps = 1e-12
    return -sum(r[target] * math.log(predict(r) + eps) + (1 - r[target]) * math.log(1 - predict(r) + eps) for r in rows) / len(rows)


lr, epochs = params['lr'], params['epochs']
for epoch in range(1, epochs + 1):
    gw = [0.0] * len(features)
    gb = 0.0
    for r in train:
        e = predict(r) - r[target]
        gb += e
        for j, f in enumerate(features):
            gw[j] += e * r[f]
    w = [wi - lr * g / len(train) for wi, g in zip(w, gw)]
    b -= lr * gb / len(train)
    loss = log_loss(train)
    curve(epoch=epoch, loss=loss)
    progress(epoch, epochs, unit='epoch', loss=loss)

accuracy = sum((predict(r) > 0.5) == (r[target] == 1) for r in test) / len(test)
metric('test_accuracy', accuracy)
metric('loss', loss)
with open(output('predictions'), 'w', newline='') as f:
    out = csv.writer(f)
    out.writerow(['row', 'p', 'label'])
    for r in test:
        out.writerow([r['_row'], predict(r), r[target]])
`;

export const SUMMARY_PY = `"""Accuracy per fold, from every fold's predictions (a gathered input: one item per fit instance)."""
import json

from pipe_stage import inputs, metric, output

folds = []
for item in inputs['predictions']:            # in the order of the fit instances: fold 0, 1, 2
    rows = item.read()
    acc = sum((r['p'] > 0.5) == (r['label'] == 1) for r in rows) / len(rows)
    folds.append({'fold': item.matrix['fold'], 'rows': len(rows), 'accuracy': acc})
metric('mean_accuracy', sum(f['accuracy'] for f in folds) / len(folds))
with open(output('table'), 'w') as f:
    json.dump(folds, f, indent=2)
`;

const README = (name: string) => `# ${name}

A [pipe](https://www.npmjs.com/package/pipe-ml) project.

\`\`\`sh
npm install
npx pipe run pipelines/example.yaml            # runs what is stale, caches every stage
npx pipe run pipelines/example.yaml --set lr=0.1
npx pipe runs                                   # one row per run
npx pipe diff                                   # what changed between the last two runs
npx pipe status pipelines/example.yaml          # fresh / stale, and why
\`\`\`

- \`pipelines/example.yaml\`: a synthetic dataset, 3-fold split and standardization (built-in
  kinds), a TypeScript kind of this project (\`stages/clip.ts\`) and two Python stages
  (\`scripts/fit.py\`, \`scripts/summary.py\`; standard library only).
- Python: pipe runs \`.venv/bin/python\` when there is one, else the active virtualenv/conda env,
  else \`python3\` (or set \`PIPE_PYTHON\`). \`import pipe_stage\` is provided by pipe.
- Results: \`artifacts/example/\`; the cache: \`cache/\` (both ignored by git).
`;

const GITIGNORE = 'node_modules/\ncache/\nartifacts/\n.venv/\n__pycache__/\n';

export function initProject(dir: string): { created: string[]; skipped: string[] } {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const name = basename(root).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'pipe-project';
  const files: Record<string, string> = {
    'package.json': JSON.stringify({
      name, version: '0.1.0', private: true, type: 'module',
      scripts: { pipe: 'pipe', start: 'pipe run pipelines/example.yaml' },
      dependencies: { 'pipe-ml': `^${pipeVersion()}` },
    }, null, 2) + '\n',
    'pipelines/example.yaml': PIPELINE,
    'stages/clip.ts': CLIP_KIND,
    'scripts/fit.py': FIT_PY,
    'scripts/summary.py': SUMMARY_PY,
    'README.md': README(name),
    '.gitignore': GITIGNORE,
  };
  const created: string[] = [];
  const skipped: string[] = [];
  for (const [rel, text] of Object.entries(files)) {
    const p = join(root, rel);
    if (existsSync(p)) { skipped.push(rel); continue; }
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
    created.push(rel);
  }
  return { created, skipped };
}

export function registerInit(cli: Cli): void {
  cli.program
    .command('init [dir]')
    .description('create a new pipe project (package.json, a pipeline, a TypeScript kind, Python stages, README) in dir (default: .)')
    .action((dir: string | undefined) => {
      const target = resolve(dir ?? '.');
      if (existsSync(target) && readdirSync(target).some((f) => ['pipelines', 'stages', 'scripts'].includes(f)) && existsSync(join(target, 'pipelines', 'example.yaml'))) {
        throw new PipeError(`${target} already holds a pipe project (pipelines/example.yaml)`, undefined, 2);
      }
      const { created, skipped } = initProject(target);
      const rel = relative(process.cwd(), target) || '.';
      out(`created ${created.length} files in ${rel}: ${created.join(', ')}`);
      if (skipped.length) out(`kept existing: ${skipped.join(', ')}`);
      out(`next:\n  cd ${rel}\n  npm install\n  npx pipe run pipelines/example.yaml`);
    });
}
