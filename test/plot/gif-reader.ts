import { expect } from 'vitest';

/** Minimal GIF reader: screen size, loop extension, and per frame its delay and image bytes. */
export function parseGif(buf: Buffer) {
  expect(buf.subarray(0, 6).toString('latin1')).toBe('GIF89a');
  const width = buf.readUInt16LE(6);
  const height = buf.readUInt16LE(8);
  let p = 13;
  const packed = buf[10]!;
  if (packed & 0x80) p += 3 * 2 ** ((packed & 7) + 1);
  const frames: { delayCs: number; data: Buffer; w: number; h: number }[] = [];
  let loop: number | undefined;
  let delay = 0;
  const subBlocks = () => {
    const parts: Buffer[] = [];
    while (buf[p] !== 0) { const n = buf[p]!; parts.push(buf.subarray(p + 1, p + 1 + n)); p += n + 1; }
    p++;
    return Buffer.concat(parts);
  };
  for (;;) {
    const b = buf[p++];
    if (b === 0x3b) break;
    if (b === 0x21) {
      const label = buf[p++];
      const body = subBlocks();
      if (label === 0xf9) delay = body.readUInt16LE(1);
      if (label === 0xff && body.subarray(0, 11).toString('latin1') === 'NETSCAPE2.0') loop = body.readUInt16LE(12);
    } else if (b === 0x2c) {
      const w = buf.readUInt16LE(p + 4), h = buf.readUInt16LE(p + 6);
      const lp = buf[p + 8]!;
      p += 9;
      if (lp & 0x80) p += 3 * 2 ** ((lp & 7) + 1);
      p++; // LZW minimum code size
      frames.push({ delayCs: delay, data: subBlocks(), w, h });
    } else {
      throw new Error(`bad GIF block 0x${b?.toString(16)} at ${p - 1}`);
    }
  }
  return { width, height, loop, frames };
}
