/**
 * Test helper: decodes the frames of a GIF (a local or global palette, no interlace) into the
 * RGBA pictures a viewer shows: each frame drawn over the previous one, its transparent pixels
 * (graphic control extension) leaving the previous picture, disposal 2 clearing the frame's
 * area afterwards. Also writes RGBA as a PNG — so a test (or a person) can look at a frame.
 */
import { deflateSync } from 'node:zlib';

/** `transparent[i]`: how many of frame i's pixels are transparent (show the previous picture). */
export function decodeGif(buf: Buffer): { width: number; height: number; frames: Uint8Array[]; transparent: number[] } {
  const width = buf.readUInt16LE(6), height = buf.readUInt16LE(8);
  let p = 13;
  let global: Buffer | null = null;
  if (buf[10]! & 0x80) { const n = 3 * 2 ** ((buf[10]! & 7) + 1); global = buf.subarray(p, p + n); p += n; }
  const frames: Uint8Array[] = [];
  const seeThrough: number[] = [];
  let canvas = new Uint8Array(width * height * 4);
  let transparent = -1, disposal = 0;
  const blocks = () => { const parts: Buffer[] = []; while (buf[p] !== 0) { const n = buf[p]!; parts.push(buf.subarray(p + 1, p + 1 + n)); p += n + 1; } p++; return Buffer.concat(parts); };
  for (;;) {
    const b = buf[p++];
    if (b === 0x3b || b === undefined) break;
    if (b === 0x21) {
      const label = buf[p++];
      const body = blocks();
      if (label === 0xf9) { transparent = body[0]! & 1 ? body[3]! : -1; disposal = (body[0]! >> 2) & 7; }
      continue;
    }
    if (b !== 0x2c) throw new Error(`bad GIF block 0x${b.toString(16)}`);
    const fx = buf.readUInt16LE(p), fy = buf.readUInt16LE(p + 2), w = buf.readUInt16LE(p + 4), h = buf.readUInt16LE(p + 6), lp = buf[p + 8]!;
    p += 9;
    let pal = global;
    if (lp & 0x80) { const n = 3 * 2 ** ((lp & 7) + 1); pal = buf.subarray(p, p + n); p += n; }
    if (lp & 0x40) throw new Error('interlaced GIF frames are not supported');
    const minCode = buf[p++]!;
    const idx = lzw(blocks(), minCode, w * h);
    const out = Uint8Array.from(canvas);
    let clear = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const i = idx[y * w + x]!, o = ((y + fy) * width + x + fx) * 4;
      if (i === transparent) { clear++; continue; }
      out[o] = pal![i * 3]!; out[o + 1] = pal![i * 3 + 1]!; out[o + 2] = pal![i * 3 + 2]!; out[o + 3] = 255;
    }
    frames.push(out);
    seeThrough.push(clear);
    canvas = out;
    if (disposal === 2) {
      canvas = Uint8Array.from(out);
      for (let y = 0; y < h; y++) canvas.fill(0, ((y + fy) * width + fx) * 4, ((y + fy) * width + fx + w) * 4);
    }
    transparent = -1; disposal = 0;
  }
  return { width, height, frames, transparent: seeThrough };
}

function lzw(data: Buffer, minCode: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const clear = 1 << minCode, end = clear + 1;
  let size = minCode + 1, next = end + 1, prev = -1, o = 0, bits = 0, acc = 0, pos = 0;
  const prefix = new Int32Array(4096), suffix = new Uint8Array(4096), first = new Uint8Array(4096), len = new Int32Array(4096);
  for (let i = 0; i < clear; i++) { prefix[i] = -1; suffix[i] = i; first[i] = i; len[i] = 1; }
  const emit = (code: number) => {
    const l = len[code]!;
    let c = code;
    for (let k = l - 1; k >= 0; k--) { if (o + k < n) out[o + k] = suffix[c]!; c = prefix[c]!; }
    o += l;
  };
  while (o < n) {
    while (bits < size && pos < data.length) { acc |= data[pos++]! << bits; bits += 8; }
    if (bits < size) break;
    const code = acc & ((1 << size) - 1);
    acc >>= size; bits -= size;
    if (code === clear) { size = minCode + 1; next = end + 1; prev = -1; continue; }
    if (code === end) break;
    if (prev === -1) { emit(code); prev = code; continue; }
    const known = code < next;
    const f = known ? first[code]! : first[prev]!;
    if (next < 4096) { prefix[next] = prev; suffix[next] = f; first[next] = first[prev]!; len[next] = len[prev]! + 1; next++; }
    emit(known ? code : next - 1);
    prev = code;
    if (next === 1 << size && size < 12) size++;
  }
  return out;
}

const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc = (b: Buffer) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };

export function rgbaToPng(rgba: Uint8Array, width: number, height: number): Buffer {
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) { raw[y * (width * 4 + 1)] = 0; Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1); }
  const chunk = (type: string, data: Buffer) => { const t = Buffer.from(type, 'latin1'); const l = Buffer.alloc(4); l.writeUInt32BE(data.length); const c = Buffer.alloc(4); c.writeUInt32BE(crc(Buffer.concat([t, data]))); return Buffer.concat([l, t, data, c]); };
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4); ihdr[8] = 8; ihdr[9] = 6;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
