/**
 * Animated GIFs from RGBA frames (gifenc: pure JS, deterministic) and frame sources:
 * vega-lite figures per snapshot, or PNG/SVG images fitted into a fixed-size white box.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fitSvg, rasterize } from './render.js';

export interface GifOptions {
  fps: number;
  /** 0 = loop forever, -1 = play once, n = repeat n times. */
  loop: number;
  /** Extra time the last frame stays up (ms). */
  holdLastMs: number;
}

export interface RgbaFrame {
  pixels: Uint8Array;
  width: number;
  height: number;
}

/**
 * One GIF for all frames. Figures (few colours, anti-aliased): one global palette (the exact
 * colours when the animation has at most 255 of them, else gifenc's quantizer over the
 * animation's colour histogram), each pixel mapped to the palette entry nearest its exact colour,
 * and from the second frame on the pixels whose index equals the previous frame's are left
 * transparent over it (disposal "do not dispose": the picture shown is the same, LZW has long
 * runs, the file is smaller). Frames whose colours one palette cannot hold (mean error above
 * GLOBAL_MAX_ERROR, e.g. photographs) get gifenc's palette per frame, as a local colour table.
 */
export async function encodeGif(frames: RgbaFrame[], o: GifOptions): Promise<Uint8Array> {
  if (frames.length === 0) throw new Error('animation has no frames');
  // gifenc is CommonJS for node (its ESM build is only named in "module", which node ignores)
  const mod = (await import('gifenc')) as typeof import('gifenc') & { default?: typeof import('gifenc') };
  const g = typeof mod.GIFEncoder === 'function' ? mod : mod.default!;
  const { GIFEncoder, quantize } = g;
  const { width, height } = frames[0]!;
  frames.forEach((f, i) => {
    if (f.width !== width || f.height !== height) throw new Error(`frame ${i} is ${f.width}×${f.height}, the first is ${width}×${height}`);
    if (f.pixels.length !== width * height * 4) throw new Error(`frame ${i} has ${f.pixels.length} bytes, not ${width}×${height}×4`);
  });
  const colours = new ColourTable();
  for (const f of frames) colours.count(rgbWords(f.pixels));
  const palette = gifPalette(colours, frames.length, quantize);
  colours.assign(palette);
  if (colours.meanError(palette) > GLOBAL_MAX_ERROR) return perFrame(frames, o, g);
  // the last entry is never a pixel's colour: the transparent index of frames 2…n
  const transparent = palette.length;
  const table = [...palette, [0, 0, 0]];
  const gif = GIFEncoder();
  let prev: Uint8Array | undefined;
  let index: Uint8Array = new Uint8Array(width * height);
  const out = new Uint8Array(width * height);
  frames.forEach((f, i) => {
    colours.map(rgbWords(f.pixels), index);
    const frameDelay = delayOf(i, frames.length, o);
    if (!prev) {
      gif.writeFrame(index, width, height, { palette: table, delay: frameDelay, repeat: o.loop, dispose: 1 });
    } else {
      for (let k = 0; k < index.length; k++) out[k] = index[k] === prev[k] ? transparent : index[k]!;
      gif.writeFrame(out, width, height, { delay: frameDelay, transparent: true, transparentIndex: transparent, dispose: 1 });
    }
    // keep this frame's indices, write the next into the older buffer
    const t = prev ?? new Uint8Array(width * height);
    prev = index;
    index = t;
  });
  gif.finish();
  return gif.bytes();
}

/** How long frame i of n shows (ms): 1/fps, at least 20 ms; the last one `holdLastMs` longer. */
function delayOf(i: number, n: number, o: GifOptions): number {
  return Math.max(20, Math.round(1000 / o.fps)) + (i === n - 1 ? o.holdLastMs : 0);
}

/** Largest mean error per channel (of 255) of one palette for all frames; above: a palette per frame. */
export const GLOBAL_MAX_ERROR = 1;

