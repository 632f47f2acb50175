/**
 * Seed mixing: a user seed (any integer, often 0, 1, 2, … or 42) becomes generator state through
 * SplitMix64 (Steele, Lea & Flood 2014; the seeding step Vigna recommends for the xoroshiro family),
 * so nearby seeds start from unrelated states. Without it, xoroshiro128+ seeded straight from the
 * integer starts almost all zero bits and its first outputs for seeds 0, 1, 2, … are nearly equal.
 *
 * 64-bit arithmetic on 32-bit halves (Math.imul), no BigInt.
 */

/** 64-bit value as [hi, lo], both unsigned 32-bit. */
export type U64 = [number, number];

function add64(a: U64, bHi: number, bLo: number): U64 {
  const lo = (a[1] + bLo) >>> 0;
  const carry = lo < a[1] ? 1 : 0;
  return [(a[0] + bHi + carry) >>> 0, lo];
}

/** (a · b) mod 2^64 for unsigned 64-bit a, b given as halves. */
export function mul64(aHi: number, aLo: number, bHi: number, bLo: number): U64 {
  // low 32 × low 32 → 64 bits exactly, via 16-bit pieces
  const a0 = aLo & 0xffff, a1 = aLo >>> 16, b0 = bLo & 0xffff, b1 = bLo >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const lo = ((mid & 0xffff) << 16 | (p00 & 0xffff)) >>> 0;
  const hiFromLo = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  const hi = (hiFromLo + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) >>> 0;
  return [hi, lo];
}

function xorShr64(a: U64, s: number): U64 {
  // a ^ (a >>> s) for 0 < s < 32
  return [(a[0] ^ (a[0] >>> s)) >>> 0, (a[1] ^ ((a[1] >>> s) | (a[0] << (32 - s)))) >>> 0];
}

/**
 * SplitMix64 stream from a seed: returns `n` successive 64-bit outputs as [hi, lo] pairs.
 * The seed may be any safe integer (negative seeds are taken modulo 2^64).
 */
export function splitmix64(seed: number, n: number): U64[] {
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);
  const neg = seed < 0;
  const mag = Math.abs(seed);
  let hi = Math.floor(mag / 4294967296) >>> 0, lo = mag >>> 0;
  if (neg) { lo = (~lo + 1) >>> 0; hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0; }
  let state: U64 = [hi, lo];
  const out: U64[] = [];
  for (let i = 0; i < n; i++) {
    state = add64(state, 0x9e3779b9, 0x7f4a7c15);
    let z: U64 = state;
    z = xorShr64(z, 30); z = mul64(z[0], z[1], 0xbf58476d, 0x1ce4e5b9);
    z = xorShr64(z, 27); z = mul64(z[0], z[1], 0x94d049bb, 0x133111eb);
    // z ^ (z >>> 31)
    z = xorShr64(z, 31);
    out.push(z);
  }
  return out;
}

/**
 * State of pure-rand's xoroshiro128+ (its four 32-bit words, in `getState()` order) from a seed
 * through SplitMix64. Never all zero (SplitMix64 is a bijection of its counter, and the two outputs
 * come from consecutive counters, so at most one of them can be zero).
 */
export function xoroshiroState(seed: number): [number, number, number, number] {
  const [a, b] = splitmix64(seed, 2) as [U64, U64];
  // pure-rand order: s01 (high of s0), s00 (low of s0), s11, s10
  return [a[0] | 0, a[1] | 0, b[0] | 0, b[1] | 0];
}
