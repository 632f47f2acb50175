/**
 * NumPy's random generators, re-implemented from the published algorithms so a pipeline can draw
 * the numbers a NumPy seed script draws:
 *
 * * `NumpyGenerator` = `np.random.default_rng(seed)`: SeedSequence (O'Neill's seed_seq hash, pool
 *   of 4 words) → PCG64 (128-bit LCG, XSL-RR output); `random`, `normal` (256-strip ziggurat),
 *   `integers` (Lemire's nearly-divisionless method on 32-bit draws), `permutation`/`shuffle`
 *   (Fisher–Yates with masked rejection), `choice` (with replacement: `integers`; without: Floyd's
 *   algorithm with a hash set, or a tail shuffle for large draws; then a shuffle).
 * * `RandomState` = legacy `np.random.seed(s)` / `np.random.RandomState(s)`: MT19937 with Knuth's
 *   init_genrand seeding; `rand` (53-bit from two 32-bit draws), `randn` (Marsaglia's polar method
 *   with the cached second value), `randint` (masked rejection), `permutation`, `choice`.
 *
 * Bit-exactness (tested against NumPy itself in test/random/numpy.test.ts): every method, bit for
 * bit, where NumPy runs on the same C library:
 * - `normal`/`standardNormal` of the Generator: the ziggurat's strip widths are NumPy's, measured
 *   from its draws (scripts/derive-numpy-ziggurat.py) rather than copied from its source; the
 *   wedge and tail tests call libm's `exp` / `log1p` as NumPy does.
 * - legacy `randn`: NumPy takes libm's `log` of r²; glibc's log is not correctly rounded on
 *   ~0.1 % of arguments (V8's `Math.log` differs from it on ~7 %), so pipe calls the same libm
 *   (src/lib/random/libm.ts). Without a loadable libm, `crLog` (correctly rounded) stands in and
 *   ~0.1 % of randn pairs differ by 1–2 ulp.
 *
 * 128-bit arithmetic on 16-bit limbs held in doubles; no BigInt.
 */

import { KI_HIGH, KI_LOW, WI } from './numpy-ziggurat-tables.js';
import { libm } from './libm.js';

// ---------------------------------------------------------------------------------------------
// correctly rounded natural log (double-double evaluation, rounded once)

function twoSum(a: number, b: number): [number, number] {
  const s = a + b, bb = s - a;
  return [s, (a - (s - bb)) + (b - bb)];
}
const SPLIT = 134217729; // 2^27 + 1
function twoProd(a: number, b: number): [number, number] {
  const p = a * b;
  let t = SPLIT * a; const ah = t - (t - a), al = a - ah;
  t = SPLIT * b; const bh = t - (t - b), bl = b - bh;
  return [p, ((ah * bh - p) + ah * bl + al * bh) + al * bl];
}
function ddAdd(ah: number, al: number, bh: number, bl: number): [number, number] {
  const [s, e] = twoSum(ah, bh);
  const [t, f] = twoSum(al, bl);
  let [h, l] = twoSum(s, e + t);
  [h, l] = twoSum(h, l + f);
  return [h, l];
}
function ddMul(ah: number, al: number, bh: number, bl: number): [number, number] {
  const [p, e] = twoProd(ah, bh);
  return twoSum(p, e + (ah * bl + al * bh));
}
function ddDiv(ah: number, al: number, bh: number, bl: number): [number, number] {
  const q1 = ah / bh;
  let [ph, pl] = ddMul(q1, 0, bh, bl);
  let [rh, rl] = ddAdd(ah, al, -ph, -pl);
  const q2 = rh / bh;
  [ph, pl] = ddMul(q2, 0, bh, bl);
  [rh, rl] = ddAdd(rh, rl, -ph, -pl);
  const q3 = rh / bh;
  const [h, l] = twoSum(q1, q2);
  return ddAdd(h, l, q3, 0);
}
const LN2_HI = 0.6931471805599453, LN2_LO = 2.3190468138462996e-17;
const F64 = new Float64Array(1), U32 = new Uint32Array(F64.buffer);

