/**
 * plot, animation and report kinds inside the real engine (CLI, worker processes, cache):
 * a matrix of command stages writes training histories, a gathered plot, a GIF and a report
 * page are built from them, a rerun is fully cached, and a forced rerun gives the same bytes.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseGif } from '../plot/gif-reader.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'pipe.js');
const built = existsSync(join(ROOT, 'dist', 'cli.js')) && existsSync(join(ROOT, 'dist', 'stages', 'plot.js'));
if (!built) console.warn('SKIPPED pipeline test: dist/ is not built (npm test runs tsc first)');

const HIST = `import { writeFileSync } from 'node:fs';
const [out, model] = process.argv.slice(2);
const epoch = [], train_loss = [], val_loss = [];
for (let e = 1; e <= 20; e++) {
  const k = model === 'relu' ? 5 : 7;
  epoch.push(e); train_loss.push(Math.exp(-e / k) + 0.05); val_loss.push(Math.exp(-e / k) + 0.08 + 0.001 * (e - 12) ** 2);
}
writeFileSync(out, JSON.stringify({ epoch, train_loss, val_loss }));
`;

const PIPELINE = `name: figs
params:
  models: [relu, tanh]
stages:
  train:
    kind: command
    matrix:
      model: \${params.models}
    params:
      cmd: node scripts/hist.mjs \${outputs.history} \${matrix.model}
      deps: [scripts/hist.mjs]
      outs: {history: json}
  curves:
    kind: plot
    inputs: {data: 'train[*].history'}
    params: {template: line, x: epoch, y: val_loss, color: model, best: min, title: Validation loss, width: 500, height: 300}
  anim:
    kind: animation
    inputs: {data: 'train[*].history'}
    params: {frame: epoch, template: scatter, x: train_loss, y: val_loss, color: model, fps: 8, width: 300, height: 200}
  summary:
    kind: report
    inputs: {items: [curves.spec, curves.png, anim.gif]}
    params: {title: Figures}
`;

let dir: string;
const pipe = (...args: string[]) => run(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1', CI: 'true' } });

beforeAll(async () => {
  if (!built) return;
  dir = await mkdtemp(join(tmpdir(), 'pipe-figs-e2e-'));
  await mkdir(join(dir, 'scripts'));
  await writeFile(join(dir, 'scripts', 'hist.mjs'), HIST);
  await writeFile(join(dir, 'figs.yaml'), PIPELINE);
});

describe.skipIf(!built)('figures in a real pipeline run', () => {
  it('renders, caches, and re-renders the same bytes', async () => {
    const first = await pipe('run', 'figs.yaml');
    expect(first.stdout).toMatch(/5 ran, 0 cached, 0 failed/);
    const art = join(dir, 'artifacts', 'figs');
    const png = await readFile(join(art, 'curves', 'png.png'));
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1000, 600]);
    const spec = JSON.parse(await readFile(join(art, 'curves', 'spec.vl.json'), 'utf8'));
    expect(new Set(spec.datasets.data.map((r: { model: string }) => r.model))).toEqual(new Set(['relu', 'tanh']));
    const gif = parseGif(await readFile(join(art, 'anim', 'gif.gif')));
    expect(gif.frames).toHaveLength(20);
    expect([gif.width, gif.height]).toEqual([300, 200]);
    const html = await readFile(join(art, 'summary', 'html.html'), 'utf8');
    expect(html).toContain('data-spec=');
    expect(html).toContain('data:image/gif;base64,');

    const again = await pipe('run', 'figs.yaml');
    expect(again.stdout).toMatch(/0 ran, 5 cached, 0 failed/);
    await pipe('run', 'figs.yaml', '--force', 'curves', '--force', 'anim');
    expect((await readFile(join(art, 'curves', 'png.png'))).equals(png)).toBe(true);
    expect(parseGif(await readFile(join(art, 'anim', 'gif.gif'))).frames).toHaveLength(20);
  });
});
