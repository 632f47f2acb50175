import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import { ColourTable, encodeGif, gifPalette, GLOBAL_MAX_ERROR, type RgbaFrame } from '../../src/lib/plot/gif.js';
import { decodeGif } from './gif-decode.js';
import { parseGif } from './gif-reader.js';

const require = createRequire(import.meta.url);
const gifenc = require('gifenc') as typeof import('gifenc');

const W = 64, H = 48;
/** A frame painted by fn(x, y) → [r, g, b]. */
function frame(fn: (x: number, y: number) => [number, number, number]): RgbaFrame {
  const pixels = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const [r, g, b] = fn(x, y);
    pixels.set([r, g, b, 255], (y * W + x) * 4);
  }
  return { pixels, width: W, height: H };
}
const opts = { fps: 10, loop: 0, holdLastMs: 0 };
/** Per-channel absolute error of the decoded frames against the source: mean and max. */
function error(src: RgbaFrame[], dec: Uint8Array[]) {
  let sum = 0, max = 0, n = 0;
  src.forEach((f, i) => { for (let k = 0; k < f.pixels.length; k++) { if (k % 4 === 3) continue; const e = Math.abs(f.pixels[k]! - dec[i]![k]!); sum += e; max = Math.max(max, e); n++; } });
  return { mean: sum / n, max };
}

describe('GIF encoding (global palette, unchanged pixels transparent)', () => {
  it('a few colours: every decoded frame is its frame exactly; unchanged pixels cost almost nothing', async () => {
    const box = (x0: number) => frame((x, y) => (x >= x0 && x < x0 + 10 && y >= 10 && y < 30 ? [214, 39, 40] : y > 40 ? [31, 119, 180] : [255, 255, 255]));
    const frames = [box(2), box(20), box(20), box(40)];
    const bytes = Buffer.from(await encodeGif(frames, opts));
    const dec = decodeGif(bytes);
    expect(dec.frames).toHaveLength(4);
    dec.frames.forEach((f, i) => expect(Buffer.from(f).equals(Buffer.from(frames[i]!.pixels)), `frame ${i}`).toBe(true));
    // from frame 2 on, exactly the pixels equal to the previous frame's are transparent
    const same = (a: RgbaFrame, b: RgbaFrame) => { let n = 0; for (let k = 0; k < a.pixels.length; k += 4) if (a.pixels[k] === b.pixels[k] && a.pixels[k + 1] === b.pixels[k + 1] && a.pixels[k + 2] === b.pixels[k + 2]) n++; return n; };
    expect(dec.transparent).toEqual([0, same(frames[0]!, frames[1]!), W * H, same(frames[2]!, frames[3]!)]);
    expect(parseGif(bytes).frames).toHaveLength(4);
    // one global colour table (3 colours + the transparent slot), no local tables
    expect(bytes[10]! & 0x80).toBe(0x80);
    expect(2 ** ((bytes[10]! & 7) + 1)).toBe(4);
  });

  /** gifenc's own palette per frame (what the kind did before), decoded. */
  const perFrameReference = (frames: RgbaFrame[]) => frames.map((f) => {
    const pal = gifenc.quantize(f.pixels, 256, { format: 'rgb565' });
    const idx = gifenc.applyPalette(f.pixels, pal, 'rgb565');
    const out = new Uint8Array(f.pixels.length);
    idx.forEach((p, k) => out.set([...pal[p]!, 255], k * 4));
    return out;
  });

  it('a figure-like animation with > 255 colours: one palette, within the quantisation error, no worse than a palette per frame', async () => {
    // anti-aliased strokes: four line colours blended with white in 80 steps, a curve that moves
    const ink = [[31, 119, 180], [255, 127, 14], [127, 127, 127], [44, 160, 44]];
    const frames = [0, 3, 6, 9].map((s) => frame((x, y) => {
      const c = ink[(x >> 4) % 4]!, d = Math.abs(y - 24 - 12 * Math.sin((x + s) / 9)), a = Math.round(Math.max(0, 1 - d / 12) * 80) / 80;
      return c.map((v) => Math.round(255 - (255 - v) * a)) as [number, number, number];
    }));
    const bytes = Buffer.from(await encodeGif(frames, opts));
    const dec = decodeGif(bytes);
    const ours = error(frames, dec.frames), theirs = error(frames, perFrameReference(frames));
    expect(ours.mean).toBeGreaterThan(0); // really quantized
    expect(ours.mean).toBeLessThanOrEqual(GLOBAL_MAX_ERROR);
    expect(ours.mean).toBeLessThanOrEqual(theirs.mean * 1.25);
    expect(ours.max).toBeLessThanOrEqual(Math.max(16, theirs.max));
    expect(bytes[10]! & 0x80).toBe(0x80); // the global table
    expect(dec.transparent.slice(1).every((n) => n > 0)).toBe(true);
  });

  it('colours one palette cannot hold (smooth gradients that move): a palette per frame, as gifenc makes it', async () => {
    const frames = [0, 7, 19].map((s) => frame((x, y) => [(x * 4 + s * 3) & 255, (y * 5 + s) & 255, ((x + y) * 2 + s * 5) & 255]));
    const dec = decodeGif(Buffer.from(await encodeGif(frames, opts)));
    const ref = perFrameReference(frames);
    dec.frames.forEach((f, i) => expect(Buffer.from(f).equals(Buffer.from(ref[i]!)), `frame ${i}`).toBe(true));
    expect(error(frames, dec.frames).mean).toBeGreaterThan(GLOBAL_MAX_ERROR);
    expect(dec.transparent).toEqual([0, 0, 0]);
  });

  it('counts exact colours through growth and maps each to its nearest palette entry', () => {
    let seed = 7;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const words = new Uint32Array(20_000);
    for (let k = 0; k < words.length; k++) words[k] = rand() < 0.3 && k > 0 ? words[k - 1]! : (Math.floor(rand() * 3000) * 5591 & 0xffffff) | 0xff000000;
    words[5] = 0xff000000; // black
    const t = new ColourTable();
    t.count(words);
    const want = new Map<number, number>();
    for (const w of words) want.set(w & 0xffffff, (want.get(w & 0xffffff) ?? 0) + 1);
    expect(t.size).toBe(want.size);
    const got = t.entries();
    expect(got).toHaveLength(want.size);
    for (const e of got) expect(e.n).toBe(want.get(e.rgb));
    const palette = gifPalette(t, 1, gifenc.quantize);
    expect(palette.length).toBeLessThanOrEqual(255);
    t.assign(palette);
    const idx = new Uint8Array(words.length);
    t.map(words, idx);
    for (let k = 0; k < words.length; k += 97) {
      const c = words[k]! & 0xffffff, r = c & 255, g = (c >> 8) & 255, b = (c >> 16) & 255;
      const d = (p: number[]) => (p[0]! - r) ** 2 + (p[1]! - g) ** 2 + (p[2]! - b) ** 2;
      expect(d(palette[idx[k]!]!)).toBe(Math.min(...palette.map(d)));
    }
    expect(() => t.map(new Uint32Array([0xff123457]), new Uint8Array(1))).toThrow(/not counted/);
  });

  it('rejects frames of different sizes', async () => {
    await expect(encodeGif([frame(() => [0, 0, 0]), { pixels: new Uint8Array(16), width: 2, height: 2 }], opts)).rejects.toThrow(/frame 1 is 2×2, the first is 64×48/);
  });
});