/** ln(x) rounded to nearest from a ~100-bit evaluation: agrees with glibc's `log`. */
export function crLog(x: number): number {
  if (!(x > 0) || x === Infinity) return Math.log(x);
  if (x === 1) return 0;
  let e = 0;
  if (x < 2.2250738585072014e-308) { x *= 18014398509481984; e -= 54; } // subnormal: scale by 2^54
  F64[0] = x;
  const hiw = U32[1]!;
  e += ((hiw >>> 20) & 0x7ff) - 1023;
  U32[1] = (hiw & 0x000fffff) | 0x3ff00000; // m in [1, 2)
  let m = F64[0]!;
  if (m > Math.SQRT2) { m /= 2; e += 1; } // exact
  // s = (m - 1)/(m + 1); ln m = 2 atanh s = 2 (s + s³/3 + s⁵/5 + …)
  const num = m - 1; // exact (Sterbenz)
  const [dh, dl] = twoSum(m, 1);
  const [sh, sl] = ddDiv(num, 0, dh, dl);
  const [s2h, s2l] = ddMul(sh, sl, sh, sl);
  let [sumh, suml] = [sh, sl];
  let [th, tl] = [sh, sl];
  for (let k = 3; k < 200; k += 2) {
    [th, tl] = ddMul(th, tl, s2h, s2l);
    const [qh, ql] = ddDiv(th, tl, k, 0);
    if (Math.abs(qh) < 1e-36 * Math.abs(sumh) || qh === 0) break;
    [sumh, suml] = ddAdd(sumh, suml, qh, ql);
  }
  let [rh, rl] = [2 * sumh, 2 * suml];
  if (e !== 0) {
    const [ph, pl] = twoProd(e, LN2_HI);
    const [eh, el] = ddAdd(ph, pl, e * LN2_LO, 0);
    [rh, rl] = ddAdd(eh, el, rh, rl);
  }
  return rh + rl;
}

// ---------------------------------------------------------------------------------------------
// SeedSequence (entropy = one non-negative integer, no spawn key, pool size 4)

const INIT_A = 0x43b0d7e5, MULT_A = 0x931e8875, INIT_B = 0x8b51f9dd, MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd, MIX_MULT_R = 0x4973f715;

/** The seed as little-endian 32-bit words (0 → [0]). */
/** The C library's log / log1p / exp (what NumPy calls), or stand-ins where none loads. */
const M = libm(crLog);

function entropyWords(seed: number): number[] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`numpy seed must be a non-negative safe integer, got ${seed}`);
  if (seed === 0) return [0];
  const out: number[] = [];
  let n = seed;
  while (n > 0) { out.push(n % 4294967296); n = Math.floor(n / 4294967296); }
  return out;
}

