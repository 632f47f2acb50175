import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, readFile, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import animation from '../../src/stages/animation.js';
import plot from '../../src/stages/plot.js';
import { runStageDirect } from '../../src/engine/exec/context.js';
import { fitData, landscape, writeArrow, writeJson } from './fixtures.js';
import { parseGif } from './gif-reader.js';

let dir: string;
let snapshots: string;
let points: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipe-anim-test-'));
  // 12 training snapshots of a fitted curve y = a·x² with a → 1
  const step: number[] = [], x: number[] = [], y: number[] = [];
  for (let s = 0; s < 12; s++) for (let i = 0; i <= 40; i++) {
    const xv = -2 + (4 * i) / 40;
    step.push(s * 50); x.push(xv); y.push((1 - Math.exp(-s / 3)) * xv * xv);
  }
  snapshots = await writeArrow(dir, 'snap', { step, x, y });
  points = await writeArrow(dir, 'points', fitData().points);
});

const figParams = { frame: 'step', template: 'fit', x: 'x', y: 'y', title: 'Convergence', width: 320, height: 200, fps: 10, hold_last_ms: 500 };

describe('animation', () => {
  it('renders one GIF frame per snapshot at the requested size and frame rate', async () => {
    const r = await runStageDirect(animation, { params: figParams, inputs: { data: points, overlay: snapshots } });
    const gif = parseGif(await readFile(r.outputs.gif!));
    expect(gif.width).toBe(320);
    expect(gif.height).toBe(200);
    expect(gif.frames).toHaveLength(12);
    expect(gif.loop).toBe(0);
    expect(gif.frames.slice(0, -1).every((f) => f.delayCs === 10)).toBe(true);
    expect(gif.frames.at(-1)!.delayCs).toBe(60);
    expect(gif.frames.every((f) => f.w === 320 && f.h === 200)).toBe(true);
    // the picture changes between the first and last snapshot
    expect(gif.frames[0]!.data.equals(gif.frames[11]!.data)).toBe(false);
    expect((r.result as any).metrics).toMatchObject({ frames: 12, width: 320, height: 200 });
  });

  it('is deterministic and honours scale, max_frames and loop', async () => {
    const params = { ...figParams, template: 'line', y: 'y', scale: 1.5, max_frames: 5, loop: -1, fps: 25 };
    const a = await runStageDirect(animation, { params, inputs: { data: snapshots } });
    const b = await runStageDirect(animation, { params, inputs: { data: snapshots } });
    const bytes = await readFile(a.outputs.gif!);
    expect(bytes.equals(await readFile(b.outputs.gif!))).toBe(true);
    const gif = parseGif(bytes);
    expect([gif.width, gif.height]).toEqual([480, 300]);
    expect(gif.frames).toHaveLength(5);
    expect(gif.loop).toBeUndefined();
    expect(gif.frames[0]!.delayCs).toBe(4);
  });

  it('animates a trajectory over a fixed landscape (overlay rows up to the frame)', async () => {
    const { grid, traj } = landscape();
    const gridPath = await writeArrow(dir, 'grid', grid);
    const trajPath = await writeJson(dir, 'traj', traj);
    // the landscape rows carry no frame column, so the frames come from the trajectory via a spec
    const r = await runStageDirect(animation, {
      params: {
        frame: 'step', width: 300, height: 220, fps: 8,
        spec: { layer: [
          { data: { name: 'all' }, mark: 'line', encoding: { x: { field: 'w', type: 'quantitative', scale: { domain: [-4, 4] } }, y: { field: 'b', type: 'quantitative', scale: { domain: [-4, 4] } }, order: { field: 'step' } } },
          { data: { name: 'history' }, mark: { type: 'point', filled: true, color: 'red' }, encoding: { x: { field: 'w', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } },
        ] },
      },
      inputs: { data: trajPath, overlay: gridPath },
    });
    const gif = parseGif(await readFile(r.outputs.gif!));
    expect(gif.frames).toHaveLength(traj.step.length);
  });

  it('turns image files (PNG and SVG) into frames, sorted by name', async () => {
    const frameDir = join(dir, 'frames');
    await mkdir(frameDir, { recursive: true });
    for (const [i, n] of [3, 1, 2].entries()) {
      const data = await writeJson(dir, `bars${i}`, [{ k: 'a', v: n }, { k: 'b', v: 4 - n }]);
      const r = await runStageDirect(plot, { params: { spec: { mark: 'bar', encoding: { x: { field: 'k' }, y: { field: 'v', type: 'quantitative' } } }, width: 200, height: 150, scale: 1 }, inputs: { data } });
      await copyFile(i === 2 ? r.outputs.svg! : r.outputs.png!, join(frameDir, `frame_${i === 0 ? 10 : i}.${i === 2 ? 'svg' : 'png'}`));
    }
    const r = await runStageDirect(animation, { params: { width: 250, height: 150, fps: 2 }, inputs: { frames: frameDir } });
    const gif = parseGif(await readFile(r.outputs.gif!));
    expect([gif.width, gif.height]).toEqual([250, 150]);
    expect(gif.frames).toHaveLength(3);
    expect(gif.frames[0]!.delayCs).toBe(50);
  });

  it('explains what is missing', async () => {
    await expect(runStageDirect(animation, { params: { template: 'line', x: 'x', y: 'y' }, inputs: { data: snapshots } })).rejects.toThrow(/'frame' param/);
    await expect(runStageDirect(animation, { params: { frame: 'nope', template: 'line', x: 'x', y: 'y' }, inputs: { data: snapshots } })).rejects.toThrow(/frame column 'nope' is in neither/);
  });
});

describe('animation frames from one compiled view', () => {
  const readRows = async (p: string) => {
    const { tableRows } = await import('../../src/lib/plot/data.js');
    const { readTable } = await import('../../src/sdk/table.js');
    return tableRows(await readTable(p));
  };
  it('compiles once and draws every frame pixel-identical to drawing it on its own (fit template, follow_y, notes)', async () => {
    const { frameSpecs } = await import('../../src/stages/animation.js');
    const { renderFrames } = await import('../../src/lib/plot/frames.js');
    const { validateParams } = await import('../../src/engine/front/params.js');
    const snap = (await readRows(snapshots)).map((r) => ({ ...r, notes: `a=${(r.y as number).toFixed(3)}` }));
    const p = validateParams(animation, { ...figParams, notes_field: 'notes', follow_y: 0.5 });
    const specs = await frameSpecs(p, { data: await readRows(points), overlay: snap });
    expect(specs).toHaveLength(12);
    const opts = { width: 320, height: 200, scale: 1 };
    const fast = await renderFrames(specs, opts);
    // one vega-lite compile for all 12 frames; the title and notes (at least) are per-frame signals
    expect(fast.stats).toMatchObject({ lifted: true, compiles: 1 });
    expect(fast.stats.signals.length).toBeGreaterThanOrEqual(2);
    const ref = await renderFrames(specs, opts, undefined, { lift: false });
    expect(ref.stats).toMatchObject({ lifted: false, compiles: 12 });
    fast.frames.forEach((f, i) => expect(Buffer.from(f.pixels).equals(Buffer.from(ref.frames[i]!.pixels)), `frame ${i}`).toBe(true));
    expect(Buffer.from(fast.frames[0]!.pixels).equals(Buffer.from(fast.frames[11]!.pixels))).toBe(false);
    // frames are drawn without ARIA attributes (no per-point labels), the pixels of the spec as given
    const { renderVegaLite } = await import('../../src/lib/plot/render.js');
    for (const i of [0, 7]) {
      const own = await renderVegaLite(specs[i]!, { ...opts, png: false });
      expect(own.svg).toContain('aria-label');
      expect(Buffer.from(fast.frames[i]!.pixels).equals(Buffer.from(own.pixels)), `frame ${i} against renderVegaLite`).toBe(true);
    }
  });
  it('lays a composite (concat, autosize pad) frame out afresh: the size follows each frame, also backwards', async () => {
    const { renderFrames } = await import('../../src/lib/plot/frames.js');
    // a point that grows past the panel edge enlarges the figure's padding in some frames only
    const spec = (k: number) => ({
      title: `frame ${k}`,
      datasets: { data: [{ x: 0, y: 0 }, { x: 1, y: k }] },
      hconcat: [
        { data: { name: 'data' }, width: 120, height: 100, mark: { type: 'point', filled: true, size: 400 }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative', scale: { domain: [0, 3] } } } },
        { data: { name: 'data' }, width: 80, height: 100, mark: 'bar', encoding: { x: { field: 'x', type: 'nominal' }, y: { field: 'y', type: 'quantitative' } } },
      ],
    });
    const specs = [0, 1, 2, 4, 6, 3, 1, 0].map(spec);
    const opts = { width: 360, height: 200, scale: 1 };
    const fast = await renderFrames(specs, opts);
    expect(fast.stats).toMatchObject({ lifted: true, compiles: 1 });
    const ref = await renderFrames(specs, opts, undefined, { lift: false });
    fast.frames.forEach((f, i) => expect(Buffer.from(f.pixels).equals(Buffer.from(ref.frames[i]!.pixels)), `frame ${i}`).toBe(true));
  });
  it('draws frames one by one when they differ outside the liftable values', async () => {
    const { renderFrames } = await import('../../src/lib/plot/frames.js');
    const specs = ['point', 'bar'].map((mark) => ({ datasets: { data: [{ x: 1, y: 2 }] }, data: { name: 'data' }, mark, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } }));
    const r = await renderFrames(specs, { width: 200, height: 150, scale: 1 });
    expect(r.stats).toMatchObject({ lifted: false, compiles: 2 });
    expect(r.frames).toHaveLength(2);
  });
});