/** gifenc's quantizer and palette mapping per frame (local colour tables, no transparency). */
function perFrame(frames: RgbaFrame[], o: GifOptions, g: typeof import('gifenc')): Uint8Array {
  const gif = g.GIFEncoder();
  frames.forEach((f, i) => {
    const palette = g.quantize(f.pixels, 256, { format: 'rgb565' });
    const index = g.applyPalette(f.pixels, palette, 'rgb565');
    gif.writeFrame(index, f.width, f.height, { palette, delay: delayOf(i, frames.length, o), repeat: o.loop });
  });
  gif.finish();
  return gif.bytes();
}

/** RGBA bytes as 32-bit words (the colour of pixel k is word k & 0xffffff; alpha ignored). */
function rgbWords(px: Uint8Array): Uint32Array {
  if (px.byteOffset % 4 === 0) return new Uint32Array(px.buffer, px.byteOffset, px.length >> 2);
  return new Uint32Array(Uint8Array.from(px).buffer);
}

/**
 * Exact 24-bit colours (open addressing on typed arrays): how many pixels have each, and, once
 * the palette is known, each colour's palette index. A run of equal pixels costs one lookup.
 */
export class ColourTable {
  private keys = new Int32Array(1 << 12); // colour + 1, 0 = empty
  private counts = new Float64Array(1 << 12);
  private index = new Uint8Array(1 << 12);
  size = 0;

  private slot(c: number): number {
    const mask = this.keys.length - 1;
    let h = Math.imul(c, 0x9e3779b1) >>> 20 & mask;
    for (;;) {
      const k = this.keys[h]!;
      if (k === c + 1 || k === 0) return h;
      h = (h + 1) & mask;
    }
  }

  private grow(): void {
    const { keys, counts } = this;
    this.keys = new Int32Array(keys.length * 2);
    this.counts = new Float64Array(keys.length * 2);
    this.index = new Uint8Array(keys.length * 2);
    for (let h = 0; h < keys.length; h++) {
      if (keys[h] === 0) continue;
      const s = this.slot(keys[h]! - 1);
      this.keys[s] = keys[h]!;
      this.counts[s] = counts[h]!;
    }
  }

  /** Adds the pixels of one frame to the histogram. */
  count(words: Uint32Array): void {
    let k = 0;
    while (k < words.length) {
      const c = words[k]! & 0xffffff;
      let run = 1;
      while (k + run < words.length && (words[k + run]! & 0xffffff) === c) run++;
      let h = this.slot(c);
      if (this.keys[h] === 0) {
        if (2 * (this.size + 1) > this.keys.length) { this.grow(); h = this.slot(c); }
        this.keys[h] = c + 1;
        this.size++;
      }
      this.counts[h] += run;
      k += run;
    }
  }

  /** Every colour with its pixel count, in a fixed order (most pixels first, then by colour). */
  entries(): { rgb: number; n: number }[] {
    const out: { rgb: number; n: number }[] = [];
    for (let h = 0; h < this.keys.length; h++) if (this.keys[h] !== 0) out.push({ rgb: this.keys[h]! - 1, n: this.counts[h]! });
    return out.sort((a, b) => b.n - a.n || a.rgb - b.rgb);
  }

  /** Maps every colour to its nearest palette entry (squared RGB distance; ties: the first). */
  assign(palette: number[][]): void {
    for (let h = 0; h < this.keys.length; h++) {
      if (this.keys[h] === 0) continue;
      const c = this.keys[h]! - 1;
      this.index[h] = nearest(c & 255, (c >> 8) & 255, (c >> 16) & 255, palette);
    }
  }

