/**
 * Seeded, deterministic random numbers for stages (pure-rand's xoroshiro128+, its state filled from
 * the seed by SplitMix64).
 * Same seed → same stream on every machine; `fork(label)` gives an independent stream
 * (e.g. one per fold) without consuming this one.
 */
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { createHash } from 'node:crypto';
import { xoroshiroState } from './seed-mix.js';

type Gen = ReturnType<typeof xoroshiro128plusFromState>;

/** The complete state of an `Rng` (plain data: JSON- and structured-clone-safe), for resume checkpoints. */
export interface RngState { seed: number; gen: number[]; spareNormal: number | null }

export class Rng {
  private gen: Gen;
  private spareNormal: number | null = null;
  constructor(readonly seed: number) {
    // the seed goes through SplitMix64 (src/sdk/seed-mix.ts): nearby seeds, independent streams
    this.gen = xoroshiro128plusFromState(xoroshiroState(seed | 0));
  }
  /** Uniform in [0, 1). */
  random(): number {
    return uniformFloat64(this.gen);
  }
  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.random();
  }
  /** Uniform integer in [lo, hi] (both included). */
  int(lo: number, hi: number): number {
    return uniformInt(this.gen, lo, hi);
  }
  /** Standard normal (Box–Muller, caches the second value). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }
  bernoulli(p: number): boolean {
    return this.random() < p;
  }
  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(a: T[] | Int32Array | Float64Array | Uint32Array): typeof a {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }
  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }
  /** Everything needed to continue this stream exactly where it is (`setState`). */
  getState(): RngState {
    return { seed: this.seed, gen: [...this.gen.getState()], spareNormal: this.spareNormal };
  }
  /** Continue from a state taken by `getState` (of a stream with the same seed). */
  setState(s: RngState): void {
    if (s.seed !== this.seed) throw new Error(`rng state is of seed ${s.seed}, this stream's seed is ${this.seed}`);
    this.gen = xoroshiro128plusFromState(s.gen);
    this.spareNormal = s.spareNormal;
  }
  /** An independent stream derived from this seed and a label; does not advance this one. */
  fork(label: string | number): Rng {
    const h = createHash('sha256').update(`${this.seed}\u0000${label}`).digest();
    return new Rng(h.readInt32LE(0));
  }
}
