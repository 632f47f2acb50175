/**
 * Frames per second of the `animation` kind's figure frames: every frame compiled and drawn on
 * its own (`lift: false`, the old way) against one compiled vega view whose data and lifted
 * values change per frame (what the kind does). Same inputs as the activation playground's
 * convergence GIFs (fit template, follow_y 0.5, 41 snapshots; the σ(wx) two-panel inline spec);
 * checks that both ways give identical pixels, then times them, plus GIF encoding.
 *
 *   npm run build && npx tsx bench/animation.ts [--repeat 3]
 */
import { runStageDirect } from '../src/engine/exec/context.js';
import { validateParams } from '../src/engine/front/params.js';
import gen from '../src/stages/generate-synthetic.js';
import fitNeuron from '../src/stages/fit-neuron.js';
import animation, { frameSpecs, type AnimationParams } from '../src/stages/animation.js';
import { readTable } from '../src/sdk/table.js';
import { tableRows } from '../src/lib/plot/data.js';
import { renderFrames } from '../src/lib/plot/frames.js';
import { encodeGif } from '../src/lib/plot/gif.js';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';

const arg = (k: string, d: string) => { const i = process.argv.indexOf(`--${k}`); return i >= 0 ? process.argv[i + 1]! : d; };
const repeat = Number(arg('repeat', '3'));

async function main() {
  const table = (await runStageDirect(gen, { params: { generator: 'playground', polynomial: 'cubic_s' } })).outputs.table!;
  const pts = tableRows(await readTable(table));
  const yaml = parse(readFileSync(new URL('../pipelines/activation_playground.yaml', import.meta.url), 'utf8'));
  const cases: { name: string; params: AnimationParams; data: Record<string, unknown>[]; overlay: Record<string, unknown>[] }[] = [];
  const bench = { optimizer: 'gd', lr: 0.002, epochs: 1000, halving_every: 250, snapshot_every: 25 };
  const tanh = await runStageDirect(fitNeuron, { params: { model: { type: 'neuron', activation: 'tanh' }, training: bench, optimum: { enabled: false } }, inputs: { data: table } });
  cases.push({
    name: 'fit_gif (fit template, follow_y)',
    params: validateParams(animation, { frame: 'snapshot', template: 'fit', x: 'x', y: 'y', color: 'curve', notes_field: 'notes', follow_y: 0.5, fps: 12, title: 'Convergence: tanh on cubic_s', width: 480, height: 320 }),
    data: pts, overlay: tableRows(await readTable(tanh.outputs.frames!)),
  });
  const sig = await runStageDirect(fitNeuron, { params: { model: { type: 'sigmoid1' }, training: { optimizer: 'gd', lr: 0.005, epochs: 800, halving_every: 200, snapshot_every: 10 }, init: { stream: 'seed-order', position: 0 } }, inputs: { data: table } });
  cases.push({
    name: 'sigmoid_gif (inline hconcat spec)',
    params: validateParams(animation, yaml.stages.sigmoid_gif.params),
    data: tableRows(await readTable(sig.outputs.snapshots!)), overlay: tableRows(await readTable(sig.outputs.frames!)),
  });
  for (const c of cases) {
    const specs = await frameSpecs(c.params, { data: c.data, overlay: c.overlay });
    const opts = { width: c.params.width!, height: c.params.height!, scale: c.params.scale };
    const ref = await renderFrames(specs, opts, undefined, { lift: false });
    const got = await renderFrames(specs, opts);
    const diff = ref.frames.filter((f, i) => !Buffer.from(f.pixels).equals(Buffer.from(got.frames[i]!.pixels))).length;
    console.log(`${c.name}: ${specs.length} frames, lifted=${got.stats.lifted} signals=[${got.stats.signals.join(', ')}], frames with different pixels: ${diff}`);
    for (const [label, lift] of [['per-frame compile', false], ['one compiled view', true]] as const) {
      let best = Infinity;
      for (let k = 0; k < repeat; k++) {
        const t = performance.now();
        await renderFrames(specs, opts, undefined, { lift });
        best = Math.min(best, performance.now() - t);
      }
      console.log(`  ${label.padEnd(18)} ${(best / specs.length).toFixed(1).padStart(6)} ms/frame  ${(1000 * specs.length / best).toFixed(1).padStart(6)} frames/s (best of ${repeat})`);
    }
    let best = Infinity;
    for (let k = 0; k < repeat; k++) {
      const t = performance.now();
      await encodeGif(got.frames, { fps: 12, loop: 0, holdLastMs: 1000 });
      best = Math.min(best, performance.now() - t);
    }
    console.log(`  ${'GIF encoding'.padEnd(18)} ${(best / specs.length).toFixed(1).padStart(6)} ms/frame`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