  /** Mean absolute error per channel over all counted pixels once assign(palette) has run. */
  meanError(palette: number[][]): number {
    let sum = 0, n = 0;
    for (let h = 0; h < this.keys.length; h++) {
      if (this.keys[h] === 0) continue;
      const c = this.keys[h]! - 1, p = palette[this.index[h]!]!;
      sum += this.counts[h]! * (Math.abs(p[0]! - (c & 255)) + Math.abs(p[1]! - ((c >> 8) & 255)) + Math.abs(p[2]! - ((c >> 16) & 255)));
      n += this.counts[h]!;
    }
    return n ? sum / n / 3 : 0;
  }

  /** Palette indices of one frame's pixels (every colour must have been counted). */
  map(words: Uint32Array, out: Uint8Array): void {
    let last = -1, li = 0;
    for (let k = 0; k < words.length; k++) {
      const c = words[k]! & 0xffffff;
      if (c !== last) {
        const h = this.slot(c);
        if (this.keys[h] === 0) throw new Error(`internal: colour #${c.toString(16)} was not counted`);
        last = c;
        li = this.index[h]!;
      }
      out[k] = li;
    }
  }
}

function nearest(r: number, g: number, b: number, palette: number[][]): number {
  let best = 0, bd = Infinity;
  for (let i = 0; i < palette.length; i++) {
    const p = palette[i]!;
    const d = (p[0]! - r) ** 2 + (p[1]! - g) ** 2 + (p[2]! - b) ** 2;
    if (d < bd) { bd = d; best = i; if (d === 0) break; }
  }
  return best;
}

/**
 * At most 255 colours (one palette slot stays free for transparency): the animation's own
 * colours when there are that few, else gifenc's quantizer (rgb565 bins) over an image holding
 * each colour in proportion to its pixels in the average frame (at least once).
 */
export function gifPalette(colours: ColourTable, nFrames: number, quantize: typeof import('gifenc').quantize): number[][] {
  const all = colours.entries();
  const rgb = (c: number) => [c & 255, (c >> 8) & 255, (c >> 16) & 255];
  if (all.length <= 255) return all.map((e) => rgb(e.rgb));
  const reps = all.map((e) => Math.max(1, Math.round(e.n / nFrames)));
  const img = new Uint32Array(reps.reduce((a, b) => a + b, 0));
  let o = 0;
  all.forEach((e, i) => { img.fill((0xff000000 | e.rgb) >>> 0, o, o + reps[i]!); o += reps[i]!; });
  return quantize(new Uint8Array(img.buffer), 255, { format: 'rgb565' });
}

const IMAGE_EXT = new Set(['.png', '.svg', '.jpg', '.jpeg']);

/** Image files of a frame source: a file, or the images of a directory sorted by name. */
export async function imageFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => IMAGE_EXT.has(extname(n).toLowerCase()));
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return names.map((n) => join(path, n));
}

/** Rasterizes an image file (PNG/JPEG/SVG) into a width × height frame (fitted, centred, white). */
export async function imageFrame(file: string, width: number, height: number): Promise<RgbaFrame> {
  const buf = await readFile(file);
  let svg: string;
  const head = buf.subarray(0, 256).toString('utf8').trimStart();
  if (head.startsWith('<svg') || head.startsWith('<?xml')) {
    svg = fitSvg(buf.toString('utf8'), width, height);
  } else {
    const mime = buf[0] === 0x89 && buf[1] === 0x50 ? 'image/png' : buf[0] === 0xff && buf[1] === 0xd8 ? 'image/jpeg' : '';
    if (!mime) throw new Error(`${file}: not a PNG, JPEG or SVG image`);
    svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
      `<rect width="${width}" height="${height}" fill="white"/>` +
      `<image width="${width}" height="${height}" preserveAspectRatio="xMidYMid meet" xlink:href="data:${mime};base64,${buf.toString('base64')}"/></svg>`;
  }
  const r = await rasterize(svg, width);
  if (r.height !== height) throw new Error(`internal: frame height ${r.height} != ${height}`);
  return { pixels: r.pixels, width: r.width, height: r.height };
}
