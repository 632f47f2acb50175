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

export async function encodeGif(frames: RgbaFrame[], o: GifOptions): Promise<Uint8Array> {
  if (frames.length === 0) throw new Error('animation has no frames');
  // gifenc is CommonJS for node (its ESM build is only named in "module", which node ignores)
  const mod = (await import('gifenc')) as typeof import('gifenc') & { default?: typeof import('gifenc') };
  const { GIFEncoder, quantize, applyPalette } = typeof mod.GIFEncoder === 'function' ? mod : mod.default!;
  const { width, height } = frames[0]!;
  const gif = GIFEncoder();
  const delay = Math.max(20, Math.round(1000 / o.fps));
  frames.forEach((f, i) => {
    if (f.width !== width || f.height !== height) throw new Error(`frame ${i} is ${f.width}×${f.height}, the first is ${width}×${height}`);
    const palette = quantize(f.pixels, 256, { format: 'rgb565' });
    const index = applyPalette(f.pixels, palette, 'rgb565');
    gif.writeFrame(index, width, height, { palette, delay: delay + (i === frames.length - 1 ? o.holdLastMs : 0), repeat: o.loop });
  });
  gif.finish();
  return gif.bytes();
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