export class SeedSequence {
  readonly pool = new Uint32Array(4);
  constructor(readonly entropy: number) {
    const words = entropyWords(entropy);
    let hashConst = INIT_A;
    const hashmix = (v: number): number => {
      v = (v ^ hashConst) >>> 0;
      hashConst = Math.imul(hashConst, MULT_A) >>> 0;
      v = Math.imul(v, hashConst) >>> 0;
      return (v ^ (v >>> 16)) >>> 0;
    };
    const mix = (x: number, y: number): number => {
      const r = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
      return (r ^ (r >>> 16)) >>> 0;
    };
    const pool = this.pool, n = pool.length;
    for (let i = 0; i < n; i++) pool[i] = hashmix(i < words.length ? words[i]! : 0);
    for (let src = 0; src < n; src++)
      for (let dst = 0; dst < n; dst++)
        if (src !== dst) pool[dst] = mix(pool[dst]!, hashmix(pool[src]!));
    for (let src = n; src < words.length; src++)
      for (let dst = 0; dst < n; dst++) pool[dst] = mix(pool[dst]!, hashmix(words[src]!));
  }
  /** `generate_state(nWords, uint32)`. */
  generateState32(nWords: number): Uint32Array {
    let hashConst = INIT_B;
    const out = new Uint32Array(nWords);
    for (let i = 0; i < nWords; i++) {
      let v = (this.pool[i % this.pool.length]! ^ hashConst) >>> 0;
      hashConst = Math.imul(hashConst, MULT_B) >>> 0;
      v = Math.imul(v, hashConst) >>> 0;
      out[i] = (v ^ (v >>> 16)) >>> 0;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// PCG64: state and increment as 8 little-endian 16-bit limbs each

// multiplier 0x2360ED051FC65DA4_4385DF649FCCF645
const MULT = [0xf645, 0x9fcc, 0xdf64, 0x4385, 0x5da4, 0x1fc6, 0xed05, 0x2360];

function limbsFrom64(hi: number, lo: number, out: number[], at: number): void {
  out[at] = lo & 0xffff; out[at + 1] = lo >>> 16; out[at + 2] = hi & 0xffff; out[at + 3] = hi >>> 16;
}

export class PCG64 {
  private s = new Array<number>(8).fill(0);
  private inc = new Array<number>(8).fill(0);
  private t = new Array<number>(8).fill(0);
  private hasU32 = false;
  private u32 = 0;
  /** The last 64-bit output, as halves. */
  hi = 0;
  lo = 0;

  /** The full generator state (128-bit state and increment, the buffered 32-bit half), plain data. */
  getState(): { s: number[]; inc: number[]; hasU32: boolean; u32: number; hi: number; lo: number } {
    return { s: [...this.s], inc: [...this.inc], hasU32: this.hasU32, u32: this.u32, hi: this.hi, lo: this.lo };
  }
  setState(st: ReturnType<PCG64['getState']>): void {
    this.s = [...st.s]; this.inc = [...st.inc]; this.hasU32 = st.hasU32; this.u32 = st.u32; this.hi = st.hi; this.lo = st.lo;
  }

  constructor(seed: number) {
    const st = new SeedSequence(seed).generateState32(8);
    // uint64 words w0..w3 (little-endian pairs); initstate = w0·2^64 + w1, initseq = w2·2^64 + w3
    const w = (k: number): [number, number] => [st[2 * k + 1]!, st[2 * k]!];
    const initstate = new Array<number>(8), initseq = new Array<number>(8);
    limbsFrom64(...w(1), initstate, 0); limbsFrom64(...w(0), initstate, 4);
    limbsFrom64(...w(3), initseq, 0); limbsFrom64(...w(2), initseq, 4);
    // inc = (initseq << 1) | 1
    let carry = 0;
    for (let i = 0; i < 8; i++) {
      const v = initseq[i]! * 2 + carry;
      this.inc[i] = v & 0xffff; carry = v >>> 16;
    }
    this.inc[0] |= 1;
    this.step();
    carry = 0;
    for (let i = 0; i < 8; i++) {
      const v = this.s[i]! + initstate[i]! + carry;
      this.s[i] = v & 0xffff; carry = v >>> 16;
    }
    this.step();
  }

  /** state ← state · MULT + inc (mod 2^128). */
  private step(): void {
    const s = this.s, t = this.t, inc = this.inc;
    for (let i = 0; i < 8; i++) t[i] = 0;
    // schoolbook product, column sums stay below 2^53
    let carry = 0;
    for (let k = 0; k < 8; k++) {
      let col = carry + inc[k]!;
      for (let i = 0; i <= k; i++) col += s[i]! * MULT[k - i]!;
      t[k] = col % 65536;
      carry = Math.floor(col / 65536);
    }
    for (let i = 0; i < 8; i++) s[i] = t[i]!;
  }

  /** Next 64-bit output into (hi, lo). */
  next64(): void {
    this.step();
    const s = this.s;
    // XSL-RR: x = high64 ^ low64, rotate right by the top 6 bits of the state
    const xhi = ((s[7]! << 16 | s[6]!) ^ (s[3]! << 16 | s[2]!)) >>> 0;
    const xlo = ((s[5]! << 16 | s[4]!) ^ (s[1]! << 16 | s[0]!)) >>> 0;
    const rot = s[7]! >>> 10;
    if (rot === 0) { this.hi = xhi; this.lo = xlo; return; }
    let a = xhi, b = xlo, r = rot;
    if (r >= 32) { a = xlo; b = xhi; r -= 32; }
    if (r === 0) { this.hi = a; this.lo = b; return; }
    this.hi = ((a >>> r) | (b << (32 - r))) >>> 0;
    this.lo = ((b >>> r) | (a << (32 - r))) >>> 0;
  }
  /** `next_uint32`: the low half of a 64-bit draw, the high half buffered for the next call. */
  next32(): number {
    if (this.hasU32) { this.hasU32 = false; return this.u32; }
    this.next64();
    this.hasU32 = true; this.u32 = this.hi;
    return this.lo;
  }
  /** `next_double`: (x >> 11) · 2^-53. */
  nextDouble(): number {
    this.next64();
    return (this.hi * 2097152 + (this.lo >>> 11)) * 1.1102230246251565e-16;
  }
}

// ---------------------------------------------------------------------------------------------
// ziggurat tables (256 strips) for the standard normal. The recurrence (Marsaglia & Tsang 2000)
// gives the acceptance bounds KI and the densities FI; the strip widths WI are NumPy's own,
// measured from its draws (numpy-ziggurat-tables.ts, scripts/derive-numpy-ziggurat.py): NumPy's
// literal tables differ from the recurrence in the last bits, and x = rabs · WI[i] must be
// NumPy's double exactly. KI is kept inside the bracket the measurement allows.

const ZIG_R = 3.6541528853610088;
const ZIG_INV_R = 1 / ZIG_R;
const ZIG_V = 0.0049286732339746549; // area of each strip: r·f(r) + ∫_r^∞ f (computed to 50 digits)
const TWO52 = 4503599627370496;
const KI = new Float64Array(256), FI = new Float64Array(256);
(() => {
  let x1 = ZIG_R;
  FI[255] = Math.exp(-0.5 * x1 * x1);
  KI[0] = Math.floor(x1 * FI[255]! / ZIG_V * TWO52);
  FI[0] = 1;
  for (let i = 254; i > 0; i--) {
    const x = Math.sqrt(-2 * crLog(ZIG_V / x1 + FI[i + 1]!));
    KI[i + 1] = Math.floor(x / x1 * TWO52);
    FI[i] = Math.exp(-0.5 * x * x);
    x1 = x;
  }
  KI[1] = 0;
  for (let i = 0; i < 256; i++) {
    if (KI[i]! <= KI_LOW[i]!) KI[i] = KI_LOW[i]! + 1;
    if (KI_HIGH[i]! >= 0 && KI[i]! > KI_HIGH[i]!) KI[i] = KI_HIGH[i]!;
  }
})();

/** Smallest 2^k − 1 ≥ v (v < 2^32). */
function mask32(v: number): number {
  let m = v >>> 0;
  m |= m >>> 1; m |= m >>> 2; m |= m >>> 4; m |= m >>> 8; m |= m >>> 16;
  return m >>> 0;
}

/** High and low 32 bits of a·b for unsigned 32-bit a, b. */
function mulHiLo32(a: number, b: number): [number, number] {
  const ah = a >>> 16, al = a & 0xffff;
  const t = ah * b + Math.floor((al * b) / 65536);
  return [Math.floor(t / 65536) >>> 0, Math.imul(a, b) >>> 0];
}

/** `np.random.default_rng(seed)`. */
/**
 * `random_interval(max)`, NumPy's masked rejection shared by the legacy and the new generators:
 * uniform in [0, max] from 32-bit draws (max < 2^32).
 */
function maskedInterval(g: { next32(): number }, max: number): number {
  if (max === 0) return 0;
  const mask = mask32(max);
  let v: number;
  while ((v = (g.next32() & mask) >>> 0) > max);
  return v;
}

/** Fisher–Yates from the end down to position `first`, each swap index by `maskedInterval` (both generators' `shuffle`). */
function shuffleMasked<T extends { length: number; [i: number]: number }>(g: { next32(): number }, a: T, first: number): T {
  for (let i = a.length - 1; i >= first; i--) {
    const j = maskedInterval(g, i);
    const t = a[i]!; a[i] = a[j]!; a[j] = t;
  }
  return a;
}

/** 0, 1, …, n−1 as float64 (NumPy's arange for permutation). */
function iota(n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

export class NumpyGenerator {
  readonly bitgen: PCG64;
  constructor(readonly seed: number) {
    this.bitgen = new PCG64(seed);
  }
  getState(): { seed: number; bitgen: ReturnType<PCG64['getState']> } { return { seed: this.seed, bitgen: this.bitgen.getState() }; }
  setState(st: ReturnType<NumpyGenerator['getState']>): void { this.bitgen.setState(st.bitgen); }
  /** `random()`: uniform [0, 1). */
  random(): number {
    return this.bitgen.nextDouble();
  }
  /** `standard_normal()` (ziggurat). */
  standardNormal(): number {
    const g = this.bitgen;
    for (;;) {
      g.next64();
      const hi = g.hi, lo = g.lo;
      const idx = lo & 0xff;
      const sign = (lo >>> 8) & 1;
      const rabs = (hi & 0x1fffffff) * 8388608 + (lo >>> 9);
      let x = rabs * WI[idx]!;
      if (sign) x = -x;
      if (rabs < KI[idx]!) return x;
      if (idx === 0) {
        for (;;) {
          // NumPy calls libm's log1p here
          const xx = -ZIG_INV_R * M.log1p(-g.nextDouble());
          const yy = -M.log1p(-g.nextDouble());
          if (yy + yy > xx * xx) return ((lo >>> 17) & 1) ? -(ZIG_R + xx) : ZIG_R + xx;
        }
      } else if ((FI[idx - 1]! - FI[idx]!) * g.nextDouble() + FI[idx]! < M.exp(-0.5 * x * x)) {
        return x;
      }
    }
  }
  /** `normal(loc, scale)`. */
  normal(loc = 0, scale = 1): number {
    return loc + scale * this.standardNormal();
  }
  /** `integers(low, high)`: uniform in [low, high); high − low ≤ 2^32. */
  integers(low: number, high: number): number {
    const rng = high - 1 - low;
    if (!(rng >= 0)) throw new Error(`integers: low >= high (${low}, ${high})`);
    if (rng > 0xffffffff) throw new Error('integers: ranges above 2^32 are not implemented');
    return low + this.boundedU32(rng);
  }
  /** Uniform in [0, rng] by Lemire's method (rng ≤ 2^32 − 1). */
  private boundedU32(rng: number): number {
    if (rng === 0) return 0;
    const g = this.bitgen;
    if (rng === 0xffffffff) return g.next32();
    const excl = rng + 1;
    let [mh, ml] = mulHiLo32(g.next32(), excl);
    if (ml < excl) {
      const threshold = (4294967296 - excl) % excl;
      while (ml < threshold) [mh, ml] = mulHiLo32(g.next32(), excl);
    }
    return mh;
  }
  /** `shuffle(a)` of a 1-D array, in place, positions first..n−1. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T, first = 1): T {
    return shuffleMasked(this.bitgen, a, first);
  }
  /** `permutation(n)`. */
  permutation(n: number): Float64Array {
    return this.shuffle(iota(n));
  }
  /** `_shuffle_int` (used inside `choice`): like `shuffle` but each index by Lemire's method. */
  private shuffleInt(a: Float64Array, first: number): void {
    for (let i = a.length - 1; i >= first; i--) {
      const j = this.boundedU32(i);
      const t = a[i]!; a[i] = a[j]!; a[j] = t;
    }
  }
  /** `choice(n, size, replace)` of indices 0..n−1 (no `p`). */
  choice(n: number, size: number, replace = true): Float64Array {
    const out = new Float64Array(size);
    if (replace) {
      for (let i = 0; i < size; i++) out[i] = this.integers(0, n);
      return out;
    }
    if (size > n) throw new Error('choice: cannot take a larger sample than the population without replacement');
    if (n > 10000 && size > Math.floor(n / 50)) {
      const idx = new Float64Array(n);
      for (let i = 0; i < n; i++) idx[i] = i;
      this.shuffleInt(idx, Math.max(n - size, 1));
      out.set(idx.subarray(n - size));
      return out;
    }
    // Floyd's algorithm with an open-addressing hash set
    const mask = mask32(Math.floor(1.2 * size));
    const set = new Float64Array(mask + 1).fill(-1);
    for (let j = n - size; j < n; j++) {
      const val = this.boundedU32(j);
      let loc = val & mask;
      while (set[loc] !== -1 && set[loc] !== val) loc = (loc + 1) & mask;
      if (set[loc] === -1) { set[loc] = val; out[j - n + size] = val; }
      else {
        loc = j & mask;
        while (set[loc] !== -1) loc = (loc + 1) & mask;
        set[loc] = j; out[j - n + size] = j;
      }
    }
    this.shuffleInt(out, 1);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// MT19937 and the legacy RandomState

export class MT19937 {
  private mt = new Uint32Array(624);
  private pos = 624;
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`legacy seed must be in [0, 2^32), got ${seed}`);
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const p = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = (Math.imul(1812433253, p) + i) >>> 0;
    }
  }
  getState(): { mt: number[]; pos: number } {
    return { mt: Array.from(this.mt), pos: this.pos };
  }
  setState(st: { mt: number[]; pos: number }): void {
    this.mt.set(st.mt); this.pos = st.pos;
  }
  private generate(): void {
    const mt = this.mt;
    for (let i = 0; i < 624; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[(i + 1) % 624]! & 0x7fffffff);
      mt[i] = mt[(i + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.pos = 0;
  }
  next32(): number {
    if (this.pos >= 624) this.generate();
    let y = this.mt[this.pos++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
  nextDouble(): number {
    const a = this.next32() >>> 5, b = this.next32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }
}

/** Legacy `np.random.RandomState(seed)` (also what `np.random.seed(seed)` sets up). */
export class RandomState {
  readonly bitgen: MT19937;
  private gauss: number | null = null;
  constructor(readonly seed: number) {
    this.bitgen = new MT19937(seed);
  }
  getState(): { seed: number; bitgen: ReturnType<MT19937['getState']>; gauss: number | null } { return { seed: this.seed, bitgen: this.bitgen.getState(), gauss: this.gauss }; }
  setState(st: ReturnType<RandomState['getState']>): void { this.bitgen.setState(st.bitgen); this.gauss = st.gauss; }
  /** `rand()` / `random_sample()`. */
  rand(): number {
    return this.bitgen.nextDouble();
  }
  /** `randn()` / `standard_normal()`: polar Box–Muller, second value cached. */
  randn(): number {
    if (this.gauss !== null) { const g = this.gauss; this.gauss = null; return g; }
    let x1: number, x2: number, r2: number;
    do {
      x1 = 2 * this.bitgen.nextDouble() - 1;
      x2 = 2 * this.bitgen.nextDouble() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt(-2 * M.log(r2) / r2);
    this.gauss = f * x1;
    return f * x2;
  }
  /** `normal(loc, scale)`. */
  normal(loc = 0, scale = 1): number {
    return loc + scale * this.randn();
  }
  /** `randint(low, high)`: uniform in [low, high) by masked rejection (high − low ≤ 2^32). */
  randint(low: number, high: number): number {
    const rng = high - 1 - low;
    if (!(rng >= 0)) throw new Error(`randint: low >= high (${low}, ${high})`);
    if (rng > 0xffffffff) throw new Error('randint: ranges above 2^32 are not implemented');
    if (rng === 0) return low;
    const mask = mask32(rng);
    let v: number;
    while ((v = (this.bitgen.next32() & mask) >>> 0) > rng);
    return low + v;
  }
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    return shuffleMasked(this.bitgen, a, 1);
  }
  permutation(n: number): Float64Array {
    return this.shuffle(iota(n));
  }
  /** `choice(n, size, replace)` (no `p`). */
  choice(n: number, size: number, replace = true): Float64Array {
    if (replace) {
      const out = new Float64Array(size);
      for (let i = 0; i < size; i++) out[i] = this.randint(0, n);
      return out;
    }
    if (size > n) throw new Error('choice: cannot take a larger sample than the population without replacement');
    return this.permutation(n).slice(0, size);
  }
}
